// The fused per-crop kernel of loadBatch: convert any dtype to any dtype, normalise per channel
// and transpose (HWC -> NHWC or NCHW slot), in one pass from the source block into the batch.
// Pure C++, any thread.
//
// Conversion rule (docs/api.md "loadBatch"): each source value x becomes the double
// v = normalize ? (x * scale - mean[k]) / std[k] : x, computed in that order in float64 (so a
// plain TypeScript reference gets the same bits); then to float32 by IEEE round-to-nearest, to
// float64 as is, to an integer dtype by rounding to nearest (ties to even) and saturating to
// its range (NaN becomes 0).
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace nds {

// What happens to each value on channel k of the output.
struct BatchConvert {
  DType out = DType::U8;
  bool normalize = false;
  double scale = 1;
  std::vector<double> mean, stdv;  // one per output channel
  double Apply(double x, int64_t k) const { return normalize ? (x * scale - mean[k]) / stdv[k] : x; }
};

// A source block: `base` is the address of the block's element (0, 0, channel 0); strides in
// bytes; `swap`: byte-swap each item (big-endian data).
struct SrcBlock {
  const uint8_t* base;
  int64_t sy, sx, sc;
  bool swap;
  DType dtype;
};

// Writes `v` (already normalised) as one element of dtype `d` at `out`, by the rule above.
void CastOne(double v, DType d, uint8_t* out);

// A lookup table for 1-byte sources: 256 entries per output channel (indexed by the raw byte),
// each an element of cv.out. Built once per batch (on the JS thread).
std::vector<uint8_t> BuildLut8(DType src, const BatchConvert& cv, int64_t channels);

// Converts the h x w x c block into `dst` (the address of the output's element (0, 0, 0),
// element strides dsy/dsx/dsc). Row j of the output reads source row rows[j]; column i reads
// the source byte offset xoff[i] (already multiplied by the source x stride); xoff null: the
// identity (column i at i * src.sx), which takes a fast path for packed native-order u8/u16/f32
// sources into u8/u16/f32/f64 (all channels in one pass over a row; same values). `lut`: from
// BuildLut8 for 1-byte sources, else null. Block channel k is output channel k0 + k (its mean, std and
// LUT entries); `dst` is the address of that channel k0 already.
void ConvertBlock(const SrcBlock& src, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
                  uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut,
                  int64_t k0 = 0);

// Sets every element of the h x w x c slot at `dst` on channel k to the element `value + k *
// itemsize(d)` (one converted value per channel).
void FillSlot(uint8_t* dst, int64_t h, int64_t w, int64_t c, int64_t dsy, int64_t dsx, int64_t dsc, DType d,
              const uint8_t* values);

}  // namespace nds
