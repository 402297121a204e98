// Cloud-Optimized GeoTIFF detection. Pure C++, any thread; the caller owns `ds` for the call.
#pragma once
#include <gdal.h>

#include <string>

namespace nds {

// True when `ds` (opened from `path`) is a GeoTIFF laid out as GDAL's
// validate_cloud_optimized_geotiff.py requires, and tiled (see the .cc for the exact rules).
// Never throws; GDAL errors raised while inspecting make the answer false.
bool IsCogDataset(GDALDatasetH ds, const std::string& path);

}  // namespace nds
