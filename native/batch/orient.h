// The orientation of a window crop as it is written into its slot (lib/geometry.ts states the
// same convention for TypeScript): the window is read as S of shape [sh, sw]; then hflip reverses
// its columns, then vflip its rows, then numpy's rot90(., k) turns it counter-clockwise (axes
// (0, 1)); for odd k the slot is [sw, sh]. code = hflip | vflip << 1 | k << 2 (batch_layout.h
// kItemOrient).
//
// Any of the 8 orientations is "transpose or not, then flip rows and/or columns": with
// G = S transposed (G(i, j) = S(j, i)), rot90 k=1 is G's rows reversed, k=3 its columns reversed;
// a flip of S before a transposition is the other flip of G; a half turn is both flips. SlotOf
// (batch_slot.h) applies the plan as a base and signed strides of the slot view, so a writer
// applies it by index, with no extra pass over the pixels. Pure C++, any thread.
#pragma once
#include <cstdint>

namespace nds {

constexpr int kOrientCodes = 16;

struct OrientPlan {
  bool transpose = false;  // S's columns are the slot's rows
  bool hflip = false;      // then the slot's columns are reversed
  bool vflip = false;      // and / or its rows
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

// S's [rows, cols] for a slot of [h, w] (a quarter turn transposes).
inline void ReadDims(int code, int64_t h, int64_t w, int64_t* rows, int64_t* cols) {
  const bool odd = ((code >> 2) & 1) != 0;
  *rows = odd ? w : h;
  *cols = odd ? h : w;
}

}  // namespace nds
