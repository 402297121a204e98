// Cloud-Optimized GeoTIFF detection: of an open dataset (RasterSource), of a file (isCog).
#pragma once
#include <gdal.h>
#include <napi.h>

#include <string>

namespace nds {

// True when `ds` (opened from `path`) is a GeoTIFF laid out as GDAL's
// validate_cloud_optimized_geotiff.py requires, and tiled (see the .cc for the exact rules).
// Never throws; GDAL errors raised while inspecting make the answer false.
// Pure C++, any thread; the caller owns `ds` for the call.
bool IsCogDataset(GDALDatasetH ds, const std::string& path);

// True when `path` is a COG; false for anything GDAL's GTiff driver does not open. Throws
// ERR_SOURCE_MISSING / ERR_NOT_A_FILE. Pure C++, any thread.
bool IsCogFile(const std::string& path);

// isCog(path): JS thread.
Napi::Value IsCogJs(const Napi::CallbackInfo& info);

}  // namespace nds
