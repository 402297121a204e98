// GDAL start-up and what this GDAL build offers.
#pragma once
#include <napi.h>

namespace nds {

// Registers GDAL's drivers once per process (std::call_once). Any thread; every entry point that
// reaches GDAL calls it first.
void EnsureGdal();

// gdalVersion(): GDAL's release name. JS thread.
Napi::Value GdalVersionJs(const Napi::CallbackInfo& info);
// hasDriver(name): whether this GDAL has the driver. JS thread.
Napi::Value HasDriverJs(const Napi::CallbackInfo& info);

}  // namespace nds
