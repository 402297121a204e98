// The fused per-crop kernel of loadBatch (see batch_kernel.h). Pure C++, any thread.
#include "batch/batch_kernel.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace nds {

namespace {

template <typename D>
inline D CastTo(double v) {
  if constexpr (std::is_floating_point_v<D>) {
    return static_cast<D>(v);
  } else {
    constexpr double lo = static_cast<double>(std::numeric_limits<D>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<D>::max());
    if (!(v == v)) return 0;  // NaN
    if (v <= lo) return std::numeric_limits<D>::min();
    if (v >= hi) return std::numeric_limits<D>::max();
    return static_cast<D>(std::nearbyint(v));  // the default rounding mode: to nearest, ties to even
  }
}

template <typename S>
inline S Load(const uint8_t* p, bool swap) {
  if (!swap) {
    S v;
    std::memcpy(&v, p, sizeof(S));
    return v;
  }
  uint8_t b[sizeof(S)];
  for (size_t i = 0; i < sizeof(S); ++i) b[i] = p[sizeof(S) - 1 - i];
  S v;
  std::memcpy(&v, b, sizeof(S));
  return v;
}

template <typename S, typename D>
void ConvertT(const SrcBlock& s, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
              uint8_t* dstBytes, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut) {
  D* dst = reinterpret_cast<D*>(dstBytes);
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* srow = s.base + rows[y] * s.sy;
    for (int64_t k = 0; k < c; ++k) {
      const uint8_t* sk = srow + k * s.sc;
      D* d = dst + y * dsy + k * dsc;
      if (sizeof(S) == 1 && lut != nullptr) {
        const D* table = reinterpret_cast<const D*>(lut) + k * 256;
        if (dsx == 1) {
          for (int64_t x = 0; x < w; ++x) d[x] = table[sk[xoff[x]]];
        } else {
          for (int64_t x = 0; x < w; ++x) d[x * dsx] = table[sk[xoff[x]]];
        }
      } else if (!cv.normalize) {
        for (int64_t x = 0; x < w; ++x) d[x * dsx] = CastTo<D>(static_cast<double>(Load<S>(sk + xoff[x], s.swap)));
      } else {
        const double scale = cv.scale, mean = cv.mean[k], sd = cv.stdv[k];
        for (int64_t x = 0; x < w; ++x) {
          const double v = static_cast<double>(Load<S>(sk + xoff[x], s.swap));
          d[x * dsx] = CastTo<D>((v * scale - mean) / sd);
        }
      }
    }
  }
}

using ConvertFn = void (*)(const SrcBlock&, const int64_t*, const int64_t*, int64_t, int64_t, int64_t, uint8_t*,
                           int64_t, int64_t, int64_t, const BatchConvert&, const uint8_t*);

template <typename S>
ConvertFn PickDst(DType d) {
  switch (d) {
    case DType::U8:
      return &ConvertT<S, uint8_t>;
    case DType::I8:
      return &ConvertT<S, int8_t>;
    case DType::U16:
      return &ConvertT<S, uint16_t>;
    case DType::I16:
      return &ConvertT<S, int16_t>;
    case DType::U32:
      return &ConvertT<S, uint32_t>;
    case DType::I32:
      return &ConvertT<S, int32_t>;
    case DType::F32:
      return &ConvertT<S, float>;
    case DType::F64:
      return &ConvertT<S, double>;
  }
  return nullptr;
}

ConvertFn PickConvert(DType s, DType d) {
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
                  uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut) {
  if (h <= 0 || w <= 0 || c <= 0) return;
  PickConvert(src.dtype, cv.out)(src, rows, xoff, h, w, c, dst, dsy, dsx, dsc, cv, lut);
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
