// GdalJob: runs a pure-C++ function on the libuv pool and settles a promise on the JS thread.
// The function must not touch any JS value (it gets only structs built on the main thread);
// JS values it writes into (a destination typed array) are pinned by `pins` until the job ends.
// A CodedError thrown by the function rejects the promise with the matching NdsamplerError.
#pragma once
#include <napi.h>

#include <functional>
#include <new>
#include <utility>
#include <vector>

#include "common.h"

namespace nds {

class GdalJob : public Napi::AsyncWorker {
 public:
  // Main thread. Queues `work` and returns the promise it settles.
  static Napi::Promise Run(Napi::Env env, const char* name, std::function<void()> work,
                           const std::vector<Napi::Object>& pins = {}) {
    auto* job = new GdalJob(env, name, std::move(work));
    for (const Napi::Object& o : pins) job->pins_.push_back(Napi::Persistent(o));
    Napi::Promise p = job->deferred_.Promise();
    job->Queue();  // the job deletes itself after OnOK / OnError
    return p;
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
  // Main thread.
  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (failed_) {
      deferred_.Reject(MakeJsError(Env(), error_));
    } else {
      deferred_.Resolve(Env().Undefined());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  GdalJob(Napi::Env env, const char* name, std::function<void()> work)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {}
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::vector<Napi::ObjectReference> pins_;
  bool failed_ = false;
  ErrorInfo error_;
};

}  // namespace nds
