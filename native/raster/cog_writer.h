// COG writing. WriteCog is pure C++ and runs on the JS thread (writeCog) or a libuv pool thread
// (writeCogAsync); the JS entry points turn their options object into a CogOptions on the JS
// thread.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nds {

struct CogOptions {
  std::string compress = "AUTO";  // AUTO or a COMPRESS value of GDAL's COG driver
  int blocksize = 256;
  bool overviews = true;            // false: OVERVIEWS=NONE
  int overviewCount = 0;            // 0: GDAL's automatic count
  std::string resampling = "AUTO";  // AUTO: NEAREST for integer data, AVERAGE for floats
  int level = -1;                   // -1: codec default
  int quality = -1;                 // -1: codec default
  std::string predictor = "AUTO";   // AUTO, NO, STANDARD, FLOATING_POINT, YES
  int numThreads = 0;               // 0: ALL_CPUS
  // Dataset metadata items written into the COG's header (GDAL_METADATA tag), e.g. the identity
  // a cache entry carries (lib/cache/entry.ts): NDSAMPLER_ENTRY, NDSAMPLER_SRC.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Writes `src` as a COG at `dst`: GDAL's COG driver into a temporary file in dst's directory,
// fsync, rename (raster/gdal_output.h WriteWithGdal). On failure the temporary files are
// removed and dst is untouched.
// The 'auto' choices (measured; docs/cache-format.md): compress AUTO is ZSTD, exact for every
// source, JPEGs included (GDAL 3.6's lossless copy of a JPEG's coefficients breaks at tile edges
// of chroma-subsampled JPEGs and writes tiles without the COG block leaders, so it is not used). For that ZSTD, whether
// the data are piecewise constant (label-like: at least half of the horizontally adjacent pixels in a sample of rows
// are equal) decides the rest: continuous-tone data get level 1 and the predictor (2 for integers, 3 for floats);
// piecewise-constant data get level 9 and no predictor. A codec named explicitly gets no predictor unless one is asked
// for. Overview resampling AUTO is NEAREST for integer data (never invents a value) and AVERAGE for floating point.
void WriteCog(const std::string& src, const std::string& dst, const CogOptions& opts, int64_t pixelLimit);

// writeCog(src, dst, options) / writeCogAsync(src, dst, options): JS thread.
Napi::Value WriteCogJs(const Napi::CallbackInfo& info);
Napi::Value WriteCogAsyncJs(const Napi::CallbackInfo& info);

}  // namespace nds
