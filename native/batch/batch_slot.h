// Where a crop is written: the one place that decides a crop's position and layout in the output,
// for single-file (window) and multi-file (fused) items alike. Every writer of a crop (the window
// kernel, the fused sampler, the fill) addresses the output only through a SlotView, with signed
// element strides, so an orientation of the crop (flips, 90-degree rotations) is a different base
// and different strides here, not a change to any kernel (one writer needs a look then: a window
// crop of the batch's own dtype is read by GDAL straight into the slot, batch_crop.cc, and would
// go through its scratch block when the view is not a plain one). For a fused crop an orientation
// can equally be folded into each part's affine in TypeScript (lib/frames/fused.ts). Pure C++,
// any thread.
#pragma once
#include <cstdint>

#include "batch/batch_job.h"

namespace nds {

// Element (y, x, k) of a crop (y < H, x < W, k < C of the batch) is at
// base + (y * sy + x * sx + k * sc) * itemsize.
struct SlotView {
  uint8_t* base = nullptr;
  int64_t sy = 0, sx = 0, sc = 0;
  // The address of element (y, x, channel 0).
  uint8_t* At(int64_t y, int64_t x, int isz) const { return base + (y * sy + x * sx) * isz; }
};

// Crop i of `job`: slot i of the contiguous NHWC / NCHW batch, or the caller's view (one crop).
inline SlotView SlotOf(const BatchJob& job, int64_t i) {
  const int isz = ItemSize(job.cv.out);
  if (job.directView) return SlotView{job.base + job.viewOffset * isz, job.viewS[0], job.viewS[1], job.viewS[2]};
  SlotView v;
  v.base = job.base + i * job.SlotElems() * isz;
  if (job.nchw) {
    v.sy = job.W, v.sx = 1, v.sc = job.H * job.W;
  } else {
    v.sy = job.W * job.C, v.sx = job.C, v.sc = 1;
  }
  return v;
}

}  // namespace nds
