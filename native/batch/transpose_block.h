// ConvertBlock's loop for a transposing destination (a window crop turned a quarter: SlotOf gives
// S's rows a destination stride smaller than its columns'). Writing S row by row would store each
// element of a row into another output row, one cache line per store; here a strip of kStrip
// source rows is converted column by column, so each source column becomes kStrip consecutive
// elements of one output row (a whole cache line for float32 and narrower). Same values as
// ConvertBlock's other loops (the same LUT entries, the same float64 expression). Pure C++, any
// thread.
#pragma once
#include <cstdint>

#include "batch/batch_kernel.h"

namespace nds {

// Rows converted together: 16 float32 (one 64-byte line) per output row and channel.
constexpr int64_t kStrip = 16;

// True when a block written with these destination strides is better written by TransposeBlock.
inline bool TransposingDst(int64_t dsy, int64_t dsx, int64_t h) {
  return h > 1 && (dsy < 0 ? -dsy : dsy) < (dsx < 0 ? -dsx : dsx);
}

// ConvertBlock's contract (batch_kernel.h), xoff never null (the caller builds the identity).
void TransposeBlock(const SrcBlock& src, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
                    uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut,
                    int64_t k0);

}  // namespace nds
