// COG writing, whole-source conversion to npy, COG detection and small raster writes.
// Functions only (no JS class). The Write*/Convert* functions are pure C++ and run on the JS
// thread (sync variants) or a libuv pool thread (async variants); InitCog registers the JS
// entry points, which turn their option objects into the structs below on the JS thread.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "raster_source.h"

namespace nds {

struct CogOptions {
  std::string compress = "AUTO";    // AUTO or a COMPRESS value of GDAL's COG driver
  int blocksize = 256;
  bool overviews = true;            // false: OVERVIEWS=NONE
  int overviewCount = 0;            // 0: GDAL's automatic count
  std::string resampling = "AUTO";  // AUTO: NEAREST for integer data, AVERAGE for floats
  int level = -1;                   // -1: codec default
  int quality = -1;                 // -1: codec default (AUTO keeping JPEG: 90)
  std::string predictor = "AUTO";   // AUTO, NO, STANDARD, FLOATING_POINT, YES
  int numThreads = 0;               // 0: ALL_CPUS
};

// Writes `src` as a COG at `dst`: GDAL's COG driver into a temporary file in dst's directory,
// fsync, rename. On failure the temporary files are removed and dst is untouched.
// The 'auto' choices (measured; docs/cache-format.md): compress AUTO is JPEG (quality 90) for
// 8-bit 1- or 3-band JPEG sources and ZSTD otherwise. For that ZSTD, whether the data are
// piecewise constant (label-like: at least half of the horizontally adjacent pixels in a sample
// of rows are equal) decides the rest: continuous-tone data get level 1 and the predictor (2 for
// integers, 3 for floats); piecewise-constant data get level 9 and no predictor. A codec named
// explicitly gets no predictor unless one is asked for. Overview resampling AUTO is NEAREST for
// integer data (never invents a value) and AVERAGE for floating point.
void WriteCog(const std::string& src, const std::string& dst, const CogOptions& opts);

// Decodes all of `src` into an HWC array and writes it atomically as an npy file at `dst`.
void ConvertToNpy(const std::string& src, const std::string& dst, const RasterEnv& env);

// True when `path` is a Cloud-Optimized GeoTIFF (cog_detect.h); false for anything GDAL's
// GTiff driver does not open. Throws ERR_SOURCE_MISSING / ERR_NOT_A_FILE.
bool IsCogFile(const std::string& path);

// The COMPRESS values GDAL's COG driver offers here.
std::vector<std::string> CogCompressions();

void InitCog(Napi::Env env, Napi::Object exports);

}  // namespace nds
