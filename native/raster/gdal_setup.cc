// GDAL start-up (once per process) and gdalVersion / hasDriver.
#include "raster/gdal_setup.h"

#include <gdal.h>

#include <mutex>
#include <string>

#include "core/args.h"

namespace nds {

void EnsureGdal() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

Napi::Value GdalVersionJs(const Napi::CallbackInfo& info) {
  EnsureGdal();
  return Napi::String::New(info.Env(), GDALVersionInfo("RELEASE_NAME"));
}

Napi::Value HasDriverJs(const Napi::CallbackInfo& info) {
  const std::string name = StringArg(info, 0, "driver name");
  EnsureGdal();
  return Napi::Boolean::New(info.Env(), GDALGetDriverByName(name.c_str()) != nullptr);
}

}  // namespace nds
