// Element loads and the batch's conversion of one value to an output dtype (docs/api.md
// "loadBatch", Conversion), shared by the window kernel (batch_kernel.cc) and the fused sampler.
// Pure C++, any thread.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace nds {

// `v` as an element of D: float32 by IEEE round-to-nearest, float64 as is, an integer dtype by
// rounding to nearest (ties to even) and saturating to its range (NaN becomes 0).
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

// One element of type S at `p` (unaligned), byte-swapped when `swap`.
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

// JavaScript's Math.round: the nearest integer, halves rounded up (towards +infinity).
inline double JsRound(double x) {
  const double r = std::floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}

}  // namespace nds
