// Where a crop is written: the one place that decides a crop's position and layout in the output,
// for single-file (window) and multi-file (fused) items alike. Every writer of a crop (the window
// kernel, the fused sampler, the fill) addresses the output only through a SlotView, with signed
// element strides, so the orientation of a window crop (flips, quarter turns: batch_layout.h
// kItemOrient, orient.h) is a different base and different strides here, not a change to any
// kernel. A fused crop's orientation is folded into each part's affine in TypeScript
// (lib/frames/fused.ts), so its view is always the plain one. Pure C++, any thread.
#pragma once
#include <cstdint>

#include "batch/batch_job.h"
#include "batch/orient.h"

namespace nds {

// Element (y, x, k) of a crop (y < h, x < w, k < C of the batch) is at
// base + (y * sy + x * sx + k * sc) * itemsize. [h, w] is the crop as its writer sees it: the
// slot, or for a turned crop S, the crop as read.
struct SlotView {
  uint8_t* base = nullptr;
  int64_t sy = 0, sx = 0, sc = 0;
  int64_t h = 0, w = 0;
  // True when the view is the slot as laid out (no orientation): writers that address the slot
  // by its own layout (GDAL straight into the slot, a plain row copy) may take it.
  bool plain = true;
  // The address of element (y, x, channel 0).
  uint8_t* At(int64_t y, int64_t x, int isz) const { return base + (y * sy + x * sx) * isz; }
};

// Slot i of `job` as laid out: slot i of the contiguous NHWC / NCHW batch, frame i % T of window
// i / T of an NCTHW one, or the caller's view (one crop).
inline SlotView PlainSlotOf(const BatchJob& job, int64_t i) {
  const int isz = ItemSize(job.cv.out);
  SlotView v;
  v.h = job.H, v.w = job.W;
  if (job.directView) {
    v.base = job.base + job.viewOffset * isz;
    v.sy = job.viewS[0], v.sx = job.viewS[1], v.sc = job.viewS[2];
    return v;
  }
  if (job.ncthw) {
    // Frame t of window n: channel k's plane is ((n * C + k) * T + t) * H * W. Not the slot's own
    // contiguous layout, so writers address it by strides only (plain = false).
    const int64_t T = job.frames, n = i / T, t = i % T;
    v.base = job.base + (n * job.C * T + t) * job.H * job.W * isz;
    v.sy = job.W, v.sx = 1, v.sc = T * job.H * job.W;
    v.plain = false;
    return v;
  }
  v.base = job.base + i * job.SlotElems() * isz;
  if (job.nchw) {
    v.sy = job.W, v.sx = 1, v.sc = job.H * job.W;
  } else {
    v.sy = job.W * job.C, v.sx = job.C, v.sc = 1;
  }
  return v;
}

// `v` (a slot of [h, w]) as its crop S is written when turned by orientation `code`: S's element
// (y, x) lands where PlanOrientation puts it.
inline SlotView Oriented(const SlotView& v, int code, int isz) {
  if (code == 0) return v;
  const OrientPlan p = PlanOrientation(code);
  SlotView o = v;
  o.plain = false;
  ReadDims(code, v.h, v.w, &o.h, &o.w);
  // S(y, x) goes to T(y, x) or, transposed, T(x, y); then T(i, j) to the slot's
  // (vflip ? h - 1 - i : i, hflip ? w - 1 - j : j).
  const int64_t ry = p.vflip ? -v.sy : v.sy, rx = p.hflip ? -v.sx : v.sx;
  o.base = v.base + ((p.vflip ? (v.h - 1) * v.sy : 0) + (p.hflip ? (v.w - 1) * v.sx : 0)) * isz;
  if (p.transpose) {
    o.sy = rx, o.sx = ry;
  } else {
    o.sy = ry, o.sx = rx;
  }
  return o;
}

// Crop i of `job` as its writer sees it: its slot, turned by the item's orientation.
inline SlotView SlotOf(const BatchJob& job, int64_t i) {
  return Oriented(PlainSlotOf(job, i), job.items[i].orient, ItemSize(job.cv.out));
}

}  // namespace nds
