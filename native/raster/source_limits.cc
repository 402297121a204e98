// CheckDatasetFiles and CheckDecodeCost. Any thread.
#include "raster/source_limits.h"

#include <cpl_string.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/dtype.h"
#include "core/errors.h"
#include "raster/gdal_error_scope.h"
#include "raster/open_dataset.h"
#include "raster/path_checks.h"

namespace nds {

namespace {

constexpr int kMaxVrtDepth = 8;
constexpr int64_t kMaxCountedBlocks = int64_t{1} << 22;

int64_t CheckFiles(GDALDatasetH ds, const std::string& path, int depth) {
  char** files = GDALGetFileList(ds);
  int64_t total = 0;
  for (char** f = files; f != nullptr && *f != nullptr; ++f) {
    const std::string file = *f;
    if (IsVirtualPath(file)) continue;
    try {
      total += CheckSourceFile(file);
    } catch (...) {
      CSLDestroy(files);
      throw;
    }
    if (file == path || depth >= kMaxVrtDepth) continue;
    GdalErrorScope scope;
    GDALDriverH drv = GDALIdentifyDriver(file.c_str(), nullptr);
    if (drv == nullptr || std::string(GDALGetDriverShortName(drv)) != "VRT") continue;
    // A VRT among the sources: its own sources are opened lazily too.
    const char* const vrt[] = {"VRT", nullptr};
    ScopedDataset inner(GDALOpenEx(file.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, vrt, nullptr, nullptr));
    if (inner.get() == nullptr) continue;  // GDAL reports it when the outer one reads it
    try {
      total += CheckFiles(inner.get(), file, depth + 1);
    } catch (...) {
      CSLDestroy(files);
      throw;
    }
  }
  CSLDestroy(files);
  return total;
}

// Decoded bytes of the blocks of a GeoTIFF that have data (band 1's blocks; x C).
int64_t PresentBlockBytes(GDALDatasetH ds, const SourceFacts& f, int64_t blockBytes) {
  const int64_t nx = (f.W + f.blockW - 1) / f.blockW, ny = (f.H + f.blockH - 1) / f.blockH;
  if (nx * ny > kMaxCountedBlocks) return -1;
  GDALRasterBandH b1 = GDALGetRasterBand(ds, 1);
  GdalErrorScope scope;
  int64_t present = 0;
  char key[64];
  for (int64_t y = 0; y < ny; ++y) {
    for (int64_t x = 0; x < nx; ++x) {
      std::snprintf(key, sizeof(key), "BLOCK_SIZE_%lld_%lld", static_cast<long long>(x), static_cast<long long>(y));
      const char* v = GDALGetMetadataItem(b1, key, "TIFF");
      if (v != nullptr && std::atoll(v) > 0) ++present;
    }
  }
  return present * blockBytes;
}

[[noreturn]] void TooLarge(const std::string& path, const std::string& why) {
  throw CodedError("ERR_TOO_LARGE", "refusing '" + path + "': " + why, path);
}

std::string Dims(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

// The cost of one block of `band` (`level`: "" for the full image, "overview N" otherwise).
void CheckBlocks(GDALRasterBandH band, const std::string& path, const std::string& level, int64_t pxBytes,
                 int64_t pixelLimit) {
  int bw = 0, bh = 0;
  GDALGetBlockSize(band, &bw, &bh);
  const int64_t W = GDALGetRasterBandXSize(band), H = GDALGetRasterBandYSize(band);
  if (bw <= 0 || bh <= 0 || W <= 0 || H <= 0) return;
  const int64_t blockPixels = int64_t{bw} * bh;
  const std::string what = "its " + (level.empty() ? std::string() : level + " ") + "blocks (tiles or strips) are " +
                           Dims(bh, bw) + " pixels";
  const std::string of = (level.empty() ? " for an image of " : " for a level of ") + Dims(H, W);
  if (blockPixels > pixelLimit) {
    TooLarge(path, what + of + ", over the pixel limit of " + std::to_string(pixelLimit) +
                       " (setPixelLimit): one block is decoded whole, even for a read of one pixel");
  }
  const int64_t blockBytes = blockPixels * pxBytes;
  const int64_t inside = std::min<int64_t>(bw, W) * std::min<int64_t>(bh, H) * pxBytes;
  if (blockBytes > kBlockFloorBytes && blockBytes > kMaxBlockPadding * inside) {
    TooLarge(path, what + of + ": one block decodes to " + std::to_string(blockBytes) + " bytes, " +
                       std::to_string(blockBytes / std::max<int64_t>(inside, 1)) +
                       " times its part inside the image, even for a read of one pixel (a corrupt or hostile header)");
  }
}

}  // namespace

int64_t CheckDatasetFiles(GDALDatasetH ds, const std::string& path) { return CheckFiles(ds, path, 0); }

int64_t MaxDecodeRatio(const SourceFacts& f) {
  constexpr int64_t kUnbounded = 65536;
  if (f.driver == "PNG" || f.driver == "JPEG" || f.driver == "GIF") return 2048;
  if (f.driver != "GTiff") return kUnbounded;
  const std::string& c = f.compression;
  if (c.empty() || c == "NONE") return 16;
  if (c == "PACKBITS") return 256;
  if (c == "DEFLATE" || c == "ADOBE_DEFLATE" || c == "LZW" || c == "JPEG") return 2048;
  return kUnbounded;
}

void CheckDecodeCost(GDALDatasetH ds, const std::string& path, const SourceFacts& f, int64_t fileBytes,
                     int64_t pixelLimit) {
  const int64_t pixels = f.H * f.W;
  const std::string dims = std::to_string(f.H) + "x" + std::to_string(f.W);
  if (pixels > pixelLimit) {
    TooLarge(path, "it declares " + dims + " = " + std::to_string(pixels) + " pixels, over the pixel limit of " +
                       std::to_string(pixelLimit) + " (setPixelLimit)");
  }
  const int64_t px = f.C * ItemSize(f.dtype);
  int64_t decoded = pixels * px;
  // Per block, before the whole: a few pixels of a small image must not decode gigabytes.
  GDALRasterBandH b1 = GDALGetRasterBand(ds, 1);
  if (b1 != nullptr) {
    GdalErrorScope scope;
    CheckBlocks(b1, path, "", px, pixelLimit);
    for (int i = 0, n = GDALGetOverviewCount(b1); i < n; ++i) {
      GDALRasterBandH ov = GDALGetOverview(b1, i);
      if (ov != nullptr) CheckBlocks(ov, path, "overview " + std::to_string(i + 1), px, pixelLimit);
    }
  }
  if (decoded <= kRatioFloorBytes || IsVirtualPath(path)) return;
  const int64_t ratio = MaxDecodeRatio(f);
  const int64_t allowed = ratio * (fileBytes > 0 ? fileBytes : 1);
  if (decoded <= allowed) return;
  if (f.driver == "GTiff" && f.blockW > 0 && f.blockH > 0) {
    const int64_t present = PresentBlockBytes(ds, f, int64_t{f.blockW} * f.blockH * px);
    if (present >= 0) decoded = present;
    if (decoded <= allowed) return;
  }
  TooLarge(path, "it declares " + dims + " pixels (" + std::to_string(decoded) + " bytes to decode) in " +
                     std::to_string(fileBytes) + " bytes of files, more than " + std::to_string(ratio) +
                     " times as many (" + (f.compression.empty() ? f.driver : f.compression) +
                     "): a decompression bomb or a corrupt header");
}

}  // namespace nds
