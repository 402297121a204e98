// rasterizeMasks: the masks of a labeled batch (N crops of H x W), painted by the addon's thread
// pool (batch/thread_pool.h) from polygons and RLEs (labels/rasterize.h), settled on the JS thread
// of the env that started it. lib/labels/masks.ts builds the one options object.
//
// Threads:
// - RasterizeMasksJs (JS thread) checks the options and copies the geometry into the job (pool
//   threads never read JS memory), allocates the output (addon memory, zeroed) and queues one
//   task per crop.
// - Each crop task (a pool thread) paints that crop's shapes, in order, into its own slot.
// - The last task posts the job to the env's threadsafe function; completion (JS thread) hands
//   the buffer to JS as an external ArrayBuffer (or a copy where externals are refused).
// - An env that goes away drops its jobs' completions (LabelsEnv::alive, as batch_job.cc does).
#pragma once
#include <napi.h>

namespace nds {

// rasterizeMasks({n, h, w, dtype: 'uint8' | 'uint16' | 'int32', shapes: Float64Array (4 per
// shape: crop, value, kind 0 polygon / 1 RLE, offset into geom), geom: Float64Array}) -> Promise
// of the typed array (n * h * w). See lib/native.ts NativeMaskOptions for the geometry layout.
Napi::Value RasterizeMasksJs(const Napi::CallbackInfo& info);

}  // namespace nds
