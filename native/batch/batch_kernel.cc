// The fused per-crop kernel of loadBatch (see batch_kernel.h). Pure C++, any thread.
#include "batch/batch_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "batch/cast.h"
#include "batch/transpose_block.h"

namespace nds {

namespace {

template <typename S, typename D>
void ConvertT(const SrcBlock& s, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
              uint8_t* dstBytes, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut,
              int64_t k0) {
  D* dst = reinterpret_cast<D*>(dstBytes);
  if constexpr (std::is_same_v<S, D>) {
    // The same values in the same type, each pixel's channels adjacent on both sides: copy pixels.
    if (!cv.normalize && !s.swap && s.sc == static_cast<int64_t>(sizeof(S)) && dsc == 1) {
      for (int64_t y = 0; y < h; ++y) {
        const uint8_t* srow = s.base + rows[y] * s.sy;
        D* d = dst + y * dsy;
        if (c == 1) {
          for (int64_t x = 0; x < w; ++x) std::memcpy(d + x * dsx, srow + xoff[x], sizeof(S));
        } else {
          for (int64_t x = 0; x < w; ++x) {
            const uint8_t* p = srow + xoff[x];
            D* q = d + x * dsx;
            for (int64_t k = 0; k < c; ++k) std::memcpy(q + k, p + k * sizeof(S), sizeof(S));
          }
        }
      }
      return;
    }
  }
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* srow = s.base + rows[y] * s.sy;
    for (int64_t k = 0; k < c; ++k) {
      const uint8_t* sk = srow + k * s.sc;
      D* d = dst + y * dsy + k * dsc;
      if (sizeof(S) == 1 && lut != nullptr) {
        const D* table = reinterpret_cast<const D*>(lut) + (k0 + k) * 256;
        if (dsx == 1) {
          for (int64_t x = 0; x < w; ++x) d[x] = table[sk[xoff[x]]];
        } else {
          for (int64_t x = 0; x < w; ++x) d[x * dsx] = table[sk[xoff[x]]];
        }
      } else if (!cv.normalize) {
        for (int64_t x = 0; x < w; ++x) d[x * dsx] = CastTo<D>(static_cast<double>(Load<S>(sk + xoff[x], s.swap)));
      } else {
        const double scale = cv.scale, mean = cv.mean[k0 + k], sd = cv.stdv[k0 + k];
        for (int64_t x = 0; x < w; ++x) {
          const double v = static_cast<double>(Load<S>(sk + xoff[x], s.swap));
          d[x * dsx] = CastTo<D>((v * scale - mean) / sd);
        }
      }
    }
  }
}

inline void Prefetch(const uint8_t* p, int64_t bytes) {
  for (int64_t i = 0; i < bytes; i += 64) __builtin_prefetch(p + i, 0, 3);
  __builtin_prefetch(p + bytes - 1, 0, 3);
}

// ---- fast path: identity column mapping, packed pixels (sx == c * itemsize, sc == itemsize),
// native byte order. One pass over each source row for all channels (KC > 0: the channel count,
// known at compile time, so the channel loop unrolls; KC == 0: any count). The values are the
// same as ConvertT's (the same LUT entries, the same float64 expression), only the loops differ.
template <typename S, typename D, int KC>
void FastRowsT(const SrcBlock& s, const int64_t* rows, int64_t h, int64_t w, int64_t cRun, uint8_t* dstBytes,
               int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut, int64_t k0) {
  const int64_t c = KC > 0 ? KC : cRun;
  D* dst = reinterpret_cast<D*>(dstBytes);
  const int64_t rowBytes = w * c * static_cast<int64_t>(sizeof(S));
  // Each source row of a crop starts a new page, where the hardware prefetcher starts cold: the
  // loop would wait on memory at every row. Ask for the rows ahead (a hint: it never faults).
  constexpr int64_t kAhead = 2;
  for (int64_t y = 0; y < std::min<int64_t>(kAhead, h); ++y) Prefetch(s.base + rows[y] * s.sy, rowBytes);
  // Channel planes (NCHW: dsx == 1) or interleaved (NHWC: dsc == 1, dsx == c).
  for (int64_t y = 0; y < h; ++y) {
    if (y + kAhead < h) Prefetch(s.base + rows[y + kAhead] * s.sy, rowBytes);
    const S* __restrict src = reinterpret_cast<const S*>(s.base + rows[y] * s.sy);
    D* __restrict d = dst + y * dsy;
    if constexpr (std::is_same_v<S, D>) {
      if (!cv.normalize && lut == nullptr && dsc == 1 && dsx == c) {  // the same row: copy it
        std::memcpy(d, src, static_cast<size_t>(w * c) * sizeof(S));
        continue;
      }
    }
    if (sizeof(S) == 1 && lut != nullptr) {
      const D* __restrict table = reinterpret_cast<const D*>(lut) + k0 * 256;
      const uint8_t* __restrict sb = reinterpret_cast<const uint8_t*>(src);
      if (dsc == 1 && dsx == c) {
        const int64_t n = w * c;
        if (KC > 0) {
          for (int64_t x = 0; x < w; ++x) {
            for (int64_t k = 0; k < c; ++k) d[x * c + k] = table[k * 256 + sb[x * c + k]];
          }
        } else {
          for (int64_t i = 0, k = 0; i < n; ++i) {
            d[i] = table[k * 256 + sb[i]];
            if (++k == c) k = 0;
          }
        }
      } else {
        for (int64_t x = 0; x < w; ++x) {
          for (int64_t k = 0; k < c; ++k) d[k * dsc + x * dsx] = table[k * 256 + sb[x * c + k]];
        }
      }
    } else if (!cv.normalize) {
      if (dsx == 1) {
        for (int64_t k = 0; k < c; ++k) {
          D* __restrict dk = d + k * dsc;
          const S* __restrict sk = src + k;
          if constexpr (std::is_same_v<S, D>) {
            for (int64_t x = 0; x < w; ++x) dk[x] = sk[x * c];
          } else {
            for (int64_t x = 0; x < w; ++x) dk[x] = CastTo<D>(static_cast<double>(sk[x * c]));
          }
        }
      } else {
        for (int64_t x = 0; x < w; ++x) {
          for (int64_t k = 0; k < c; ++k) d[k * dsc + x * dsx] = CastTo<D>(static_cast<double>(src[x * c + k]));
        }
      }
    } else {
      const double scale = cv.scale;
      if (dsx == 1) {
        for (int64_t k = 0; k < c; ++k) {
          const double mean = cv.mean[k0 + k], sd = cv.stdv[k0 + k];
          D* __restrict dk = d + k * dsc;
          const S* __restrict sk = src + k;
          for (int64_t x = 0; x < w; ++x) dk[x] = CastTo<D>((static_cast<double>(sk[x * c]) * scale - mean) / sd);
        }
      } else {
        for (int64_t x = 0; x < w; ++x) {
          for (int64_t k = 0; k < c; ++k) {
            d[k * dsc + x * dsx] =
                CastTo<D>((static_cast<double>(src[x * c + k]) * scale - cv.mean[k0 + k]) / cv.stdv[k0 + k]);
          }
        }
      }
    }
  }
}

using FastFn = void (*)(const SrcBlock&, const int64_t*, int64_t, int64_t, int64_t, uint8_t*, int64_t, int64_t, int64_t,
                        const BatchConvert&, const uint8_t*, int64_t);

template <typename S, typename D>
FastFn PickFastC(int64_t c) {
  if (c == 1) return &FastRowsT<S, D, 1>;
  if (c == 3) return &FastRowsT<S, D, 3>;
  if (c == 4) return &FastRowsT<S, D, 4>;
  return &FastRowsT<S, D, 0>;
}

// The fast path covers the common sources and outputs; others take ConvertT.
template <typename S>
FastFn PickFastDst(DType d, int64_t c) {
  switch (d) {
    case DType::U8:
      return PickFastC<S, uint8_t>(c);
    case DType::F32:
      return PickFastC<S, float>(c);
    case DType::F64:
      return PickFastC<S, double>(c);
    case DType::U16:
      return PickFastC<S, uint16_t>(c);
    default:
      return nullptr;
  }
}

FastFn PickFast(DType s, DType d, int64_t c) {
  switch (s) {
    case DType::U8:
      return PickFastDst<uint8_t>(d, c);
    case DType::U16:
      return PickFastDst<uint16_t>(d, c);
    case DType::F32:
      return PickFastDst<float>(d, c);
    default:
      return nullptr;
  }
}

using ConvertFn = void (*)(const SrcBlock&, const int64_t*, const int64_t*, int64_t, int64_t, int64_t, uint8_t*,
                           int64_t, int64_t, int64_t, const BatchConvert&, const uint8_t*, int64_t);

ConvertFn PickConvert(DType s, DType d) {
  return VisitDType(s, [d](auto sv) {
    using S = decltype(sv);
    return VisitDType(d, [](auto dv) -> ConvertFn { return &ConvertT<S, decltype(dv)>; });
  });
}

template <typename D>
void Store(double v, uint8_t* out) {
  const D x = CastTo<D>(v);
  std::memcpy(out, &x, sizeof(D));
}

}  // namespace

void CastOne(double v, DType d, uint8_t* out) {
  switch (d) {
    case DType::U8:
      return Store<uint8_t>(v, out);
    case DType::I8:
      return Store<int8_t>(v, out);
    case DType::U16:
      return Store<uint16_t>(v, out);
    case DType::I16:
      return Store<int16_t>(v, out);
    case DType::U32:
      return Store<uint32_t>(v, out);
    case DType::I32:
      return Store<int32_t>(v, out);
    case DType::F32:
      return Store<float>(v, out);
    case DType::F64:
      return Store<double>(v, out);
  }
}

std::vector<uint8_t> BuildLut8(DType src, const BatchConvert& cv, int64_t channels) {
  const int n = ItemSize(cv.out);
  std::vector<uint8_t> lut(static_cast<size_t>(256 * channels * n));
  for (int64_t k = 0; k < channels; ++k) {
    for (int b = 0; b < 256; ++b) {
      const double x = src == DType::I8 ? static_cast<double>(static_cast<int8_t>(b)) : static_cast<double>(b);
      CastOne(cv.Apply(x, k), cv.out, lut.data() + (k * 256 + b) * n);
    }
  }
  return lut;
}

void ConvertBlock(const SrcBlock& src, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
                  uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut,
                  int64_t k0) {
  if (h <= 0 || w <= 0 || c <= 0) return;
  const int64_t isz = ItemSize(src.dtype);
  // A turned crop's destination (orient.h): the block is turned first (transpose_block.h).
  const bool transposing = TransposingDst(dsy, dsx, h);
  if (!transposing && h > 1 && (dsy < 0) != (dsx < 0)) {
    // A flipped crop (rows one way, each row the other): written bottom row first, so the whole
    // block is one monotonic sweep of the output, which the memory system streams (rows in one
    // direction and their elements in the other measured twice as slow).
    thread_local std::vector<int64_t> reversed;
    reversed.assign(rows, rows + h);
    std::reverse(reversed.begin(), reversed.end());
    return ConvertBlock(src, reversed.data(), xoff, h, w, c, dst + (h - 1) * dsy * ItemSize(cv.out), -dsy, dsx, dsc, cv,
                        lut, k0);
  }
  if (transposing) return TransposeBlock(src, rows, xoff, h, w, c, dst, dsy, dsx, dsc, cv, lut, k0);
  if (xoff == nullptr) {
    if (!src.swap && src.sc == isz && src.sx == c * isz) {
      const FastFn fast = PickFast(src.dtype, cv.out, c);
      if (fast != nullptr) return fast(src, rows, h, w, c, dst, dsy, dsx, dsc, cv, lut, k0);
    }
    thread_local std::vector<int64_t> ident;
    ident.resize(static_cast<size_t>(w));
    for (int64_t i = 0; i < w; ++i) ident[i] = i * src.sx;
    xoff = ident.data();
  }
  PickConvert(src.dtype, cv.out)(src, rows, xoff, h, w, c, dst, dsy, dsx, dsc, cv, lut, k0);
}

void FillSlot(uint8_t* dst, int64_t h, int64_t w, int64_t c, int64_t dsy, int64_t dsx, int64_t dsc, DType d,
              const uint8_t* values) {
  const int64_t n = ItemSize(d);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t k = 0; k < c; ++k) {
      uint8_t* row = dst + (y * dsy + k * dsc) * n;
      const uint8_t* v = values + k * n;
      for (int64_t x = 0; x < w; ++x) std::memcpy(row + x * dsx * n, v, static_cast<size_t>(n));
    }
  }
}

}  // namespace nds
