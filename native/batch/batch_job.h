// loadBatch: N crops read, converted, normalised and transposed into one addon-owned buffer by
// the addon's thread pool (batch/thread_pool.h), settled on the JS thread of the env that
// started it. lib/frames/batch.ts validates everything first and makes the one call.
//
// Threads:
// - LoadBatchJs (JS thread) turns the options object into a BatchJob struct: shared_ptrs to the
//   npy mappings and RasterSources, the item windows, the conversion, and the output buffer
//   (allocated here, never by JS); then queues one task per crop.
// - Each crop task (a pool thread) touches only that struct, the sources and its own slot of the
//   buffer. The last one to finish posts the job to the env's threadsafe function.
// - Completion (JS thread of the env, in a callback scope) hands the buffer to JS as an external
//   ArrayBuffer whose finalizer only drops the addon's reference, or copies into the caller's
//   own typed array after checking it is still attached and large enough, then settles.
// - An env that goes away (worker terminated) flips BatchEnv::dead in the threadsafe function's
//   finalizer: queued crops of its jobs are skipped and their completions dropped; nothing of the
//   env is touched after that (see batch_job.cc Post).
#pragma once
#include <napi.h>

namespace nds {

// loadBatch(opts) -> {id, promise}; see lib/native.ts NativeBatchOptions for the fields.
Napi::Value LoadBatchJs(const Napi::CallbackInfo& info);
// cancelBatch(id, code): code 'ERR_ABORTED' or 'ERR_CLOSED'. Queued crops are skipped; the
// promise rejects with that code once the crops already running end. Unknown ids are ignored.
Napi::Value CancelBatchJs(const Napi::CallbackInfo& info);
// setThreadPoolSize(n), threadPoolSize(): the process-wide pool (thread_pool.h).
Napi::Value SetThreadPoolSizeJs(const Napi::CallbackInfo& info);
Napi::Value ThreadPoolSizeJs(const Napi::CallbackInfo& info);
// setThreadPoolNice(n), threadPoolNice(): how far below the JS thread the pool threads run.
Napi::Value SetThreadPoolNiceJs(const Napi::CallbackInfo& info);
Napi::Value ThreadPoolNiceJs(const Napi::CallbackInfo& info);

}  // namespace nds
