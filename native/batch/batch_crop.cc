// One crop into its slot (see batch_crop.h).
#include "batch/batch_crop.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <vector>

#include "batch/batch_env.h"
#include "batch/batch_slot.h"
#include "batch/fused_sampler.h"
#include "core/copy_kernel.h"

namespace nds {

namespace {

// Nearest-neighbour source index of output index j when n source pixels become m (GDAL's
// RasterIO rule: the centre of output pixel j, mapped back, floored). The one nearest rule of
// reduced-resolution reads without overviews (npy; lib/frames/crop.ts relies on it).
inline int64_t Nearest(int64_t j, int64_t n, int64_t m) {
  if (n == m) return j;
  const int64_t s = static_cast<int64_t>(std::floor((static_cast<double>(j) + 0.5) * n / m + 1e-10));
  return std::min(s, n - 1);
}

}  // namespace

void FillView(const BatchJob& job, const SlotView& v, double raw) {
  const int n = ItemSize(job.cv.out);
  std::vector<uint8_t> values(static_cast<size_t>(job.C * n));
  for (int64_t k = 0; k < job.C; ++k) CastOne(job.cv.Apply(raw, k), job.cv.out, values.data() + k * n);
  FillSlot(v.base, v.h, v.w, job.C, v.sy, v.sx, v.sc, job.cv.out, values.data());
}

namespace {

// A window item: the in-image window, read (another size: nearest) into rows oy.. and columns
// ox.. of the crop as `v` sees it (turned by its orientation), converted; the rest is the fill.
// Only a plain view is written by the slot's own layout (GDAL straight into it, a row copy); a
// turned one goes through the kernel, which writes by the view's strides.
void WriteWindow(const BatchJob& job, const BatchItem& it, const SlotView& v) {
  const int osz = ItemSize(job.cv.out);
  const bool partial = it.oy != 0 || it.ox != 0 || it.ih != v.h || it.iw != v.w;
  if (partial) FillView(job, v, it.fill);
  if (it.ih == 0 || it.iw == 0 || it.src < 0) return;
  const BatchSource& s = job.sources[it.src];
  uint8_t* d0 = v.At(it.oy, it.ox, osz);
  const bool same = s.dtype == job.cv.out && !job.cv.normalize && v.plain;
  const int isz = ItemSize(s.dtype);
  const Window win{it.iy0, it.iy1, it.ix0, it.ix1, it.c0, it.c1};
  thread_local std::vector<int64_t> rows, xoff;
  rows.resize(static_cast<size_t>(it.ih));
  xoff.resize(static_cast<size_t>(it.iw));
  SrcBlock block{};
  bool identityX = false;
  if (s.kind == SrcKind::kRaster) {
    if (same) {  // straight into the slot, with the slot's strides
      Destination dst;
      dst.data = d0;
      dst.length = job.SlotElems();  // (a plain view: the slot's own strides, all positive)
      dst.sy = v.sy, dst.sx = v.sx, dst.sc = v.sc, dst.outH = it.ih, dst.outW = it.iw;
      s.raster->Read(win, dst);
      return;
    }
    thread_local std::vector<uint8_t> scratch;  // decoded HWC block, reused by this thread
    scratch.resize(static_cast<size_t>(it.ih * it.iw * job.C * isz));
    ReadRasterBlock(s, win, it.ih, it.iw, scratch.data());
    block = SrcBlock{scratch.data(), it.iw * job.C * isz, job.C * isz, isz, false, s.dtype};
    for (int64_t j = 0; j < it.ih; ++j) rows[j] = j;
    identityX = true;
  } else {
    const SrcLayout& L = s.layout;
    const int64_t h = it.iy1 - it.iy0, w = it.ix1 - it.ix0;
    // Same dtype into an interleaved slot: a plain copy (CopyWindow); a transposing one (NCHW)
    // takes the kernel's one-pass fast path below.
    if (same && h == it.ih && w == it.iw && (v.sc == 1 || job.C == 1)) {
      ReadArmed(s, [&] { CopyWindow(L, it.iy0, it.ix0, it.c0, it.ih, it.iw, job.C, d0, v.sy * osz, v.sx * osz, osz); });
      return;
    }
    block = SrcBlock{L.base + it.iy0 * L.sy + it.ix0 * L.sx + it.c0 * L.sc, L.sy, L.sx, L.sc, L.swap, s.dtype};
    for (int64_t j = 0; j < it.ih; ++j) rows[j] = Nearest(j, h, it.ih);
    if (w == it.iw) {
      identityX = true;  // the kernel's fast path: no per-column offsets
    } else {
      for (int64_t i = 0; i < it.iw; ++i) xoff[i] = Nearest(i, w, it.iw) * L.sx;
    }
  }
  const uint8_t* lut = job.Lut(s.dtype);
  ReadArmed(s, [&] {
    ConvertBlock(block, rows.data(), identityX ? nullptr : xoff.data(), it.ih, it.iw, job.C, d0, v.sy, v.sx, v.sc,
                 job.cv, lut);
  });
}

}  // namespace

void WriteCrop(const BatchJob& job, int64_t i) {
  const BatchItem& it = job.items[i];
  const SlotView v = SlotOf(job, i);
  if (it.kind == kFused) {
    WriteFused(job, it, v);
  } else if (it.kind == kWindow) {
    WriteWindow(job, it, v);
  } else {
    FillView(job, v, it.fill);
  }
}

void FillCrop(const BatchJob& job, int64_t i, double raw) { FillView(job, SlotOf(job, i), raw); }

void RunCrop(BatchJob& job, int64_t i) {
  if (job.env->dead.load() || job.cancel.load() != kCancelNone) return;
  try {
    WriteCrop(job, i);
  } catch (const CodedError& e) {
    job.errors[i] = e.info();
    job.failed[i] = 1;
  } catch (const std::bad_alloc&) {
    job.errors[i] = ErrorInfo{"ERR_NO_MEMORY", "out of memory", "", 0, ""};
    job.failed[i] = 1;
  } catch (const std::exception& e) {
    job.errors[i] = ErrorInfo{"ERR_INTERNAL", e.what(), "", 0, ""};
    job.failed[i] = 1;
  }
  if (!job.failed[i]) return;
  if (job.fillOnError) {
    try {
      FillCrop(job, i, job.items[i].fill);
    } catch (...) {
    }
  } else {
    int none = kCancelNone;
    job.cancel.compare_exchange_strong(none, kFailed);  // the rest is wasted work
  }
}

}  // namespace nds
