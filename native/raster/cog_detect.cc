// COG detection, mirroring GDAL's validate_cloud_optimized_geotiff.py (GDAL 3.6) on the
// structure GDAL exposes in the "TIFF" metadata domain (IFD_OFFSET, BLOCK_OFFSET_x_y):
//  - the driver is GTiff and no external .ovr file supplies overviews;
//  - tiling as the validator requires it: a level whose blocks span its whole width (strips) is
//    rejected only when that width is over 1024 pixels (the main image: and it is larger than
//    512 in either dimension), so small striped TIFFs are COGs, as the validator says;
//  - the main IFD is at byte 8 (16 for BigTIFF), or right after GDAL's ghost structural
//    metadata, which must not declare KNOWN_INCOMPATIBLE_EDITION=YES;
//  - overviews are by decreasing size and their IFDs by increasing offset;
//  - tile data follows the IFDs: the smallest overview's first block lies after its IFD, and
//    each level's first block lies after the first block of the next smaller level.
// The validator's --full-check (per-block leader/trailer bytes) is not repeated.
#include "raster/cog_detect.h"

#include <cpl_string.h>
#include <cpl_vsi.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/args.h"
#include "core/errors.h"
#include "raster/gdal_error_scope.h"
#include "raster/gdal_setup.h"
#include "raster/open_dataset.h"
#include "raster/path_checks.h"
#include "raster/source_limits.h"

namespace nds {

namespace {

bool ParseU64(const char* s, uint64_t* out) {
  if (s == nullptr || *s == '\0') return false;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (end == nullptr || *end != '\0') return false;
  *out = v;
  return true;
}

class TiffFile {
 public:
  explicit TiffFile(const std::string& path) : f_(VSIFOpenL(path.c_str(), "rb")) {}
  ~TiffFile() {
    if (f_ != nullptr) VSIFCloseL(f_);
  }
  TiffFile(const TiffFile&) = delete;
  TiffFile& operator=(const TiffFile&) = delete;

  bool ReadHeader() {
    uint8_t h[4];
    if (!Read(0, h, 4)) return false;
    if (h[0] == 'I' && h[1] == 'I') {
      little_ = true;
    } else if (h[0] == 'M' && h[1] == 'M') {
      little_ = false;
    } else {
      return false;
    }
    const unsigned magic = U16(h + 2);
    if (magic != 42 && magic != 43) return false;
    big_ = magic == 43;
    return true;
  }
  bool bigtiff() const { return big_; }

  bool Read(uint64_t offset, void* dst, size_t n) {
    if (f_ == nullptr || VSIFSeekL(f_, offset, SEEK_SET) != 0) return false;
    return VSIFReadL(dst, 1, n, f_) == n;
  }

 private:
  unsigned U16(const uint8_t* p) const { return little_ ? (p[0] | p[1] << 8) : (p[0] << 8 | p[1]); }

  VSILFILE* f_;
  bool little_ = true;
  bool big_ = false;
};

// The validator's tiling rule for one level: a level whose blocks span its whole width is
// "not tiled", which the validator rejects only when that width is over 1024 (and, for the main
// image, when the image is larger than 512 in either dimension).
bool TilingOk(GDALRasterBandH band, bool mainLevel) {
  int bw = 0, bh = 0;
  GDALGetBlockSize(band, &bw, &bh);
  const int w = GDALGetRasterBandXSize(band), h = GDALGetRasterBandYSize(band);
  if (mainLevel && w <= 512 && h <= 512) return true;
  return !(bw == w && bw > 1024);
}

// The offset of the first block present in `band`, in row-major order; 0 when none.
uint64_t FirstBlockOffset(GDALRasterBandH band) {
  int bw = 0, bh = 0;
  GDALGetBlockSize(band, &bw, &bh);
  if (bw <= 0 || bh <= 0) return 0;
  const int ny = (GDALGetRasterBandYSize(band) + bh - 1) / bh;
  const int nx = (GDALGetRasterBandXSize(band) + bw - 1) / bw;
  for (int y = 0; y < ny; ++y) {
    for (int x = 0; x < nx; ++x) {
      uint64_t v = 0;
      if (ParseU64(GDALGetMetadataItem(band, CPLSPrintf("BLOCK_OFFSET_%d_%d", x, y), "TIFF"), &v)) return v;
    }
  }
  return 0;
}

bool Check(GDALDatasetH ds, const std::string& path) {
  GDALDriverH drv = GDALGetDatasetDriver(ds);
  if (drv == nullptr || std::strcmp(GDALGetDriverShortName(drv), "GTiff") != 0) return false;
  if (GDALGetRasterCount(ds) < 1) return false;
  char** files = GDALGetFileList(ds);
  const std::string ovr = std::string(GDALGetDescription(ds)) + ".ovr";
  const bool externalOvr = CSLFindString(files, ovr.c_str()) >= 0;
  CSLDestroy(files);
  if (externalOvr) return false;

  GDALRasterBandH main = GDALGetRasterBand(ds, 1);
  TiffFile tif(path);
  if (!tif.ReadHeader()) return false;

  uint64_t mainIfd = 0;
  if (!ParseU64(GDALGetMetadataItem(main, "IFD_OFFSET", "TIFF"), &mainIfd)) return false;
  if (mainIfd != 8 && mainIfd != 16) {
    uint64_t expected = tif.bigtiff() ? 16 : 8;
    static const char kPattern[] = "GDAL_STRUCTURAL_METADATA_SIZE=";
    char head[sizeof("GDAL_STRUCTURAL_METADATA_SIZE=000000 bytes\n") - 1];
    if (!tif.Read(expected, head, sizeof(head)) || std::strncmp(head, kPattern, sizeof(kPattern) - 1) != 0) {
      return false;
    }
    const std::string digits(head + sizeof(kPattern) - 1, 6);
    const long size = std::strtol(digits.c_str(), nullptr, 10);
    if (size < 0 || size > 1 << 20) return false;
    std::string extra(static_cast<size_t>(size), '\0');
    if (size > 0 && !tif.Read(expected + sizeof(head), &extra[0], extra.size())) return false;
    if (extra.find("KNOWN_INCOMPATIBLE_EDITION=YES") != std::string::npos) return false;
    expected += sizeof(head) + static_cast<uint64_t>(size);
    expected += expected % 2;
    if (expected != mainIfd) return false;
  }
  if (!TilingOk(main, true)) return false;

  const int ovrCount = GDALGetOverviewCount(main);
  std::vector<uint64_t> ifds{mainIfd};
  std::vector<uint64_t> data{FirstBlockOffset(main)};
  int prevW = GDALGetRasterBandXSize(main), prevH = GDALGetRasterBandYSize(main);
  for (int i = 0; i < ovrCount; ++i) {
    GDALRasterBandH ov = GDALGetOverview(main, i);
    if (ov == nullptr) return false;
    const int w = GDALGetRasterBandXSize(ov), h = GDALGetRasterBandYSize(ov);
    if (w > prevW || h > prevH) return false;
    prevW = w;
    prevH = h;
    uint64_t ifd = 0;
    if (!ParseU64(GDALGetMetadataItem(ov, "IFD_OFFSET", "TIFF"), &ifd)) return false;
    if (ifd < ifds.back()) return false;
    if (!TilingOk(ov, false)) return false;
    ifds.push_back(ifd);
    data.push_back(FirstBlockOffset(ov));
  }
  if (data.back() != 0 && data.back() < ifds.back()) return false;
  for (size_t i = data.size() - 1; i-- > 0;) {
    if (data[i] != 0 && data[i] < data[i + 1]) return false;
  }
  return true;
}

}  // namespace

bool IsCogDataset(GDALDatasetH ds, const std::string& path) {
  GdalErrorScope scope;
  const bool ok = Check(ds, path);
  return ok && !scope.failed();
}

bool IsCogFile(const std::string& path) {
  EnsureGdal();
  CheckSourceFile(path);
  GdalErrorScope scope;
  const char* const drivers[] = {"GTiff", nullptr};
  RemoteOpenScope remote(path);
  ScopedDataset ds(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, nullptr, nullptr));
  if (ds.get() == nullptr) return false;
  CheckDatasetFiles(ds.get(), path);  // an external overview that is a FIFO must not block
  return IsCogDataset(ds.get(), path);
}

Napi::Value IsCogJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  bool result = false;
  Guard(env, [&] { result = IsCogFile(path); });
  return Napi::Boolean::New(env, result);
}

}  // namespace nds
