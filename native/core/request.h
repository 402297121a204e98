// The read request: one read crosses the boundary as a Float64Array `req` laid out as Req (all in
// elements) plus the destination typed array. lib/native.ts `REQ` holds the same layout.
#pragma once
#include <napi.h>

#include <cstdint>

#include "core/dtype.h"

namespace nds {

// Indices into `req`: the source window (kY0..kC1, half open, already clipped); where and how to
// write into the destination (kDstOffset..kDstSC); the output size (kOutH, kOutW: raster only,
// for scaled reads; else equal to the window).
enum Req : int { kY0 = 0, kY1, kX0, kX1, kC0, kC1, kDstOffset, kDstSY, kDstSX, kDstSC, kOutH, kOutW, kReqLen };

struct Window {
  int64_t y0, y1, x0, x1, c0, c1;
  int64_t h() const { return y1 - y0; }
  int64_t w() const { return x1 - x0; }
  int64_t c() const { return c1 - c0; }
};

// Where a read writes. Plain data: built on the JS thread, copied into pool jobs.
struct Destination {
  uint8_t* data = nullptr;                     // typed array's first byte
  int64_t length = 0;                          // in elements
  int64_t offset = 0, sy = 0, sx = 0, sc = 0;  // in elements
  int64_t outH = 0, outW = 0;
};

// JS thread: parses and checks (req, dst) against an image of shape (H, W, C) and dtype.
// Throws a JS error (never crashes) when the window is outside the image, the typed array is
// of another type, any element the copy would write lies outside the typed array, or two
// elements would land on one (ERR_OUT_BUFFER; see StridesOverlap). With `allowNew`, a null
// `dstVal` means a new array: dst->data stays null and dst->length is the number of elements the
// layout spans (at most kMaxNewBytes bytes, else ERR_REGION).
void ParseRequest(Napi::Env env, const Napi::Value& dstVal, const Napi::Value& reqVal, int64_t H, int64_t W, int64_t C,
                  DType dtype, Window* win, Destination* dst, bool allowScaled, bool allowNew = false);
constexpr int64_t kMaxNewBytes = int64_t{1} << 32;  // lib/readers.ts MAX_READ_BYTES

// Any thread. True when an array of `size` with element `stride`s (all >= 0) addresses some
// element twice: a zero stride on an axis longer than 1, or, with the axes longer than 1 sorted by
// stride, a stride smaller than the extent (size x stride) of the axis below it. lib/ndarray.ts
// checkArray applies the same rule.
bool StridesOverlap(const int64_t size[3], const int64_t stride[3]);

}  // namespace nds
