// AsyncJob: runs a pure-C++ function on the libuv pool and settles a promise on the JS thread.
// The function must not touch any JS value (it gets only structs built on the main thread) and
// must not write into memory JavaScript can free, detach or shrink (docs/concurrency.md, "Memory
// a job writes"): it writes into memory the job owns, and `finish` moves the result into JS on
// the JS thread. A CodedError thrown by the function or by `finish` rejects the promise with the
// matching NdsamplerError.
//
// Built on raw N-API (napi_create_async_work), not Napi::AsyncWorker: the completion runs even
// when the env is going away (a worker thread being terminated waits for its jobs), and then no
// exception may escape it. Every call in the completion is raw and its failure is ignored.
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

#include "core/errors.h"

namespace nds {

class AsyncJob {
 public:
  using Work = std::function<void()>;
  // JS thread, after `work` succeeded: the value the promise resolves with (nullptr: undefined),
  // or a thrown CodedError to reject it. `pins` are the values given to Run, in order. It may run
  // while the env is being torn down, so it makes only raw N-API calls that need no JS to run.
  using Finish = std::function<napi_value(napi_env, const std::vector<napi_value>& pins)>;

  // JS thread. Queues `work` and returns the promise it settles. `pins` are held by strong
  // references until the job ends.
  static Napi::Value Run(Napi::Env env, const char* name, Work work, Finish finish = nullptr,
                         const std::vector<napi_value>& pins = {});

  AsyncJob(const AsyncJob&) = delete;
  AsyncJob& operator=(const AsyncJob&) = delete;
  ~AsyncJob();

 private:
  AsyncJob(napi_env env, Work work, Finish finish) : env_(env), work_(std::move(work)), finish_(std::move(finish)) {}
  static void Execute(napi_env env, void* data);                       // libuv pool thread
  static void Complete(napi_env env, napi_status status, void* data);  // JS thread
  void Settle(napi_env env, napi_status status) noexcept;

  napi_env env_;
  Work work_;
  Finish finish_;
  napi_deferred deferred_ = nullptr;
  napi_async_work work_handle_ = nullptr;
  std::vector<napi_ref> pins_;
  bool failed_ = false;
  ErrorInfo error_;
};

}  // namespace nds
