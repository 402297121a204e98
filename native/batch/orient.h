// The orientation of a crop as the batch kernel writes it into its slot (labeled batches;
// lib/labels/orient.ts is the TypeScript twin and states the convention): the window is read as
// S of shape [sh, sw]; then hflip reverses its columns, then vflip its rows, then numpy's
// rot90(., k) turns it counter-clockwise (axes (0, 1)); for odd k the slot is [sw, sh].
// code = hflip | vflip << 1 | k << 2.
//
// Any of the 8 orientations is "transpose or not, then flip rows and/or columns": with
// G = S transposed (G(i, j) = S(j, i)), rot90 k=1 is G's rows reversed, k=3 its columns reversed;
// a flip of S before a transposition is the other flip of G; a half turn is both flips. The
// kernel applies the plan by index where it writes (batch_job.cc ReadCrop): a transposition
// through swapped destination strides (in tiles), flips by the direction it writes in. No extra
// pass over the pixels.
// Pure C++, any thread.
#pragma once
#include <cstdint>

namespace nds {

constexpr int kOrientCodes = 16;
// The side of the square tiles a transposed crop is written in (batch_job.cc ReadCrop).
constexpr int64_t kOrientTile = 128;

struct OrientPlan {
  bool transpose = false;  // read S's columns as the slot's rows
  bool hflip = false;      // then reverse the columns
  bool vflip = false;      // and / or the rows
};

inline OrientPlan PlanOrientation(int code) {
  const bool h = (code & 1) != 0, v = (code & 2) != 0;
  OrientPlan p;
  switch ((code >> 2) & 3) {
    case 0:
      p.hflip = h, p.vflip = v;
      break;
    case 1:  // out(i, j) = F(j, sw - 1 - i): G's rows reversed
      p.transpose = true, p.vflip = !h, p.hflip = v;
      break;
    case 2:
      p.hflip = !h, p.vflip = !v;
      break;
    default:  // out(i, j) = F(sh - 1 - j, i): G's columns reversed
      p.transpose = true, p.vflip = h, p.hflip = !v;
      break;
  }
  return p;
}

// The slot's [rows, cols] for an S of [sh, sw].
inline void OrientedDims(int code, int64_t sh, int64_t sw, int64_t* rows, int64_t* cols) {
  const bool odd = ((code >> 2) & 1) != 0;
  *rows = odd ? sw : sh;
  *cols = odd ? sh : sw;
}

}  // namespace nds
