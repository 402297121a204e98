// The output memory of batches, and what a finished batch hands to JS.
//
// Ownership (docs/concurrency.md, "Batch memory"): a batch writes only into addon memory (a
// BatchBuffer), never into JS memory from a pool thread. When the batch completes, the buffer is
// handed to JS as an external ArrayBuffer; from then on JS owns what it sees. A buffer comes back
// to the addon only when no JS value can reach it any more:
// - its ArrayBuffer was garbage collected (the finalizer, ReleaseBuffer): the buffer goes to the
//   env's BufferPool, and a later batch of the same byte size reuses it (resident pages: no page
//   faults, no zeroing), instead of allocating fresh memory per batch;
// - or the user passes it back as `out` (explicit reuse; refused while another batch writes it).
// A buffer that never reached JS (a batch copied into the caller's own typed array, a failed
// batch) goes back to the pool at completion.
// Threads: the JS thread of the env, except that jobs write into their buffer on pool threads.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace nds {

struct BatchJob;
struct BatchEnv;

// Frees memory of std::aligned_alloc.
struct FreeBytes {
  void operator()(uint8_t* p) const { std::free(p); }
};

// Batch memory starts on a cache line (kBufferAlign): a slot whose rows are whole lines (224
// float32) then has every row on a line, which the turned (transposing) writes rely on to fill
// each line in one go (transpose_block.h).
constexpr size_t kBufferAlign = 64;

struct BatchBuffer {
  std::unique_ptr<uint8_t, FreeBytes> bytes;
  size_t size = 0;
  bool busy = false;  // JS thread: a job in flight writes into it
};

// Released buffers of one env, kept for reuse by size. JS thread only.
class BufferPool {
 public:
  // At most this many bytes / buffers are kept; beyond, released buffers are freed.
  static constexpr size_t kMaxBytes = size_t{1} << 30;
  static constexpr size_t kMaxBuffers = 16;
  // What V8 is told a buffer handed to JS keeps alive (napi_adjust_external_memory corrects what
  // V8 counts by itself): a buffer up to kVisibleMin as it is, a larger one 1/2^kVisibleShift of
  // its size, at least kVisibleMin. Dropping the ArrayBuffer does not free the memory (it comes
  // back here), and V8 starts a full collection once the external memory it sees grows by a few
  // tens of MiB: counting all of a 38 MB batch made it collect after every second batch
  // (measured: a GC per batch costing as much as the batch), while this share lets about ten
  // large batches go between collections, which the pool (kMaxBuffers) absorbs.
  static constexpr int64_t kVisibleMin = int64_t{1} << 20;
  static constexpr int kVisibleShift = 4;
  static int64_t Visible(int64_t size) {
    return size <= kVisibleMin ? size : std::max(kVisibleMin, size >> kVisibleShift);
  }

  // A buffer of exactly `bytes`: a released one of that size when there is one, else a new one
  // (contents unspecified). Throws std::bad_alloc.
  std::shared_ptr<BatchBuffer> Take(size_t bytes);
  // `buf` can no longer be seen by JS nor written by a job: keep it (or free it past the limits).
  void Give(const std::shared_ptr<BatchBuffer>& buf);

  size_t pooled() const { return free_.size(); }
  size_t pooledBytes() const { return bytes_; }
  uint64_t reused = 0, allocated = 0;

 private:
  std::vector<std::shared_ptr<BatchBuffer>> free_;  // oldest first
  size_t bytes_ = 0;
};

// JS thread. The settled value of a finished job: {data, errors}. Throws CodedError (the first
// failure without fillOnError, a cancellation, an `out` detached meanwhile).
Napi::Object BatchResult(Napi::Env env, BatchJob& job);

// batchMemoryStats() -> {pooled, pooledBytes, reused, allocated}: this env's pool of released
// batch buffers and how many batches took a reused or a new one.
Napi::Value BatchMemoryStatsJs(const Napi::CallbackInfo& info);

}  // namespace nds
