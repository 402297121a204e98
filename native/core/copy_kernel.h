// Strided copy of an HWC window from a source layout into a destination layout.
// Pure C++: safe to call from any thread. Bounds must be checked by the caller.
#pragma once
#include <cstdint>
#include <cstring>

namespace nds {

struct SrcLayout {
  const uint8_t* base;  // address of element (0, 0, 0)
  int64_t sy, sx, sc;   // strides in bytes
  int itemsize;         // 1, 2, 4 or 8
  bool swap;            // byte-swap every item (big-endian data on this machine)
};

namespace detail {
template <int N>
inline void SwapCopy(uint8_t* d, const uint8_t* s) {
  for (int i = 0; i < N; ++i) d[i] = s[N - 1 - i];
}
inline void CopyItem(uint8_t* d, const uint8_t* s, int n, bool swap) {
  if (!swap) {
    std::memcpy(d, s, n);
    return;
  }
  switch (n) {
    case 2:
      SwapCopy<2>(d, s);
      break;
    case 4:
      SwapCopy<4>(d, s);
      break;
    case 8:
      SwapCopy<8>(d, s);
      break;
    default:
      *d = *s;
  }
}
// Element-by-element copy with typed loads and stores (strides in bytes). When the destination
// is contiguous along x (band-planar output) the channel loop is outermost, so the inner loop
// writes consecutive elements.
template <typename T>
inline void StridedCopy(const uint8_t* s0, int64_t sy, int64_t sx, int64_t sc, int64_t h, int64_t w, int64_t c,
                        uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc) {
  T v;
  if (dsx == static_cast<int64_t>(sizeof(T))) {
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t k = 0; k < c; ++k) {
        const uint8_t* s = s0 + y * sy + k * sc;
        uint8_t* d = dst + y * dsy + k * dsc;
        for (int64_t x = 0; x < w; ++x) {
          std::memcpy(&v, s + x * sx, sizeof(T));
          std::memcpy(d + x * sizeof(T), &v, sizeof(T));
        }
      }
    }
    return;
  }
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const uint8_t* s = s0 + y * sy + x * sx;
      uint8_t* d = dst + y * dsy + x * dsx;
      for (int64_t k = 0; k < c; ++k) {
        std::memcpy(&v, s + k * sc, sizeof(T));
        std::memcpy(d + k * dsc, &v, sizeof(T));
      }
    }
  }
}
}  // namespace detail

// Copies window rows [y0, y0+h) x cols [x0, x0+w) x channels [c0, c0+c) of `src` to `dst`
// (byte address of the destination's (0,0,0)) with destination strides in bytes.
inline void CopyWindow(const SrcLayout& src, int64_t y0, int64_t x0, int64_t c0, int64_t h, int64_t w, int64_t c,
                       uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc) {
  if (h <= 0 || w <= 0 || c <= 0) return;
  const int n = src.itemsize;
  const uint8_t* s0 = src.base + y0 * src.sy + x0 * src.sx + c0 * src.sc;
  const bool srcPixelContig = src.sc == n;
  const bool dstPixelContig = dsc == n;
  if (!src.swap && srcPixelContig && dstPixelContig) {
    const int64_t pix = c * n;
    if (src.sx == pix && dsx == pix) {
      const int64_t row = w * pix;
      if (src.sy == row && dsy == row) {  // the whole window is one block
        std::memcpy(dst, s0, static_cast<size_t>(row * h));
        return;
      }
      for (int64_t y = 0; y < h; ++y) std::memcpy(dst + y * dsy, s0 + y * src.sy, row);
      return;
    }
    for (int64_t y = 0; y < h; ++y) {
      const uint8_t* s = s0 + y * src.sy;
      uint8_t* d = dst + y * dsy;
      for (int64_t x = 0; x < w; ++x) std::memcpy(d + x * dsx, s + x * src.sx, pix);
    }
    return;
  }
  if (!src.swap) {  // any strides (planar output, Fortran order): typed element loops
    switch (n) {
      case 1:
        detail::StridedCopy<uint8_t>(s0, src.sy, src.sx, src.sc, h, w, c, dst, dsy, dsx, dsc);
        return;
      case 2:
        detail::StridedCopy<uint16_t>(s0, src.sy, src.sx, src.sc, h, w, c, dst, dsy, dsx, dsc);
        return;
      case 4:
        detail::StridedCopy<uint32_t>(s0, src.sy, src.sx, src.sc, h, w, c, dst, dsy, dsx, dsc);
        return;
      case 8:
        detail::StridedCopy<uint64_t>(s0, src.sy, src.sx, src.sc, h, w, c, dst, dsy, dsx, dsc);
        return;
      default:
        break;
    }
  }
  // General path: any strides, optional byte swap.
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const uint8_t* s = s0 + y * src.sy + x * src.sx;
      uint8_t* d = dst + y * dsy + x * dsx;
      for (int64_t k = 0; k < c; ++k) detail::CopyItem(d + k * dsc, s + k * src.sc, n, src.swap);
    }
  }
}

}  // namespace nds
