// The one reader of a raster source's facts (size, dtype, bands, palette, blocks, overviews,
// compression), used by RasterSource (raster/raster_source.h) and by the COG writer
// (raster/cog_writer.h). It also decides which sources ndsampler supports. Pure C++, any thread;
// the caller owns the dataset for the call.
#pragma once
#include <gdal.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"

namespace nds {

struct SourceFacts {
  int64_t H = 0, W = 0, C = 0;  // C counts expanded channels for palette images
  DType dtype = DType::U8;      // what reads deliver (U8 for palettes; I8 for SIGNEDBYTE)
  GDALDataType gdt = GDT_Byte;  // the type of the file's bands (Byte for SIGNEDBYTE int8)
  int bands = 0;                // bands in the file (1 for a palette image)
  std::string driver;           // GDAL's short name, "" when unknown
  std::string compression;      // empty when GDAL reports none
  int predictor = 0;            // TIFF predictor (2 horizontal, 3 floating point), 0: none
  bool palette = false;         // one band of indices into an RGB(A) or gray color table
  std::vector<uint8_t> lut;     // palette: C bytes per entry
  int lutEntries = 0;
  int blockH = 0, blockW = 0;
  bool tiled = false;                                  // a tiled GeoTIFF (blocks narrower than the image)
  std::vector<std::pair<int64_t, int64_t>> overviews;  // [height, width] per level
};

// Reads the facts of `ds` (opened from `path`). Throws CodedError ERR_GDAL_UNSUPPORTED
// ("cannot read '<path>': ...") for sources ndsampler does not serve: no bands, bands of
// different types, a data type outside the eight dtypes, a palette that is not RGB or gray or
// whose indices are not Byte or UInt16.
SourceFacts ReadSourceFacts(GDALDatasetH ds, const std::string& path);

}  // namespace nds
