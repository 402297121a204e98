// ConvertBlock's path for a transposing destination (a window crop turned a quarter: SlotOf gives
// S's rows a destination stride smaller than its columns'). Written row by row of S, every element
// would land in another output row: one cache line per store. Instead a strip of kStrip source
// rows is turned at a time: its rows are copied into a small buffer (sequential reads; read in
// place, rows 4 KiB apart share an L1 set and thrash it), then written in tiles of kTile columns,
// each tile's output lines (kTile x channels, a whole line each for float32 when the slot's rows
// are) filled in L1 as the strip's rows go by, the next tile's lines asked for ahead. Same values
// as ConvertBlock's other paths (the same LUT entries, the same float64 expression). Pure C++,
// any thread.
#pragma once
#include <cstdint>

#include "batch/batch_kernel.h"

namespace nds {

// Source rows turned together: 16 float32 (one 64-byte line) per output row and channel; and the
// columns of a tile.
constexpr int64_t kStrip = 16;
constexpr int64_t kTile = 16;

// True when a block written with these destination strides is better written by TransposeBlock.
inline bool TransposingDst(int64_t dsy, int64_t dsx, int64_t h) {
  return h > 1 && (dsy < 0 ? -dsy : dsy) < (dsx < 0 ? -dsx : dsx);
}

// ConvertBlock's contract (batch_kernel.h).
void TransposeBlock(const SrcBlock& src, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
                    uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut,
                    int64_t k0);

}  // namespace nds
