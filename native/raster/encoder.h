// encode / encodeAsync: an HWC array to the bytes of a PNG, JPEG, WEBP or TIFF file, made by
// GDAL's driver in one of GDAL's in-memory files (/vsimem/): a unique name per call, always
// removed (with any side file GDAL made next to it) before the call returns.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace nds {

struct EncodeOptions {
  std::string driver;  // "PNG", "JPEG", "WEBP" or "GTiff"
  int quality = -1;    // JPEG/WEBP QUALITY (1..100), -1: the driver's default
  int level = -1;      // PNG/GTiff (DEFLATE) ZLEVEL (1..9), -1: the driver's default
};

// An HWC array in memory the caller keeps valid and unchanged for the call: element (y, x, c) at
// first + y * sy + x * sx + c * sc bytes.
struct EncodeInput {
  const uint8_t* first = nullptr;
  DType dtype = DType::U8;
  int64_t H = 0, W = 0, C = 0;
  int64_t sy = 0, sx = 0, sc = 0;  // in bytes
};

// Pure C++, any thread (the JS thread for encode, a libuv pool thread for encodeAsync). Throws
// CodedError: ERR_GDAL_UNSUPPORTED (no such driver in this GDAL, or the driver does not take this
// data), ERR_GDAL_WRITE (the driver failed), ERR_NO_MEMORY.
std::vector<uint8_t> EncodeImage(const EncodeInput& in, const EncodeOptions& opts);

// encode(data, desc {shape, strides, offset, dtype}, driver, quality, level) -> Buffer. JS thread.
Napi::Value EncodeJs(const Napi::CallbackInfo& info);
// encodeAsync(...same) -> Promise<Buffer>: the pixels are copied on the JS thread into memory the
// job owns, then encoded on the libuv pool.
Napi::Value EncodeAsyncJs(const Napi::CallbackInfo& info);
// vsimemUnlink(path) -> boolean: removes a /vsimem/ file (and, for a directory, what is in it).
Napi::Value VsimemUnlinkJs(const Napi::CallbackInfo& info);

}  // namespace nds
