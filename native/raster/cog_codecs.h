// The COMPRESS values GDAL's COG driver offers in this build.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

namespace nds {

// Any thread. Empty when GDAL has no COG driver.
std::vector<std::string> CogCompressions();

// cogCompressions(): JS thread.
Napi::Value CogCompressionsJs(const Napi::CallbackInfo& info);

}  // namespace nds
