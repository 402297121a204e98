// AsyncJob: runs a pure-C++ function on the libuv pool and settles a promise on the JS thread.
// The function must not touch any JS value (it gets only structs built on the main thread);
// JS values it writes into (a destination typed array) are pinned by `pins` until the job ends.
// A CodedError thrown by the function rejects the promise with the matching NdsamplerError.
#pragma once
#include <napi.h>

#include <exception>
#include <functional>
#include <new>
#include <utility>
#include <vector>

#include "core/errors.h"

namespace nds {

class AsyncJob : public Napi::AsyncWorker {
 public:
  // Main thread. Queues `work` and returns the promise it settles.
  static Napi::Value Run(Napi::Env env, const char* name, std::function<void()> work,
                         const std::vector<Napi::Object>& pins = {}) {
    auto* job = new AsyncJob(env, name, std::move(work));
    for (const Napi::Object& o : pins) job->pins_.push_back(Napi::Persistent(o));
    napi_value promise = job->promise_;
    job->Queue();  // the job deletes itself after OnOK
    return Napi::Value(env, promise);
  }

 protected:
  // libuv pool thread.
  void Execute() override {
    try {
      work_();
    } catch (const CodedError& e) {
      error_ = e.info();
      failed_ = true;
    } catch (const std::bad_alloc&) {
      error_ = ErrorInfo{"ERR_NO_MEMORY", "out of memory", "", 0, ""};
      failed_ = true;
    } catch (const std::exception& e) {
      error_ = ErrorInfo{"ERR_INTERNAL", e.what(), "", 0, ""};
      failed_ = true;
    }
  }
  // Main thread. Raw N-API calls whose failures are ignored: when a worker thread is terminated
  // with jobs in flight, its env can no longer run JS (building the error would throw) and
  // nothing can observe the promise any more.
  void OnOK() override {
    napi_env env = Env();
    if (!failed_) {
      napi_value undefined;
      napi_get_undefined(env, &undefined);
      napi_resolve_deferred(env, deferred_, undefined);
      return;
    }
    try {
      napi_reject_deferred(env, deferred_, MakeJsError(Env(), error_));
    } catch (...) {
      napi_value msg, err;
      if (napi_create_string_utf8(env, error_.message.c_str(), error_.message.size(), &msg) == napi_ok &&
          napi_create_error(env, nullptr, msg, &err) == napi_ok) {
        napi_reject_deferred(env, deferred_, err);
      }
    }
  }

 private:
  AsyncJob(Napi::Env env, const char* name, std::function<void()> work)
      : Napi::AsyncWorker(env, name), work_(std::move(work)) {
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_promise(env, &deferred_, &promise_));
  }
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
  std::function<void()> work_;
  std::vector<Napi::ObjectReference> pins_;
  bool failed_ = false;
  ErrorInfo error_;
};

}  // namespace nds
