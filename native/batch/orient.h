// The orientation of a crop as the batch kernel writes it into its slot (labeled batches,
// lib/labels/orient.ts is the TypeScript twin and states the convention): the window is read as
// S of shape [sh, sw]; then hflip reverses its columns, then vflip its rows, then numpy's
// rot90(., k) turns it counter-clockwise (axes (0, 1)); for odd k the slot is [sw, sh].
// code = hflip | vflip << 1 | k << 2. The mapping is applied by index at the point where the
// kernel writes (no extra pass): S's pixel (y, x) lands at slot element base + y * sy + x * sx.
// Pure C++, any thread.
#pragma once
#include <cstdint>

namespace nds {

constexpr int kOrientCodes = 16;
// The side of the tiles an oriented crop is written in (batch_job.cc ReadCrop).
constexpr int64_t kOrientTile = 32;

// Where S's pixel (y, x) lands in a slot whose output rows / columns have element strides
// (dsy, dsx): offset base + y * sy + x * sx (in elements; sy, sx may be negative).
struct OrientMap {
  int64_t base = 0, sy = 0, sx = 0;
};

// The slot's [rows, cols] for an S of [sh, sw].
inline void OrientedDims(int code, int64_t sh, int64_t sw, int64_t* rows, int64_t* cols) {
  const bool odd = ((code >> 2) & 1) != 0;
  *rows = odd ? sw : sh;
  *cols = odd ? sh : sw;
}

inline OrientMap MapOrientation(int code, int64_t sh, int64_t sw, int64_t dsy, int64_t dsx) {
  // After the flips: y' = y0f + yy * y, x' = x0f + xx * x.
  const bool hf = (code & 1) != 0, vf = (code & 2) != 0;
  const int64_t x0f = hf ? sw - 1 : 0, xx = hf ? -1 : 1;
  const int64_t y0f = vf ? sh - 1 : 0, yy = vf ? -1 : 1;
  // Output row i and column j as c + a * y + b * x.
  int64_t ic = 0, iy = 0, ix = 0, jc = 0, jy = 0, jx = 0;
  switch ((code >> 2) & 3) {
    case 0:  // i = y', j = x'
      ic = y0f, iy = yy, jc = x0f, jx = xx;
      break;
    case 1:  // i = sw - 1 - x', j = y'
      ic = sw - 1 - x0f, ix = -xx, jc = y0f, jy = yy;
      break;
    case 2:  // i = sh - 1 - y', j = sw - 1 - x'
      ic = sh - 1 - y0f, iy = -yy, jc = sw - 1 - x0f, jx = -xx;
      break;
    default:  // i = x', j = sh - 1 - y'
      ic = x0f, ix = xx, jc = sh - 1 - y0f, jy = -yy;
      break;
  }
  OrientMap m;
  m.base = ic * dsy + jc * dsx;
  m.sy = iy * dsy + jy * dsx;
  m.sx = ix * dsy + jx * dsx;
  return m;
}

}  // namespace nds
