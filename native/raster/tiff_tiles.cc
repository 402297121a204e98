// TiffTileReader: direct libtiff tile decoding for the tile cache. Any thread, one at a time
// per reader. Built without libtiff (NDS_HAVE_LIBTIFF unset), Open() always declines and every
// tile is decoded by GDAL.
#include "raster/tiff_tiles.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "core/errors.h"

#ifdef NDS_HAVE_LIBTIFF
#include <tiffio.h>
#endif
#ifdef NDS_HAVE_ZSTD
#include <zstd.h>
#endif

namespace nds {

#ifdef NDS_HAVE_LIBTIFF

namespace {

int OnError(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  static_cast<TiffTileReader*>(user)->RecordError(std::string(module != nullptr ? module : "libtiff") + ": " + buf);
  return 1;  // handled: libtiff's process-wide handler is not called
}

int OnWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

bool SampleFormatMatches(uint16_t fmt, DType d) {
  switch (d) {
    case DType::U8:
    case DType::U16:
    case DType::U32:
      return fmt == SAMPLEFORMAT_UINT;
    case DType::I8:
      return fmt == SAMPLEFORMAT_UINT || fmt == SAMPLEFORMAT_INT;  // GDAL's SIGNEDBYTE
    case DType::I16:
    case DType::I32:
      return fmt == SAMPLEFORMAT_INT;
    case DType::F32:
    case DType::F64:
      return fmt == SAMPLEFORMAT_IEEEFP;
  }
  return false;
}

}  // namespace

std::unique_ptr<TiffTileReader> TiffTileReader::Open(const std::string& path, const TiffExpect& expect) {
  std::unique_ptr<TiffTileReader> r(new TiffTileReader());
  r->path_ = path;
  r->expect_ = expect;
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  if (opts == nullptr) return nullptr;
  TIFFOpenOptionsSetErrorHandlerExtR(opts, OnError, r.get());
  TIFFOpenOptionsSetWarningHandlerExtR(opts, OnWarning, nullptr);
  // "m": no memory mapping, so a file truncated under us gives a read error, not SIGBUS.
  TIFF* tif = TIFFOpenExt(path.c_str(), "rm", opts);
  TIFFOpenOptionsFree(opts);
  if (tif == nullptr) return nullptr;
  r->tif_ = tif;
  uint32_t w = 0, h = 0, tw = 0, th = 0;
  uint16_t spp = 1, bps = 0, fmt = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG, photometric = 0, compression = 0,
           predictor = PREDICTOR_NONE;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  const bool tiled = TIFFIsTiled(tif) != 0;
  if (tiled) {
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
  }
  const bool codecOk =
      (compression == COMPRESSION_NONE || compression == COMPRESSION_LZW || compression == COMPRESSION_ADOBE_DEFLATE ||
       compression == COMPRESSION_DEFLATE || compression == COMPRESSION_ZSTD || compression == COMPRESSION_LZMA ||
       compression == COMPRESSION_PACKBITS) &&
      TIFFIsCODECConfigured(compression) != 0;
  // Predictors are undone by libtiff's LZW/DEFLATE/ZSTD/LZMA codecs only: 2 on integers, 3 on floats.
  // (Only those codecs know the Predictor tag: asking NONE or PACKBITS for it is an error.)
  const bool predicting = compression != COMPRESSION_NONE && compression != COMPRESSION_PACKBITS;
  if (predicting && TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &predictor) != 1) predictor = PREDICTOR_NONE;
  const bool isFloat = expect.dtype == DType::F32 || expect.dtype == DType::F64;
  const bool predictorOk =
      predictor == PREDICTOR_NONE || (predicting && ((predictor == PREDICTOR_HORIZONTAL && !isFloat) ||
                                                     (predictor == PREDICTOR_FLOATINGPOINT && isFloat)));
  // Tile sizes are multiples of 16 by the TIFF spec; anything else (TileWidth 63, ...) is GDAL's.
  const bool shapeOk = tw > 0 && th > 0 && tw % 16 == 0 && th % 16 == 0;
  const bool ok = tiled && codecOk && predictorOk && shapeOk && w == expect.width && h == expect.height &&
                  static_cast<int>(tw) == expect.blockW && static_cast<int>(th) == expect.blockH &&
                  spp == expect.samples && bps == 8 * ItemSize(expect.dtype) &&
                  SampleFormatMatches(fmt, expect.dtype) && (planar == PLANARCONFIG_CONTIG || spp == 1) &&
                  photometric != PHOTOMETRIC_PALETTE && photometric != PHOTOMETRIC_YCBCR;
  if (!ok) return nullptr;
  // Malformed tile tables (fewer offsets than tiles) are GDAL's to report.
  const uint64_t tiles = static_cast<uint64_t>((w + tw - 1) / tw) * ((h + th - 1) / th);
  if (TIFFNumberOfTiles(tif) != tiles) return nullptr;
  r->tileBytes_ = static_cast<int64_t>(TIFFTileSize64(tif));
  if (r->tileBytes_ != static_cast<int64_t>(tw) * th * spp * ItemSize(expect.dtype)) return nullptr;
#ifdef NDS_HAVE_ZSTD
  uint16_t fillOrder = FILLORDER_MSB2LSB;
  TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &fillOrder);
  r->rowsOk_ = compression == COMPRESSION_ZSTD && bps == 8 && spp <= 64 && fillOrder == FILLORDER_MSB2LSB &&
               (predictor == PREDICTOR_NONE || predictor == PREDICTOR_HORIZONTAL);
  r->predictor_ = predictor == PREDICTOR_HORIZONTAL;
#endif
  return r;
}

TiffTileReader::~TiffTileReader() {
  if (tif_ != nullptr) TIFFClose(static_cast<TIFF*>(tif_));
#ifdef NDS_HAVE_ZSTD
  if (zstd_ != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(zstd_));
#endif
}

bool TiffTileReader::DecodeRows(int tx, int ty, int ya, int yb, int xb, uint8_t* dst) {
#ifdef NDS_HAVE_ZSTD
  TIFF* tif = static_cast<TIFF*>(tif_);
  const uint32_t idx = TIFFComputeTile(tif, static_cast<uint32_t>(tx) * expect_.blockW,
                                       static_cast<uint32_t>(ty) * expect_.blockH, 0, 0);
  int err = 0;
  const uint64_t rawBytes = TIFFGetStrileByteCountWithErr(tif, idx, &err);
  if (rawBytes == 0 || err != 0) return false;
  auto fail = [&](const std::string& why) {
    return CodedError(
        "ERR_GDAL_READ",
        "cannot read tile (" + std::to_string(tx) + ", " + std::to_string(ty) + ") of '" + path_ + "': " + why, path_);
  };
  if (rawBytes > static_cast<uint64_t>(tileBytes_) * 2 + (1 << 20)) throw fail("implausible tile byte count");
  raw_.resize(static_cast<size_t>(rawBytes));
  error_.clear();
  if (TIFFReadRawTile(tif, idx, raw_.data(), static_cast<tmsize_t>(rawBytes)) != static_cast<tmsize_t>(rawBytes)) {
    throw fail(error_.empty() ? "short tile" : error_);
  }
  if (zstd_ == nullptr) {
    zstd_ = ZSTD_createDCtx();
    if (zstd_ == nullptr) throw std::bad_alloc();
  }
  ZSTD_DCtx* dctx = static_cast<ZSTD_DCtx*>(zstd_);
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  const size_t row = static_cast<size_t>(expect_.blockW) * expect_.samples;
  ZSTD_inBuffer in{raw_.data(), raw_.size(), 0};
  ZSTD_outBuffer out{dst, row * yb, 0};
  while (out.pos < out.size) {  // stop as soon as row yb is out: the rest of the frame is never decoded
    const size_t outBefore = out.pos, inBefore = in.pos;
    const size_t r = ZSTD_decompressStream(dctx, &out, &in);
    if (ZSTD_isError(r)) throw fail(std::string("ZSTD: ") + ZSTD_getErrorName(r));
    if (out.pos < out.size && (r == 0 || (out.pos == outBefore && in.pos == inBefore))) throw fail("short tile");
  }
  if (predictor_) {  // horizontal differencing, per row and sample, mod 256 (libtiff's horAcc8)
    // Running sums kept in registers: p[i] += p[i - spp] through memory is a store-to-load chain
    // (measured slower than libtiff's own loop).
    const int spp = expect_.samples;
    for (int y = ya; y < yb; ++y) {
      uint8_t* p = dst + y * row;
      if (spp == 3) {
        uint8_t a = p[0], b = p[1], c = p[2];
        for (int x = 1; x < xb; ++x) {
          uint8_t* q = p + x * 3;
          a = static_cast<uint8_t>(a + q[0]), b = static_cast<uint8_t>(b + q[1]), c = static_cast<uint8_t>(c + q[2]);
          q[0] = a, q[1] = b, q[2] = c;
        }
      } else if (spp == 1) {
        uint8_t a = p[0];
        for (int x = 1; x < xb; ++x) p[x] = a = static_cast<uint8_t>(a + p[x]);
      } else {
        uint8_t acc[64];  // spp <= 64 (Open)
        const int k = spp;
        std::memcpy(acc, p, static_cast<size_t>(k));
        for (int x = 1; x < xb; ++x) {
          uint8_t* q = p + static_cast<size_t>(x) * k;
          for (int j = 0; j < k; ++j) q[j] = acc[j] = static_cast<uint8_t>(acc[j] + q[j]);
        }
      }
    }
  }
  return true;
#else
  return false;
#endif
}

bool TiffTileReader::Decode(int tx, int ty, int h, int w, uint8_t* dst) {
  TIFF* tif = static_cast<TIFF*>(tif_);
  const uint32_t idx = TIFFComputeTile(tif, static_cast<uint32_t>(tx) * expect_.blockW,
                                       static_cast<uint32_t>(ty) * expect_.blockH, 0, 0);
  int err = 0;
  if (TIFFGetStrileByteCountWithErr(tif, idx, &err) == 0 || err != 0) return false;
  const bool whole = w == expect_.blockW && h == expect_.blockH;
  uint8_t* out = dst;
  if (!whole) {
    scratch_.resize(static_cast<size_t>(tileBytes_));
    out = scratch_.data();
  }
  error_.clear();
  if (TIFFReadEncodedTile(tif, idx, out, tileBytes_) != tileBytes_) {
    throw CodedError("ERR_GDAL_READ",
                     "cannot read tile (" + std::to_string(tx) + ", " + std::to_string(ty) + ") of '" + path_ +
                         "': " + (error_.empty() ? "short tile" : error_),
                     path_);
  }
  if (!whole) {
    const size_t px = static_cast<size_t>(expect_.samples) * ItemSize(expect_.dtype);
    for (int y = 0; y < h; ++y) {
      std::memcpy(dst + y * w * px, out + static_cast<size_t>(y) * expect_.blockW * px, w * px);
    }
  }
  return true;
}

#else  // !NDS_HAVE_LIBTIFF

std::unique_ptr<TiffTileReader> TiffTileReader::Open(const std::string&, const TiffExpect&) { return nullptr; }
TiffTileReader::~TiffTileReader() = default;
bool TiffTileReader::Decode(int, int, int, int, uint8_t*) { return false; }
bool TiffTileReader::DecodeRows(int, int, int, int, int, uint8_t*) { return false; }

#endif

}  // namespace nds
