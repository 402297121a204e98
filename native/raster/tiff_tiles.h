// TiffTileReader: decodes whole tiles of a tiled, pixel-interleaved GeoTIFF's main image with
// libtiff straight into an HWC buffer (the layout such tiles have on disk), skipping GDAL's
// per-band block cache and its deinterleave/reinterleave copies. Used by RasterSource for
// tile-cache misses when the file qualifies (see Open); everything else goes through GDAL.
// One TiffTileReader is used by one thread at a time (it lives in a leased RasterHandle).
// libtiff errors are captured per TIFF* (TIFFOpenOptionsSetErrorHandlerExtR), never through
// libtiff's process-wide handlers.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace nds {

struct TiffExpect {
  int64_t width, height;
  int blockW, blockH;
  int samples;  // bands
  DType dtype;
};

class TiffTileReader {
 public:
  // Opens `path` and checks that its first directory is the image GDAL described (`expect`),
  // tiled with tile sizes that are multiples of 16 and as many tiles as the image needs,
  // contiguous (or one band), samples of exactly the dtype's bits and format, not a palette or
  // YCbCr image, compressed with a codec this libtiff decodes (NONE, LZW, DEFLATE, ZSTD, LZMA,
  // PACKBITS), and without a predictor, or with one the codec undoes (2 on integers, 3 on
  // floats; not with NONE or PACKBITS). Returns null when any check fails: the caller then
  // decodes with GDAL. Byte order is libtiff's to undo (it swabs decoded samples).
  static std::unique_ptr<TiffTileReader> Open(const std::string& path, const TiffExpect& expect);
  ~TiffTileReader();
  TiffTileReader(const TiffTileReader&) = delete;
  TiffTileReader& operator=(const TiffTileReader&) = delete;

  // Decodes tile (tx, ty) into `dst` (h x w pixels, HWC, row stride w * samples * itemsize;
  // h and w are the tile's size clipped to the image). Returns false when the tile is absent
  // from the file (sparse): GDAL then fills it. Throws CodedError ERR_GDAL_READ on decode errors.
  bool Decode(int tx, int ty, int h, int w, uint8_t* dst);

  // True when DecodeRows can serve this file: ZSTD, 8-bit samples, no predictor or horizontal
  // differencing, MSB-to-LSB fill order (built with libzstd only).
  bool CanDecodeRows() const { return rowsOk_; }
  // Part of tile (tx, ty) for a crop that needs its rows [ya, yb) and columns [0, xb) (tile
  // coordinates): decompresses the tile only down to row yb and undoes the predictor only on
  // rows [ya, yb), columns [0, xb). `dst` gets rows [0, yb) at the full tile width (row stride
  // blockW * samples); only rows [ya, yb), columns [0, xb) hold pixels afterwards. Those pixels
  // equal Decode's. Returns false when the tile is absent (sparse). Throws ERR_GDAL_READ.
  bool DecodeRows(int tx, int ty, int ya, int yb, int xb, uint8_t* dst);

  // Called by the libtiff handler installed for this TIFF*.
  void RecordError(const std::string& msg) { error_ = msg; }

 private:
  TiffTileReader() = default;
  void* tif_ = nullptr;  // TIFF*
  std::string path_;
  TiffExpect expect_{};
  int64_t tileBytes_ = 0;
  std::vector<uint8_t> scratch_;  // edge tiles decode here first (libtiff writes whole tiles)
  std::string error_;
  bool rowsOk_ = false;
  bool predictor_ = false;    // horizontal differencing (with rowsOk_)
  std::vector<uint8_t> raw_;  // DecodeRows: the compressed tile
  void* zstd_ = nullptr;      // DecodeRows: ZSTD_DCtx*, reused
};

}  // namespace nds
