// writeRaster: an HWC array to an image file with any GDAL driver (PNG, GTiff, JPEG, ...).
#pragma once
#include <napi.h>

namespace nds {

// writeRaster(path, data, desc {shape, strides, offset, dtype}, driver, creationOptions[]):
// JS thread, synchronous. Copies the strided array into a MEM dataset and CreateCopy's it with
// `driver` (strictly: a driver that cannot hold the data type fails instead of converting it),
// published through WriteWithGdal (raster/gdal_output.h).
Napi::Value WriteRasterJs(const Napi::CallbackInfo& info);

}  // namespace nds
