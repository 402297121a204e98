// TransposeBlock (see transpose_block.h). Pure C++, any thread.
#include "batch/transpose_block.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "batch/cast.h"

namespace nds {

namespace {

// PREFETCHW where the compiler may not emit it (x86-64 without -mprfchw; a NOP on CPUs without it).
inline void PrefetchW(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1, 3);
#endif
}

enum Mode : int { kLut = 0, kCast = 1, kNormalize = 2 };

// One value of block channel k (its bytes at p) as the batch converts it (batch_kernel.h).
template <typename S, typename D, int MODE>
inline D Convert(const uint8_t* p, int64_t k, const D* table, bool swap, const BatchConvert& cv, int64_t k0) {
  if constexpr (MODE == kLut) {
    return table[k * 256 + *p];
  } else if constexpr (MODE == kCast) {
    return CastTo<D>(static_cast<double>(Load<S>(p, swap)));
  } else {
    return CastTo<D>((static_cast<double>(Load<S>(p, swap)) * cv.scale - cv.mean[k0 + k]) / cv.stdv[k0 + k]);
  }
}

struct Strip {
  const uint8_t* buf;  // n rows of `pitch` bytes: the strip's source rows from column offset xoff[0]
  int64_t pitch, n;
  const int64_t* col;  // byte offset of column x in a buffered row, or null: x * px
  int64_t px, sc;      // bytes per pixel, per channel
  // The next strip's source rows (`span` bytes each), asked for a few at a time while this one is
  // written: all at once, most of the requests would find no free miss buffer and be dropped.
  const uint8_t* const* next;
  int64_t nextN, span;
};

inline void PrefetchRow(const uint8_t* p, int64_t span) {
  for (int64_t b = 0; b < span; b += 64) __builtin_prefetch(p + b, 0, 2);
  __builtin_prefetch(p + span - 1, 0, 2);
}

// Writes a strip (n source rows, w columns) into the output: source (r, x) to d0 + r * dsy + x * dsx,
// in tiles of kTile columns, so a tile's output lines (kTile x c of them) fill up in L1 as its
// rows go by. KC > 0: the channel count, known at compile time.
template <typename S, typename D, int KC, int MODE>
void StripT(const Strip& s, int64_t w, int64_t cRun, D* d0, int64_t dsy, int64_t dsx, int64_t dsc, const D* table,
            bool swap, const BatchConvert& cv, int64_t k0) {
  const int64_t c = KC > 0 ? KC : cRun;
  const int64_t last = (s.n - 1) * dsy;
  const int64_t tiles = (w + kTile - 1) / kTile;
  int64_t asked = 0;
  for (int64_t x0 = 0, t = 0; x0 < w; x0 += kTile, ++t) {
    const int64_t x1 = std::min(w, x0 + kTile);
    for (const int64_t upto = (t + 1) * s.nextN / tiles; asked < upto; ++asked) PrefetchRow(s.next[asked], s.span);
    // The next tile's output lines, for writing.
    for (int64_t x = x1; x < std::min(w, x1 + kTile); ++x) {
      for (int64_t k = 0; k < c; ++k) {
        PrefetchW(d0 + x * dsx + k * dsc);
        PrefetchW(d0 + x * dsx + k * dsc + last);
      }
    }
    for (int64_t r = 0; r < s.n; ++r) {
      const uint8_t* const sr = s.buf + r * s.pitch;
      D* q = d0 + r * dsy + x0 * dsx;
      if (s.col == nullptr && KC > 0 && s.px == KC * static_cast<int64_t>(sizeof(S)) && s.sc == sizeof(S)) {
        // packed pixels of KC channels: the common case, with every stride but the output's known
        constexpr int64_t PX = KC * static_cast<int64_t>(sizeof(S));
        const uint8_t* p = sr + x0 * PX;
        for (int64_t x = x0; x < x1; ++x, p += PX, q += dsx) {
          for (int64_t k = 0; k < KC; ++k) q[k * dsc] = Convert<S, D, MODE>(p + k * sizeof(S), k, table, swap, cv, k0);
        }
        continue;
      }
      for (int64_t x = x0; x < x1; ++x, q += dsx) {
        const uint8_t* p = sr + (s.col != nullptr ? s.col[x] : x * s.px);
        for (int64_t k = 0; k < c; ++k) q[k * dsc] = Convert<S, D, MODE>(p + k * s.sc, k, table, swap, cv, k0);
      }
    }
  }
}

template <typename S, typename D, int MODE>
void StripC(const Strip& s, int64_t w, int64_t c, D* d0, int64_t dsy, int64_t dsx, int64_t dsc, const D* table,
            bool swap, const BatchConvert& cv, int64_t k0) {
  if (c == 1) return StripT<S, D, 1, MODE>(s, w, c, d0, dsy, dsx, dsc, table, swap, cv, k0);
  if (c == 3) return StripT<S, D, 3, MODE>(s, w, c, d0, dsy, dsx, dsc, table, swap, cv, k0);
  if (c == 4) return StripT<S, D, 4, MODE>(s, w, c, d0, dsy, dsx, dsc, table, swap, cv, k0);
  StripT<S, D, 0, MODE>(s, w, c, d0, dsy, dsx, dsc, table, swap, cv, k0);
}

// `buf`: kStrip rows of `pitch` bytes, where each strip's source rows are copied (row by row:
// sequential reads) before the strip is turned. Read in place, rows whose addresses differ by a
// multiple of 4 KiB (an image 8192 pixels wide) fall into one L1 set, and 16 of them thrash it.
template <typename S, typename D>
void TransposeT(const SrcBlock& s, const int64_t* rows, const int64_t* xoff, bool dense, int64_t h, int64_t w,
                int64_t c, uint8_t* dstBytes, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv,
                const uint8_t* lut, int64_t k0, uint8_t* buf, int64_t pitch, int64_t* col) {
  D* dst = reinterpret_cast<D*>(dstBytes);
  const int64_t x0 = xoff[0];
  const int64_t span = xoff[w - 1] - x0 + (c - 1) * s.sc + static_cast<int64_t>(sizeof(S));
  if (!dense) {
    for (int64_t x = 0; x < w; ++x) col[x] = xoff[x] - x0;
  }
  const uint8_t* next[kStrip];
  Strip st{buf, pitch, 0, dense ? nullptr : col, s.sx, s.sc, next, 0, span};
  const D* table = sizeof(S) == 1 && lut != nullptr ? reinterpret_cast<const D*>(lut) + k0 * 256 : nullptr;
  const int mode = table != nullptr ? kLut : cv.normalize ? kNormalize : kCast;
  auto row = [&](int64_t y) { return s.base + rows[y] * s.sy + x0; };
  for (int64_t y = 0; y < std::min(h, kStrip); ++y) PrefetchRow(row(y), span);
  for (int64_t y0 = 0; y0 < h; y0 += kStrip) {
    st.n = std::min(kStrip, h - y0);
    for (int64_t r = 0; r < st.n; ++r) std::memcpy(buf + r * pitch, row(y0 + r), static_cast<size_t>(span));
    st.nextN = std::max<int64_t>(0, std::min(kStrip, h - y0 - kStrip));
    for (int64_t r = 0; r < st.nextN; ++r) next[r] = row(y0 + kStrip + r);
    D* const d0 = dst + y0 * dsy;
    if (mode == kLut) {
      StripC<S, D, kLut>(st, w, c, d0, dsy, dsx, dsc, table, s.swap, cv, k0);
    } else if (mode == kCast) {
      StripC<S, D, kCast>(st, w, c, d0, dsy, dsx, dsc, table, s.swap, cv, k0);
    } else {
      StripC<S, D, kNormalize>(st, w, c, d0, dsy, dsx, dsc, table, s.swap, cv, k0);
    }
  }
}

using TransposeFn = void (*)(const SrcBlock&, const int64_t*, const int64_t*, bool, int64_t, int64_t, int64_t, uint8_t*,
                             int64_t, int64_t, int64_t, const BatchConvert&, const uint8_t*, int64_t, uint8_t*, int64_t,
                             int64_t*);

TransposeFn Pick(DType s, DType d) {
  return VisitDType(s, [d](auto sv) {
    using S = decltype(sv);
    return VisitDType(d, [](auto dv) -> TransposeFn { return &TransposeT<S, decltype(dv)>; });
  });
}

}  // namespace

void TransposeBlock(const SrcBlock& src, const int64_t* rows, const int64_t* xoff, int64_t h, int64_t w, int64_t c,
                    uint8_t* dst, int64_t dsy, int64_t dsx, int64_t dsc, const BatchConvert& cv, const uint8_t* lut,
                    int64_t k0) {
  if (h <= 0 || w <= 0 || c <= 0) return;
  // One per thread, not per instantiation: static TLS is scarce in a dlopen'ed addon. The pitch
  // is a whole number of lines plus one, so the strip's rows fall into different L1 sets.
  thread_local std::vector<uint8_t> buf;
  thread_local std::vector<int64_t> ident, col;
  const bool dense = xoff == nullptr;
  if (dense) {
    ident.resize(static_cast<size_t>(w));
    for (int64_t x = 0; x < w; ++x) ident[x] = x * src.sx;
    xoff = ident.data();
  }
  col.resize(static_cast<size_t>(w));
  const int64_t span = xoff[w - 1] - xoff[0] + (c - 1) * src.sc + ItemSize(src.dtype);
  const int64_t pitch = ((span + 63) / 64 + 1) * 64;
  buf.resize(static_cast<size_t>(kStrip * pitch));
  Pick(src.dtype, cv.out)(src, rows, xoff, dense, h, w, c, dst, dsy, dsx, dsc, cv, lut, k0, buf.data(), pitch,
                          col.data());
}

}  // namespace nds
