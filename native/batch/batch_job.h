// loadBatch: N crops read, resampled, converted, normalised and transposed into one buffer by the
// addon's thread pool (batch/thread_pool.h), settled on the JS thread of the env that started it;
// loadBatchSync runs the same crops on the calling JS thread. lib/frames/batch.ts and
// lib/frames/fused.ts plan everything first and make the one call.
//
// The files of batch/, one job each:
//   batch_layout.h   the item/part layout shared with lib/native.ts (ITEM, PART)
//   batch_items.cc   ParseItems: the layout checked into BatchItem/FusedPart (JS thread)
//   batch_source.*   the readers of a batch, pinned (BatchSource)
//   batch_slot.h     SlotOf: where a crop is written (the one place; orientation slots in there)
//   batch_crop.*     RunCrop: one crop, window or fused, into its slot (any thread)
//   fused_sampler.*  the multi-file sampler (nearest, linear, antialias, dequantize)
//   antialias.*      the Gaussian prefilter of a downsampled linear read
//   batch_kernel.*   convert/normalise/transpose one block (the fused per-crop kernel)
//   batch_buffer.*   output memory: the per-env pool of released buffers, the result handed to JS
//   batch_env.*      per-env state, the threadsafe function, completion
//   batch_job.*      this file: the job struct and the JS entry points
//   thread_pool.*    the pool; pool_js.cc its JS controls
//
// Threads:
// - LoadBatchJs (JS thread) turns the options object into a BatchJob: pinned sources, the items,
//   the conversion and the output buffer (addon memory, from the env's pool of released buffers or
//   new, never JS memory); then queues one task per crop.
// - Each crop task (a pool thread) touches only that struct, the sources and its own slot of the
//   buffer. The last one to finish posts the job to the env's threadsafe function.
// - Completion (JS thread of the env, in a callback scope) hands the buffer to JS as an external
//   ArrayBuffer, whose finalizer returns it to the env's pool once JS can no longer see it (it was
//   garbage collected), or copies into the caller's own typed array after checking it is still
//   attached and large enough, then settles.
// - An env that goes away (worker terminated) flips BatchEnv::dead in the threadsafe function's
//   finalizer: queued crops of its jobs are skipped and their completions dropped; nothing of the
//   env is touched after that (batch_env.cc Post).
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "batch/batch_kernel.h"
#include "batch/batch_layout.h"
#include "batch/batch_source.h"
#include "core/errors.h"

namespace nds {

struct BatchEnv;
struct BatchBuffer;

enum Cancel : int { kCancelNone = 0, kAborted = 1, kClosed = 2, kFailed = 3 };

struct BatchJob {
  std::shared_ptr<BatchEnv> env;
  uint64_t id = 0;
  int64_t n = 0, H = 0, W = 0, C = 0;
  bool nchw = false;
  // 'NCTHW' (video batches): the n crops are N windows of `frames` frames each (crop i is frame
  // i % frames of window i / frames), laid out [N, C, T, H, W] (batch_slot.h).
  bool ncthw = false;
  int64_t frames = 1;
  bool fillOnError = false;
  BatchConvert cv;
  std::vector<uint8_t> lut[2];  // 1-byte sources: [0] uint8, [1] int8 (empty when unused)
  std::vector<BatchSource> sources;
  std::vector<BatchItem> items;
  std::vector<FusedPart> parts;
  std::vector<int64_t> bands;
  std::shared_ptr<BatchBuffer> buf;  // null when the crops write into the caller's memory (sync)
  bool privateBuf = false;           // buf was taken for this job (not the caller's `out`): JS has not seen it
  uint8_t* base = nullptr;           // slot 0
  // A single crop laid out with these element strides from `viewOffset` (the caller's NDArray):
  // the layout of the copy into `out` at completion, or (directView, loadBatchSync) of the slot
  // itself. Otherwise slots are contiguous NHWC/NCHW.
  bool hasView = false, directView = false;
  int64_t viewOffset = 0, viewS[3] = {0, 0, 0};
  int64_t viewMin = 0;  // elements the view spans (its last element + 1)
  std::atomic<int> remaining{0};
  std::atomic<int> cancel{kCancelNone};
  // Per item, written only by that item's crop task; read after `remaining` reached 0.
  std::vector<char> failed;
  std::vector<ErrorInfo> errors;
  // JS thread only (never touched, nor released, off it):
  napi_deferred deferred = nullptr;
  napi_ref out = nullptr;  // the caller's typed array, pinned until completion
  bool copyOut = false;    // out is not addon memory: copy into it at completion

  int64_t SlotElems() const { return H * W * C; }
  // The LUT for 1-byte sources of dtype d, or null.
  const uint8_t* Lut(DType d) const {
    if (d == DType::U8 && !lut[0].empty()) return lut[0].data();
    if (d == DType::I8 && !lut[1].empty()) return lut[1].data();
    return nullptr;
  }
};

// loadBatch(opts) -> {id, promise}; see lib/native.ts NativeBatchOptions for the fields.
Napi::Value LoadBatchJs(const Napi::CallbackInfo& info);
// loadBatchSync(opts) -> {data, errors}: the same crops on the calling JS thread. With `out` the
// crops are written straight into it (laid out by `view` when given); the first failing crop
// throws unless fillOnError.
Napi::Value LoadBatchSyncJs(const Napi::CallbackInfo& info);
// cancelBatch(id, code): code 'ERR_ABORTED' or 'ERR_CLOSED'. Queued crops are skipped; the
// promise rejects with that code once the crops already running end. Unknown ids are ignored.
Napi::Value CancelBatchJs(const Napi::CallbackInfo& info);

}  // namespace nds
