// The Gaussian prefilter (see antialias.h). Pure C++, any thread.
#include "batch/antialias.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace nds {

namespace {

// Normalised Gaussian taps for offsets -r .. r.
std::vector<double> Taps(double sigma, int64_t r) {
  std::vector<double> t(static_cast<size_t>(2 * r + 1));
  double sum = 0;
  for (int64_t i = -r; i <= r; ++i) {
    const double d = static_cast<double>(i);
    t[i + r] = std::exp(-(d * d) / (2 * sigma * sigma));
    sum += t[i + r];
  }
  for (double& v : t) v /= sum;
  return t;
}

// Index i of an axis of n samples reflected into [0, n) without repeating the edge (dcb|abcd|cba).
inline int64_t Reflect101(int64_t i, int64_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

// One pass along an axis: `lines` lines of `n` samples, sample k of line l at
// base + l * lineStride + k * step (doubles), each sample nb contiguous bands.
void Pass(const double* in, double* out, int64_t lines, int64_t lineStride, int64_t n, int64_t step, int64_t nb,
          const std::vector<double>& taps, int64_t r) {
  for (int64_t l = 0; l < lines; ++l) {
    const double* src = in + l * lineStride;
    double* dst = out + l * lineStride;
    for (int64_t k = 0; k < n; ++k) {
      for (int64_t b = 0; b < nb; ++b) {
        double acc = 0;
        for (int64_t t = -r; t <= r; ++t) acc += taps[t + r] * src[Reflect101(k + t, n) * step + b];
        dst[k * step + b] = acc;
      }
    }
  }
}

}  // namespace

void GaussianBlur(const double* in, int64_t h, int64_t w, int64_t nb, const double sigma[2], const int64_t radius[2],
                  double* out) {
  const size_t n = static_cast<size_t>(h * w * nb);
  thread_local std::vector<double> mid;
  mid.resize(n);
  if (sigma[0] > 0 && radius[0] > 0) {
    Pass(in, mid.data(), h, w * nb, w, nb, nb, Taps(sigma[0], radius[0]), radius[0]);
  } else {
    std::memcpy(mid.data(), in, n * sizeof(double));
  }
  if (sigma[1] > 0 && radius[1] > 0) {
    // Lines are columns: line x starts at x * nb, samples w * nb apart.
    const std::vector<double> taps = Taps(sigma[1], radius[1]);
    Pass(mid.data(), out, w, nb, h, w * nb, nb, taps, radius[1]);
  } else {
    std::memcpy(out, mid.data(), n * sizeof(double));
  }
}

}  // namespace nds
