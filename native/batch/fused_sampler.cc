// The multi-file sampler (see fused_sampler.h). Pure C++, any thread.
//
// The arithmetic follows the TypeScript reference expression by expression (coordinates as
// m0 * x + m1 * y + m2 in float64, the bilinear blend in the same order, Math.round for integer
// dtypes), so integer results are bit-exact and float ones equal.
#include "batch/fused_sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "batch/antialias.h"
#include "batch/batch_crop.h"
#include "batch/cast.h"

namespace nds {

namespace {

// A sample this close to a pixel edge counts as on it (lib/frames/fused.ts kTie): the edge of a
// crop or of a pixel is where exact arithmetic puts it, whatever the rounding of the affine (a
// sample at exactly the crop's first column, computed as -1e-17, is still in the crop; a turned
// or flipped affine picks the pixel the plain one picks).
constexpr double kTie = 1e-9;

// A part's crop as readable memory: pixel (0, 0) of band b0, byte strides, its size.
struct CropMem {
  const uint8_t* base = nullptr;
  int64_t sy = 0, sx = 0, sc = 0;
  int64_t h = 0, w = 0;
  DType dtype = DType::U8;
  bool swap = false;
};

// Two crop indices and the weights of a bilinear tap along one axis; a < 0: outside.
struct LinAxis {
  int64_t a = -1, b = -1;
  double t = 0, omt = 1;  // t and 1 - t
};

// The per-thread scratch of one part.
struct Scratch {
  std::vector<int64_t> rows, cols, boff;
  std::vector<LinAxis> rowsL, colsL;
  std::vector<uint8_t> block;  // a raster window as read
  std::vector<double> plain, blurred;
};

// A part's affine as the sampler uses it. An affine that swaps the axes (a quarter turn folded
// in by lib/frames/fused.ts: output rows follow crop columns and output columns crop rows) maps
// onto the crop's transposed view instead, where it is separable again; `swapped` says so.
struct PartAffine {
  double m[6];
  bool swapped = false;
  int64_t h = 0, w = 0;  // the crop as the affine sees it (readH x readW, or transposed)
};

PartAffine AffineOf(const FusedPart& pt) {
  PartAffine a;
  const double* m = pt.m;
  a.swapped = m[0] == 0 && m[4] == 0 && m[1] != 0 && m[3] != 0;
  const double t[6] = {m[3], m[4], m[5], m[0], m[1], m[2]};
  for (int k = 0; k < 6; ++k) a.m[k] = a.swapped ? t[k] : m[k];
  a.h = a.swapped ? pt.readW : pt.readH;
  a.w = a.swapped ? pt.readH : pt.readW;
  return a;
}

struct Ctx {
  const BatchJob* job;
  const FusedPart* pt;
  double m[6];  // pt's affine onto c (AffineOf)
  CropMem c;
  const int64_t* boff;  // byte offset of each written band in a crop pixel
  bool dequant;         // apply pt's dequantization when loading
  bool separable, nearest;
  const Scratch* g;
  int64_t i0, i1, j0, j1;  // the output rows/columns a separable part writes
  int64_t ra, rb;          // the output rows of this call (a block of the slot)
  SlotView v;
  bool byKernel;     // nearest, separable, not dequantized: the window kernel samples it
  bool consecutive;  // byKernel: the columns are consecutive crop columns from colBase
  int64_t colBase;
  bool npyMemory;  // the crop is an npy mapping (reads run armed)
  const BatchSource* src;
};

template <typename S>
inline double LoadV(const uint8_t* p, bool swap, const FusedPart& pt, bool dq) {
  const double x = static_cast<double>(Load<S>(p, swap));
  if (!dq) return x;
  if (pt.dequant == kDequantNodata && x == pt.nodata) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(static_cast<float>((x - pt.qmin) * pt.qscale + pt.omin));
}

inline double RoundFused(double v, int round) {
  if (round == kRoundF32) return static_cast<double>(static_cast<float>(v));
  if (round == kRoundInt) return JsRound(v);
  return v;
}

template <typename D>
inline void Put(uint8_t* p, double v, const BatchConvert& cv, int64_t k) {
  const D x = CastTo<D>(cv.normalize ? (v * cv.scale - cv.mean[k]) / cv.stdv[k] : v);
  std::memcpy(p, &x, sizeof(D));
}

template <typename S, typename D>
void SampleT(const Ctx& x) {
  const FusedPart& pt = *x.pt;
  const CropMem& c = x.c;
  const BatchConvert& cv = x.job->cv;
  const int64_t W = x.job->W, nb = pt.nb, ch0 = pt.ch0;
  const int64_t dsy = x.v.sy * static_cast<int64_t>(sizeof(D)), dsx = x.v.sx * static_cast<int64_t>(sizeof(D));
  const int64_t dsc = x.v.sc * static_cast<int64_t>(sizeof(D));
  uint8_t* const d0 = x.v.base + ch0 * dsc;
  const double* m = x.m;
  const double cw = static_cast<double>(c.w), chh = static_cast<double>(c.h);
  const int64_t ra = std::max(x.ra, x.i0), rb = std::min(x.rb, x.i1);  // separable rows of this block
  if (x.nearest) {
    if (x.separable) {
      for (int64_t i = ra; i < rb; ++i) {
        const uint8_t* srow = c.base + x.g->rows[i] * c.sy;
        for (int64_t j = x.j0; j < x.j1; ++j) {
          const uint8_t* sp = srow + x.g->cols[j] * c.sx;
          uint8_t* d = d0 + i * dsy + j * dsx;
          for (int64_t k = 0; k < nb; ++k)
            Put<D>(d + k * dsc, LoadV<S>(sp + x.boff[k], c.swap, pt, x.dequant), cv, ch0 + k);
        }
      }
      return;
    }
    for (int64_t i = x.ra; i < x.rb; ++i) {
      const double yy = static_cast<double>(i) + 0.5;
      for (int64_t j = 0; j < W; ++j) {
        const double xx = static_cast<double>(j) + 0.5;
        const double u = m[0] * xx + m[1] * yy + m[2] + kTie;
        const double vv = m[3] * xx + m[4] * yy + m[5] + kTie;
        if (!(u >= 0 && u < cw && vv >= 0 && vv < chh)) continue;  // floor outside the crop (or NaN)
        const uint8_t* sp = c.base + static_cast<int64_t>(vv) * c.sy + static_cast<int64_t>(u) * c.sx;
        uint8_t* d = d0 + i * dsy + j * dsx;
        for (int64_t k = 0; k < nb; ++k)
          Put<D>(d + k * dsc, LoadV<S>(sp + x.boff[k], c.swap, pt, x.dequant), cv, ch0 + k);
      }
    }
    return;
  }
  // Bilinear: (1 - ay) * ((1 - ax) * p00 + ax * p01) + ay * ((1 - ax) * p10 + ax * p11).
  auto blend = [&](const uint8_t* r0, const uint8_t* r1, const LinAxis& cx, const LinAxis& ry, uint8_t* d) {
    const uint8_t* p00 = r0 + cx.a * c.sx;
    const uint8_t* p01 = r0 + cx.b * c.sx;
    const uint8_t* p10 = r1 + cx.a * c.sx;
    const uint8_t* p11 = r1 + cx.b * c.sx;
    for (int64_t k = 0; k < nb; ++k) {
      const int64_t o = x.boff[k];
      const double v00 = LoadV<S>(p00 + o, c.swap, pt, x.dequant), v01 = LoadV<S>(p01 + o, c.swap, pt, x.dequant);
      const double v10 = LoadV<S>(p10 + o, c.swap, pt, x.dequant), v11 = LoadV<S>(p11 + o, c.swap, pt, x.dequant);
      const double val = ry.omt * (cx.omt * v00 + cx.t * v01) + ry.t * (cx.omt * v10 + cx.t * v11);
      Put<D>(d + k * dsc, RoundFused(val, pt.round), cv, ch0 + k);
    }
  };
  if (x.separable) {
    for (int64_t i = ra; i < rb; ++i) {
      const LinAxis& ry = x.g->rowsL[i];
      const uint8_t* r0 = c.base + ry.a * c.sy;
      const uint8_t* r1 = c.base + ry.b * c.sy;
      for (int64_t j = x.j0; j < x.j1; ++j) blend(r0, r1, x.g->colsL[j], ry, d0 + i * dsy + j * dsx);
    }
    return;
  }
  for (int64_t i = x.ra; i < x.rb; ++i) {
    const double yy = static_cast<double>(i) + 0.5;
    for (int64_t j = 0; j < W; ++j) {
      const double xx = static_cast<double>(j) + 0.5;
      const double u = m[0] * xx + m[1] * yy + m[2];
      const double vv = m[3] * xx + m[4] * yy + m[5];
      if (u < -kTie || vv < -kTie || u > cw + kTie || vv > chh + kTie || u != u || vv != vv) continue;
      const double fu = u - 0.5, fv = vv - 0.5;
      const double c0 = std::floor(fu), r0 = std::floor(fv);
      LinAxis cx, ry;
      cx.t = fu - c0, cx.omt = 1 - cx.t;
      ry.t = fv - r0, ry.omt = 1 - ry.t;
      cx.a = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(c0), 0), c.w - 1);
      cx.b = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(c0) + 1, 0), c.w - 1);
      ry.a = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(r0), 0), c.h - 1);
      ry.b = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(r0) + 1, 0), c.h - 1);
      blend(c.base + ry.a * c.sy, c.base + ry.b * c.sy, cx, ry, d0 + i * dsy + j * dsx);
    }
  }
}

using SampleFn = void (*)(const Ctx&);

SampleFn PickSample(DType s, DType d) {
  return VisitDType(s, [d](auto sv) {
    using S = decltype(sv);
    return VisitDType(d, [](auto dv) -> SampleFn { return &SampleT<S, decltype(dv)>; });
  });
}

// The first and last + 1 index of `n` whose entry is valid (>= 0); the valid ones form one run
// (coordinates are monotonic along an axis). [0, 0) when none.
template <typename T, typename Valid>
void ValidRun(const std::vector<T>& a, int64_t n, Valid valid, int64_t* lo, int64_t* hi) {
  int64_t i = 0;
  while (i < n && !valid(a[i])) ++i;
  int64_t j = n;
  while (j > i && !valid(a[j - 1])) --j;
  *lo = i, *hi = j;
}

// Geometry of a separable part: per output row/column the crop index (nearest) or the two taps
// (linear), and the run of rows and columns that land inside the crop.
void SeparableAxes(const CropMem& c, bool nearest, int64_t H, int64_t W, Scratch& g, Ctx& x) {
  const double* m = x.m;
  if (nearest) {
    g.rows.resize(static_cast<size_t>(H));
    g.cols.resize(static_cast<size_t>(W));
    auto index = [](double u, int64_t n) {
      u += kTie;
      return u >= 0 && u < static_cast<double>(n) ? static_cast<int64_t>(u) : -1;
    };
    for (int64_t j = 0; j < W; ++j) g.cols[j] = index(m[0] * (static_cast<double>(j) + 0.5) + m[2], c.w);
    for (int64_t i = 0; i < H; ++i) g.rows[i] = index(m[4] * (static_cast<double>(i) + 0.5) + m[5], c.h);
    auto ok = [](int64_t k) { return k >= 0; };
    ValidRun(g.rows, H, ok, &x.i0, &x.i1);
    ValidRun(g.cols, W, ok, &x.j0, &x.j1);
    return;
  }
  auto axis = [](double u, int64_t n) {
    LinAxis a;
    if (u < -kTie || u > static_cast<double>(n) + kTie || u != u) return a;
    const double fu = u - 0.5;
    const double f = std::floor(fu);
    a.t = fu - f, a.omt = 1 - a.t;
    a.a = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(f), 0), n - 1);
    a.b = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(f) + 1, 0), n - 1);
    return a;
  };
  g.rowsL.resize(static_cast<size_t>(H));
  g.colsL.resize(static_cast<size_t>(W));
  for (int64_t j = 0; j < W; ++j) g.colsL[j] = axis(m[0] * (static_cast<double>(j) + 0.5) + m[2], c.w);
  for (int64_t i = 0; i < H; ++i) g.rowsL[i] = axis(m[4] * (static_cast<double>(i) + 0.5) + m[5], c.h);
  auto ok = [](const LinAxis& a) { return a.a >= 0; };
  ValidRun(g.rowsL, H, ok, &x.i0, &x.i1);
  ValidRun(g.colsL, W, ok, &x.j0, &x.j1);
}

// Nearest, separable, no dequantization: the window kernel (LUTs, vectorised fast paths) does it,
// on the run of rows and columns inside the crop. Before the first block: its column offsets.
void PrepareKernel(Ctx& x, Scratch& g) {
  x.consecutive = true;
  for (int64_t j = x.j0 + 1; j < x.j1 && x.consecutive; ++j) x.consecutive = g.cols[j] == g.cols[j - 1] + 1;
  x.colBase = 0;
  if (x.j1 <= x.j0) return;
  if (x.consecutive) {
    x.colBase = g.cols[x.j0];
  } else {
    for (int64_t j = x.j0; j < x.j1; ++j) g.cols[j] *= x.c.sx;  // byte offsets for the kernel
  }
}

void NearestByKernel(const Ctx& x) {
  const BatchJob& job = *x.job;
  const FusedPart& pt = *x.pt;
  const int64_t ra = std::max(x.ra, x.i0), rb = std::min(x.rb, x.i1);
  const int64_t h = rb - ra, w = x.j1 - x.j0;
  if (h <= 0 || w <= 0) return;
  const int osz = ItemSize(job.cv.out);
  const uint8_t* lut = job.Lut(x.c.dtype);
  const int64_t* rows = x.g->rows.data() + ra;
  const int64_t* xoff = x.consecutive ? nullptr : x.g->cols.data() + x.j0;
  uint8_t* d = x.v.At(ra, x.j0, osz);
  bool run = true;  // bands b, b + 1, ...: one call for all
  for (int64_t k = 1; k < pt.nb && run; ++k) run = x.boff[k] == x.boff[k - 1] + x.c.sc;
  const int64_t calls = run ? 1 : pt.nb, per = run ? pt.nb : 1;
  for (int64_t k = 0; k < calls; ++k) {
    const SrcBlock b{x.c.base + x.colBase * x.c.sx + x.boff[k], x.c.sy, x.c.sx, x.c.sc, x.c.swap, x.c.dtype};
    ConvertBlock(b, rows, xoff, h, w, per, d + (pt.ch0 + k) * x.v.sc * osz, x.v.sy, x.v.sx, x.v.sc, job.cv, lut,
                 pt.ch0 + k);
  }
}

// Does a separable part write every pixel of the slot (for its channels)? Its coordinates are
// monotonic along each axis, so the first and last row and column decide.
bool Covers(const PartAffine& a, bool nearest, int64_t H, int64_t W) {
  const double* m = a.m;
  auto in = [&](double u, int64_t n) {
    return nearest ? (u + kTie >= 0 && u + kTie < static_cast<double>(n))
                   : (u >= -kTie && u <= static_cast<double>(n) + kTie);
  };
  auto at = [](int64_t i) { return static_cast<double>(i) + 0.5; };
  return in(m[0] * at(0) + m[2], a.w) && in(m[0] * at(W - 1) + m[2], a.w) && in(m[4] * at(0) + m[5], a.h) &&
         in(m[4] * at(H - 1) + m[5], a.h);
}

// The written bands of a crop as float64 (dequantized when asked), h x w x nb, for the blur.
template <typename S>
void ToDoublesT(const CropMem& c, const int64_t* boff, const FusedPart& pt, bool dq, double* out) {
  for (int64_t i = 0; i < c.h; ++i) {
    for (int64_t j = 0; j < c.w; ++j) {
      const uint8_t* p = c.base + i * c.sy + j * c.sx;
      for (int64_t k = 0; k < pt.nb; ++k) *out++ = LoadV<S>(p + boff[k], c.swap, pt, dq);
    }
  }
}

void ToDoubles(const CropMem& c, const int64_t* boff, const FusedPart& pt, bool dq, double* out) {
  VisitDType(c.dtype, [&](auto sv) { ToDoublesT<decltype(sv)>(c, boff, pt, dq, out); });
}

// Runs `fn` (reads of the source's memory) armed when that memory is an npy mapping.
template <typename F>
void Armed(const BatchSource& s, bool npyMemory, F&& fn) {
  if (npyMemory) {
    ReadArmed(s, fn);
  } else {
    fn();
  }
}

}  // namespace

namespace {

// Reads part `pt` (a raster window into g.block; an npy window is read in place), blurs it when
// antialiased, and computes its geometry.
void PreparePart(const BatchJob& job, const FusedPart& pt, const SlotView& v, Scratch& g, Ctx& x) {
  const BatchSource& s = job.sources[pt.src];
  const PartAffine a = AffineOf(pt);
  const double* m = a.m;
  x = Ctx{};
  x.job = &job, x.pt = &pt, x.v = v, x.g = &g, x.src = &s;
  for (int k = 0; k < 6; ++k) x.m[k] = m[k];
  x.separable = m[1] == 0 && m[3] == 0;
  // Unit steps (flipped or not) from pixel centres to pixel centres: every sample is a pixel.
  const bool exact =
      std::fabs(m[0]) == 1 && std::fabs(m[4]) == 1 && m[2] == std::floor(m[2]) && m[5] == std::floor(m[5]);
  x.nearest = pt.interp == kNearest || (x.separable && exact);
  const int isz = ItemSize(s.dtype);
  x.c.dtype = s.dtype;
  x.c.h = pt.readH, x.c.w = pt.readW;
  if (s.kind == SrcKind::kRaster) {
    const Window win{pt.y0, pt.y1, pt.x0, pt.x1, pt.b0, pt.b1};
    const int64_t nbr = pt.b1 - pt.b0;
    g.block.resize(static_cast<size_t>(pt.readH * pt.readW * nbr * isz));
    ReadRasterBlock(s, win, pt.readH, pt.readW, g.block.data());
    x.c.base = g.block.data();
    x.c.sy = pt.readW * nbr * isz, x.c.sx = nbr * isz, x.c.sc = isz;
  } else {
    const SrcLayout& L = s.layout;
    x.c.base = L.base + pt.y0 * L.sy + pt.x0 * L.sx + pt.b0 * L.sc;
    x.c.sy = L.sy, x.c.sx = L.sx, x.c.sc = L.sc, x.c.swap = L.swap;
    x.npyMemory = true;
  }
  g.boff.resize(static_cast<size_t>(pt.nb));
  for (int64_t k = 0; k < pt.nb; ++k) g.boff[k] = job.bands[pt.bandsAt + k] * x.c.sc;
  x.boff = g.boff.data();
  x.dequant = pt.dequant != kDequantNone;
  if (!x.nearest && (pt.aaSigma[0] > 0 || pt.aaSigma[1] > 0)) {
    // Antialiasing: the written bands as float64 (dequantized), blurred, then sampled.
    const int64_t n = x.c.h * x.c.w * pt.nb;
    g.plain.resize(static_cast<size_t>(n));
    g.blurred.resize(static_cast<size_t>(n));
    Armed(s, x.npyMemory, [&] { ToDoubles(x.c, x.boff, pt, x.dequant, g.plain.data()); });
    GaussianBlur(g.plain.data(), x.c.h, x.c.w, pt.nb, pt.aaSigma, pt.aaRadius, g.blurred.data());
    x.c = CropMem{reinterpret_cast<const uint8_t*>(g.blurred.data()),
                  x.c.w * pt.nb * 8,
                  pt.nb * 8,
                  8,
                  x.c.h,
                  x.c.w,
                  DType::F64,
                  false};
    for (int64_t k = 0; k < pt.nb; ++k) g.boff[k] = k * 8;
    x.dequant = false;
    x.npyMemory = false;
  }
  if (a.swapped) {  // sampled through the crop's transposed view
    std::swap(x.c.sy, x.c.sx);
    std::swap(x.c.h, x.c.w);
  }
  if (x.separable) SeparableAxes(x.c, x.nearest, job.H, job.W, g, x);
  x.byKernel = x.nearest && x.separable && !x.dequant;
  if (x.byKernel) PrepareKernel(x, g);
}

// Output rows per block: every part writes a block before the next block starts, so the slot's
// rows are written while they are in cache (a crop of many channels from several files would
// otherwise stream the whole slot through memory once per file).
constexpr int64_t kBlockBytes = 128 * 1024;

}  // namespace

void WriteFused(const BatchJob& job, const BatchItem& it, const SlotView& v) {
  thread_local std::vector<Scratch> scratch;
  thread_local std::vector<Ctx> ctxs;
  // The fill where no part writes: skipped when separable parts cover every channel's pixels.
  int64_t covered = 0;
  for (int64_t p = 0; p < it.nparts; ++p) {
    const FusedPart& pt = job.parts[it.part0 + p];
    const PartAffine a = AffineOf(pt);
    const bool separable = a.m[1] == 0 && a.m[3] == 0;
    if (separable && Covers(a, pt.interp == kNearest, job.H, job.W)) covered += pt.nb;
  }
  if (covered < job.C) FillView(job, v, it.fill);
  if (scratch.size() < static_cast<size_t>(it.nparts)) scratch.resize(static_cast<size_t>(it.nparts));
  ctxs.resize(static_cast<size_t>(it.nparts));
  for (int64_t p = 0; p < it.nparts; ++p) PreparePart(job, job.parts[it.part0 + p], v, scratch[p], ctxs[p]);
  const int64_t rowBytes = std::max<int64_t>(1, job.W * job.C * ItemSize(job.cv.out));
  const int64_t rows = std::max<int64_t>(1, kBlockBytes / rowBytes);
  for (int64_t r0 = 0; r0 < job.H; r0 += rows) {
    for (Ctx& x : ctxs) {
      x.ra = r0, x.rb = std::min(job.H, r0 + rows);
      const SampleFn fn = x.byKernel ? nullptr : PickSample(x.c.dtype, job.cv.out);
      Armed(*x.src, x.npyMemory, [&] {
        if (x.byKernel) {
          NearestByKernel(x);
        } else {
          fn(x);
        }
      });
    }
  }
}

}  // namespace nds
