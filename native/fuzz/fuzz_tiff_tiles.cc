// libFuzzer target: the libtiff tile path (raster/tiff_tiles.cc TiffTileReader) on arbitrary
// bytes taken as a TIFF file. Built only by CMake with -DNDS_FUZZ=ON (scripts/fuzz.sh); see
// native/fuzz/README.md.
//
// TiffTileReader::Open takes a path, so each input is written to a memfd (a regular file in
// memory, no disk I/O) and opened as /proc/self/fd/N. In the addon, `expect` is what GDAL
// reported for the file; here it is read from the same TIFF with libtiff (what GDAL would say for
// a file it accepts), so inputs that keep their tags consistent reach Decode. Every tile (at most
// kMaxTiles of them, edges included) is decoded into a heap buffer of exactly the clipped tile's
// size, so a write past it is an AddressSanitizer report.
//
// The addon builds leave native/fuzz/ out (CMakeLists.txt, binding.gyp); the NDS_FUZZ_TARGET
// guard keeps this file an empty translation unit in any other build all the same.
#ifdef NDS_FUZZ_TARGET
#include <sys/mman.h>
#include <tiffio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.h"
#include "raster/tiff_tiles.h"

namespace {

constexpr int kMaxTiles = 64;
// Inputs whose tiles are larger than this are skipped: the addon only gets such a file after GDAL
// opened it, and decompression-bomb limits are checked before this path (not what is fuzzed here).
constexpr int64_t kMaxTileBytes = int64_t{16} << 20;

int Quiet(TIFF*, void*, const char*, const char*, va_list) { return 1; }

// The memfd every input is written to, reused (truncated) from one input to the next.
int Memfd() {
  static const int fd = memfd_create("fuzz_tiff", 0);
  if (fd < 0) __builtin_trap();
  return fd;
}

bool DTypeOf(uint16_t bps, uint16_t fmt, nds::DType* t) {
  struct Row {
    uint16_t bps, fmt;
    nds::DType t;
  };
  static const Row rows[] = {{8, SAMPLEFORMAT_UINT, nds::DType::U8},     {8, SAMPLEFORMAT_INT, nds::DType::I8},
                             {16, SAMPLEFORMAT_UINT, nds::DType::U16},   {16, SAMPLEFORMAT_INT, nds::DType::I16},
                             {32, SAMPLEFORMAT_UINT, nds::DType::U32},   {32, SAMPLEFORMAT_INT, nds::DType::I32},
                             {32, SAMPLEFORMAT_IEEEFP, nds::DType::F32}, {64, SAMPLEFORMAT_IEEEFP, nds::DType::F64}};
  for (const Row& r : rows) {
    if (r.bps == bps && r.fmt == fmt) {
      *t = r.t;
      return true;
    }
  }
  return false;
}

// What GDAL would report for this file: size, tile size, bands, dtype. False when libtiff cannot
// open it or it is not a tiled image of one of the eight dtypes.
bool Describe(const std::string& path, nds::TiffExpect* e) {
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, Quiet, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, Quiet, nullptr);
  TIFF* tif = TIFFOpenExt(path.c_str(), "rm", opts);
  TIFFOpenOptionsFree(opts);
  if (tif == nullptr) return false;
  uint32_t w = 0, h = 0, tw = 0, th = 0;
  uint16_t spp = 1, bps = 0, fmt = SAMPLEFORMAT_UINT;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
  const bool tiled = TIFFIsTiled(tif) != 0;
  if (tiled) {
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
  }
  TIFFClose(tif);
  if (!tiled || w == 0 || h == 0 || tw == 0 || th == 0 || spp == 0 || tw > (1u << 16) || th > (1u << 16)) return false;
  if (!DTypeOf(bps, fmt, &e->dtype)) return false;
  e->width = w;
  e->height = h;
  e->blockW = static_cast<int>(tw);
  e->blockH = static_cast<int>(th);
  e->samples = spp;
  return static_cast<int64_t>(tw) * th * spp * nds::ItemSize(e->dtype) <= kMaxTileBytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = Memfd();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  nds::TiffExpect e{};
  if (!Describe(path, &e)) return 0;
  std::unique_ptr<nds::TiffTileReader> r = nds::TiffTileReader::Open(path, e);
  if (r == nullptr) return 0;
  const int64_t nx = (e.width + e.blockW - 1) / e.blockW, ny = (e.height + e.blockH - 1) / e.blockH;
  const int64_t total = nx * ny;
  const int64_t step = total <= kMaxTiles ? 1 : total / kMaxTiles;
  const size_t px = static_cast<size_t>(e.samples) * nds::ItemSize(e.dtype);
  for (int64_t i = 0; i < total; i += step) {
    // The last tile (bottom-right: clipped on both axes) is always among them.
    const int64_t t = i + step >= total ? total - 1 : i;
    const int tx = static_cast<int>(t % nx), ty = static_cast<int>(t / nx);
    const int w = static_cast<int>(std::min<int64_t>(e.blockW, e.width - int64_t{tx} * e.blockW));
    const int h = static_cast<int>(std::min<int64_t>(e.blockH, e.height - int64_t{ty} * e.blockH));
    std::vector<uint8_t> dst(static_cast<size_t>(w) * h * px);
    try {
      r->Decode(tx, ty, h, w, dst.data());
    } catch (const nds::CodedError& err) {
      if (err.info().code != "ERR_GDAL_READ") __builtin_trap();
    }
  }
  return 0;
}
#endif  // NDS_FUZZ_TARGET
