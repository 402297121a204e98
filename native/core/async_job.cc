// AsyncJob on raw N-API. Run and Complete on the JS thread, Execute on the libuv pool.
#include "core/async_job.h"

#include <exception>
#include <memory>
#include <new>
#include <utility>

namespace nds {

Napi::Value AsyncJob::Run(Napi::Env env, const char* name, Work work, Finish finish,
                          const std::vector<napi_value>& pins) {
  std::unique_ptr<AsyncJob> job(new AsyncJob(env, std::move(work), std::move(finish)));
  napi_value promise, resourceName;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &job->deferred_, &promise), Napi::Value());
  for (napi_value v : pins) {
    napi_ref ref;
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, v, 1, &ref), Napi::Value());
    job->pins_.push_back(ref);
  }
  NAPI_THROW_IF_FAILED(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resourceName), Napi::Value());
  NAPI_THROW_IF_FAILED(
      env, napi_create_async_work(env, nullptr, resourceName, Execute, Complete, job.get(), &job->work_handle_),
      Napi::Value());
  NAPI_THROW_IF_FAILED(env, napi_queue_async_work(env, job->work_handle_), Napi::Value());
  job.release();  // deleted by Complete
  return Napi::Value(env, promise);
}

AsyncJob::~AsyncJob() {
  for (napi_ref ref : pins_) napi_delete_reference(env_, ref);
  if (work_handle_ != nullptr) napi_delete_async_work(env_, work_handle_);
}

void AsyncJob::Execute(napi_env, void* data) {
  auto* job = static_cast<AsyncJob*>(data);
  try {
    job->work_();
  } catch (const CodedError& e) {
    job->error_ = e.info();
    job->failed_ = true;
  } catch (const std::bad_alloc&) {
    job->error_ = ErrorInfo{"ERR_NO_MEMORY", "out of memory", "", 0, ""};
    job->failed_ = true;
  } catch (const std::exception& e) {
    job->error_ = ErrorInfo{"ERR_INTERNAL", e.what(), "", 0, ""};
    job->failed_ = true;
  } catch (...) {
    job->error_ = ErrorInfo{"ERR_INTERNAL", "unknown native exception", "", 0, ""};
    job->failed_ = true;
  }
}

void AsyncJob::Complete(napi_env env, napi_status status, void* data) {
  std::unique_ptr<AsyncJob> job(static_cast<AsyncJob*>(data));
  napi_handle_scope scope = nullptr;
  const bool scoped = napi_open_handle_scope(env, &scope) == napi_ok;
  job->Settle(env, status);
  if (scoped) napi_close_handle_scope(env, scope);
}

void AsyncJob::Settle(napi_env env, napi_status status) noexcept {
  bool failed = failed_;
  ErrorInfo error = error_;
  napi_value value = nullptr;
  if (status != napi_ok) {
    failed = true;
    error = ErrorInfo{"ERR_INTERNAL", "the job was cancelled", "", 0, ""};
  }
  if (!failed && finish_) {
    try {
      std::vector<napi_value> pins;
      for (napi_ref ref : pins_) {
        napi_value v = nullptr;
        napi_get_reference_value(env, ref, &v);
        pins.push_back(v);
      }
      value = finish_(env, pins);
    } catch (const CodedError& e) {
      failed = true;
      error = e.info();
    } catch (...) {
      failed = true;
      error = ErrorInfo{"ERR_INTERNAL", "could not settle an async job", "", 0, ""};
    }
  }
  if (!failed) {
    if (value == nullptr) napi_get_undefined(env, &value);
    napi_resolve_deferred(env, deferred_, value);
    return;
  }
  // Building the NdsamplerError calls the factory (JS): it fails in an env that is going away,
  // and then a plain Error carries the message (nothing can observe the promise any more anyway).
  napi_value err = nullptr;
  try {
    err = MakeJsError(Napi::Env(env), error);
  } catch (...) {
    err = nullptr;
  }
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  if (err == nullptr) {
    napi_value msg;
    if (napi_create_string_utf8(env, error.message.c_str(), error.message.size(), &msg) != napi_ok ||
        napi_create_error(env, nullptr, msg, &err) != napi_ok) {
      err = nullptr;
    }
  }
  if (err != nullptr) napi_reject_deferred(env, deferred_, err);
}

}  // namespace nds
