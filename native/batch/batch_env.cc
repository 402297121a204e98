// Per-env batch state and completion (see batch_env.h).
#include "batch/batch_env.h"

#include <utility>

#include "batch/batch_job.h"
#include "core/addon_data.h"
#include "core/errors.h"

namespace nds {

namespace {

// JS thread, inside the threadsafe function's callback scope. Settles the job's promise.
void Complete(Napi::Env env, BatchJob& job) {
  BatchEnv& be = *job.env;
  be.jobs.erase(job.id);
  if (--be.inflight == 0) napi_unref_threadsafe_function(env, be.tsfn);
  if (job.buf) job.buf->busy = false;
  napi_value settled = nullptr;
  bool ok = false;
  try {
    settled = BatchResult(env, job);
    ok = true;
  } catch (const CodedError& e) {
    try {
      settled = MakeJsError(env, e.info());
    } catch (...) {
    }
  } catch (const Napi::Error& e) {
    settled = e.Value();
  } catch (const std::exception& e) {
    try {
      settled = MakeJsError(env, ErrorInfo{"ERR_INTERNAL", e.what(), "", 0, ""});
    } catch (...) {
    }
  }
  if (!ok && job.privateBuf) be.pool.Give(job.buf);  // a failed batch: JS never saw its buffer
  if (job.out != nullptr) napi_delete_reference(env, job.out);
  job.out = nullptr;
  if (settled == nullptr) {  // building the value itself failed (an env shutting down)
    napi_value msg;
    if (napi_create_string_utf8(env, "loadBatch failed", NAPI_AUTO_LENGTH, &msg) != napi_ok ||
        napi_create_error(env, nullptr, msg, &settled) != napi_ok) {
      return;
    }
  }
  if (ok) {
    napi_resolve_deferred(env, job.deferred, settled);
  } else {
    napi_reject_deferred(env, job.deferred, settled);
  }
}

// The threadsafe function's call_js: env is null when the env is being torn down.
void CallJs(napi_env env, napi_value, void*, void* data) {
  std::unique_ptr<std::shared_ptr<BatchJob>> hold(static_cast<std::shared_ptr<BatchJob>*>(data));
  if (env == nullptr) return;
  try {
    Complete(Napi::Env(env), **hold);
  } catch (...) {  // nothing may escape into Node
  }
}

// The threadsafe function's finalizer (env teardown): no call into it after this.
void FinalizeTsfn(napi_env, void* data, void*) {
  std::unique_ptr<std::shared_ptr<BatchEnv>> hold(static_cast<std::shared_ptr<BatchEnv>*>(data));
  BatchEnv& be = **hold;
  std::lock_guard<std::mutex> lock(be.mu);
  be.alive = false;
  be.dead.store(true);
}

}  // namespace

std::shared_ptr<BatchEnv> GetBatchEnv(Napi::Env env) {
  AddonData* ad = GetData(env);
  if (ad->batch) return std::static_pointer_cast<BatchEnv>(ad->batch);
  auto be = std::make_shared<BatchEnv>();
  auto* hold = new std::shared_ptr<BatchEnv>(be);
  napi_value name = Napi::String::New(env, "ndsampler.loadBatch");
  const napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, hold, FinalizeTsfn, nullptr,
                                                         CallJs, &be->tsfn);
  if (st != napi_ok) {
    delete hold;
    NAPI_THROW_IF_FAILED(env, st, nullptr);
  }
  napi_unref_threadsafe_function(env, be->tsfn);  // ref'd only while batches are in flight
  ad->batch = be;
  return be;
}

void Post(const std::shared_ptr<BatchJob>& job) {
  BatchEnv& be = *job->env;
  auto* hold = new std::shared_ptr<BatchJob>(job);
  {
    std::lock_guard<std::mutex> lock(be.mu);
    if (be.alive && napi_call_threadsafe_function(be.tsfn, hold, napi_tsfn_nonblocking) == napi_ok) return;
  }
  delete hold;
}

void AddJob(Napi::Env env, BatchEnv& be, const std::shared_ptr<BatchJob>& job) {
  be.jobs[job->id] = job;
  if (be.inflight++ == 0) napi_ref_threadsafe_function(env, be.tsfn);
}

}  // namespace nds
