// Whole-source conversion of any GDAL-readable raster to an npy file.
#pragma once
#include <napi.h>

#include <string>

#include "raster/raster_env.h"

namespace nds {

// Decodes all of `src` (palettes expanded, as RasterReader reads it) into an HWC array and
// publishes it as an npy file at `dst` (npy/npy_writer.h WriteNpyFile). Pure C++: the JS thread
// (convertToNpy) or a libuv pool thread (convertToNpyAsync); `env` is held by value by the job.
void ConvertToNpy(const std::string& src, const std::string& dst, const RasterEnv& env);

// convertToNpy(src, dst) / convertToNpyAsync(src, dst): JS thread.
Napi::Value ConvertToNpyJs(const Napi::CallbackInfo& info);
Napi::Value ConvertToNpyAsyncJs(const Napi::CallbackInfo& info);

}  // namespace nds
