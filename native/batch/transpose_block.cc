// TransposeBlock (see transpose_block.h). Pure C++, any thread.
#include "batch/transpose_block.h"

#include <algorithm>

#include "batch/cast.h"

namespace nds {

namespace {

inline void PrefetchRow(const uint8_t* p, int64_t bytes) {
  for (int64_t i = 0; i < bytes; i += 64) __builtin_prefetch(p + i, 0, 3);
}

template <typename S, typename D>
void TransposeT(const SrcBlock& s, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
                uint8_t* dstBytes, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut,
                int64_t k0) {
  D* dst = reinterpret_cast<D*>(dstBytes);
  const uint8_t* src[kStrip];
  // The bytes a strip's row spans in the source (for the prefetch of the next strip).
  const int64_t span = xoff[w - 1] - xoff[0] + c * s.sc;
  for (int64_t y0 = 0; y0 < h; y0 += kStrip) {
    const int64_t n = std::min(kStrip, h - y0);
    for (int64_t r = 0; r < n; ++r) src[r] = s.base + rows[y0 + r] * s.sy;
    for (int64_t r = y0 + kStrip; r < std::min(h, y0 + 2 * kStrip); ++r) {
      PrefetchRow(s.base + rows[r] * s.sy + xoff[0], span);
    }
    D* const d0 = dst + y0 * dsy;
    for (int64_t x = 0; x < w; ++x) {
      const int64_t off = xoff[x];
      D* const dx = d0 + x * dsx;
      for (int64_t k = 0; k < c; ++k) {
        D* d = dx + k * dsc;
        const int64_t o = off + k * s.sc;
        if (sizeof(S) == 1 && lut != nullptr) {
          const D* table = reinterpret_cast<const D*>(lut) + (k0 + k) * 256;
          for (int64_t r = 0; r < n; ++r) d[r * dsy] = table[src[r][o]];
        } else if (!cv.normalize) {
          for (int64_t r = 0; r < n; ++r) d[r * dsy] = CastTo<D>(static_cast<double>(Load<S>(src[r] + o, s.swap)));
        } else {
          const double scale = cv.scale, mean = cv.mean[k0 + k], sd = cv.stdv[k0 + k];
          for (int64_t r = 0; r < n; ++r) {
            d[r * dsy] = CastTo<D>((static_cast<double>(Load<S>(src[r] + o, s.swap)) * scale - mean) / sd);
          }
        }
      }
    }
  }
}

using TransposeFn = void (*)(const SrcBlock&, const int64_t*, const int64_t*, int64_t, int64_t, int64_t, uint8_t*,
                             int64_t, int64_t, int64_t, const BatchConvert&, const uint8_t*, int64_t);

template <typename S>
TransposeFn PickDst(DType d) {
  switch (d) {
    case DType::U8:
      return &TransposeT<S, uint8_t>;
    case DType::I8:
      return &TransposeT<S, int8_t>;
    case DType::U16:
      return &TransposeT<S, uint16_t>;
    case DType::I16:
      return &TransposeT<S, int16_t>;
    case DType::U32:
      return &TransposeT<S, uint32_t>;
    case DType::I32:
      return &TransposeT<S, int32_t>;
    case DType::F32:
      return &TransposeT<S, float>;
    case DType::F64:
      return &TransposeT<S, double>;
  }
  return nullptr;
}

TransposeFn Pick(DType s, DType d) {
  switch (s) {
    case DType::U8:
      return PickDst<uint8_t>(d);
    case DType::I8:
      return PickDst<int8_t>(d);
    case DType::U16:
      return PickDst<uint16_t>(d);
    case DType::I16:
      return PickDst<int16_t>(d);
    case DType::U32:
      return PickDst<uint32_t>(d);
    case DType::I32:
      return PickDst<int32_t>(d);
    case DType::F32:
      return PickDst<float>(d);
    case DType::F64:
      return PickDst<double>(d);
  }
  return nullptr;
}

}  // namespace

void TransposeBlock(const SrcBlock& src, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
                    uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut,
                    int64_t k0) {
  if (h <= 0 || w <= 0 || c <= 0) return;
  Pick(src.dtype, cv.out)(src, rows, xoff, h, w, c, dst, dsy, dsx, dsc, cv, lut, k0);
}

}  // namespace nds
