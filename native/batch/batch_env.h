// Per-env batch state: the threadsafe function that brings finished jobs back to the env's JS
// thread, the jobs in flight (for cancelBatch), the addon buffers handed to JS (for `out` reuse)
// and the pool of released buffers. Shared by AddonData (until env teardown) and every job of the
// env (shared_ptr), so a job finishing after its env is gone touches nothing of the env.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "batch/batch_buffer.h"

namespace nds {

struct BatchJob;

struct BatchEnv {
  std::mutex mu;
  bool alive = true;  // guarded by mu: tsfn may still be called
  std::atomic<bool> dead{false};
  napi_threadsafe_function tsfn = nullptr;
  // JS thread only:
  int inflight = 0;
  uint64_t nextId = 1;
  std::unordered_map<uint64_t, std::weak_ptr<BatchJob>> jobs;
  std::unordered_map<const void*, std::weak_ptr<BatchBuffer>> buffers;  // by ArrayBuffer data
  BufferPool pool;
};

// JS thread. This env's batch state, made (with its threadsafe function) on first use.
std::shared_ptr<BatchEnv> GetBatchEnv(Napi::Env env);

// Any thread. Hands a finished job to its env's JS thread (which settles it), unless the env is
// gone: then the job is dropped here; its JS handles die with the env and are never touched.
void Post(const std::shared_ptr<BatchJob>& job);

// JS thread. Registers a queued job (its id for cancelBatch; the threadsafe function is ref'd
// while jobs are in flight).
void AddJob(Napi::Env env, BatchEnv& be, const std::shared_ptr<BatchJob>& job);

}  // namespace nds
