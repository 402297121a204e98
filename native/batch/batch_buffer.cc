// Batch memory and results (see batch_buffer.h).
#include "batch/batch_buffer.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include "batch/batch_env.h"
#include "batch/batch_job.h"
#include "core/addon_data.h"
#include "core/copy_kernel.h"
#include "core/errors.h"

namespace nds {

std::shared_ptr<BatchBuffer> BufferPool::Take(size_t bytes) {
  for (size_t i = free_.size(); i-- > 0;) {  // the most recently released first: its pages are warm
    if (free_[i]->size != bytes) continue;
    std::shared_ptr<BatchBuffer> b = std::move(free_[i]);
    free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
    bytes_ -= b->size;
    ++reused;
    return b;
  }
  auto b = std::make_shared<BatchBuffer>();
  const size_t rounded = (std::max<size_t>(bytes, 1) + kBufferAlign - 1) / kBufferAlign * kBufferAlign;
  b->bytes.reset(static_cast<uint8_t*>(std::aligned_alloc(kBufferAlign, rounded)));
  if (!b->bytes) throw std::bad_alloc();
  b->size = bytes;
  ++allocated;
  return b;
}

void BufferPool::Give(const std::shared_ptr<BatchBuffer>& buf) {
  if (!buf || buf->busy || buf->size > kMaxBytes) return;
  free_.push_back(buf);
  bytes_ += buf->size;
  while (!free_.empty() && (bytes_ > kMaxBytes || free_.size() > kMaxBuffers)) {  // drop the oldest
    bytes_ -= free_.front()->size;
    free_.erase(free_.begin());
  }
}

namespace {

// Finalizer of an ArrayBuffer handed to JS (JS thread): JS can no longer see the buffer, so it
// goes back to the env's pool.
struct BufferHold {
  std::shared_ptr<BatchBuffer> buf;
  std::shared_ptr<BatchEnv> env;
  int64_t hidden = 0;  // bytes of the buffer not reported to V8 (see BufferPool::Visible)
};
void ReleaseBuffer(napi_env env, void* data, void* hint) {
  std::unique_ptr<BufferHold> hold(static_cast<BufferHold*>(hint));
  int64_t ignored;
  if (hold->hidden > 0) napi_adjust_external_memory(env, hold->hidden, &ignored);
  BatchEnv& be = *hold->env;
  auto it = be.buffers.find(data);
  if (it != be.buffers.end() && it->second.lock() == hold->buf) be.buffers.erase(it);
  be.pool.Give(hold->buf);
}

Napi::Value TypedArrayOver(Napi::Env env, napi_value ab, DType d, size_t length) {
  napi_value ta;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, TypedArrayType(d), length, ab, 0, &ta), Napi::Value());
  return Napi::Value(env, ta);
}

// The caller's own typed array, checked again (JS ran since the call), filled from the job's
// buffer: a plain copy, or laid out by the job's view.
void CopyIntoCaller(Napi::Env env, BatchJob& job, napi_value outVal) {
  const int isz = ItemSize(job.cv.out);
  const size_t elems = static_cast<size_t>(job.n * job.SlotElems());
  size_t length = 0;
  void* data = nullptr;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, outVal, &type, &length, &data, nullptr, nullptr) != napi_ok || data == nullptr ||
      (!job.hasView && length != elems) || (job.hasView && length < static_cast<size_t>(job.viewMin))) {
    throw CodedError("ERR_OUT_BUFFER", "options.out was detached or resized while the batch was in flight");
  }
  if (elems == 0) return;
  if (!job.hasView) {
    std::memcpy(data, job.base, elems * isz);
    return;
  }
  const SrcLayout from{job.base, job.W * job.C * isz, job.C * isz, isz, isz, false};
  CopyWindow(from, 0, 0, 0, job.H, job.W, job.C, static_cast<uint8_t*>(data) + job.viewOffset * isz, job.viewS[0] * isz,
             job.viewS[1] * isz, job.viewS[2] * isz);
}

// The typed array the batch resolves with.
Napi::Value ResultData(Napi::Env env, BatchJob& job) {
  const size_t elems = static_cast<size_t>(job.n * job.SlotElems());
  const size_t bytes = elems * ItemSize(job.cv.out);
  BatchEnv& be = *job.env;
  if (job.out != nullptr) {
    napi_value outVal;
    NAPI_THROW_IF_FAILED(env, napi_get_reference_value(env, job.out, &outVal), Napi::Value());
    if (job.copyOut) {
      CopyIntoCaller(env, job, outVal);
      be.pool.Give(job.buf);  // never seen by JS
    }
    return Napi::Value(env, outVal);
  }
  if (!job.buf) return env.Undefined();  // a sync batch written straight into JS memory
  AddonData* ad = GetData(env);
  napi_value ab;
  if (ad->externalBuffersAllowed && bytes > 0) {
    const int64_t size = static_cast<int64_t>(job.buf->size);
    auto* hold = new BufferHold{job.buf, job.env, size - BufferPool::Visible(size)};
    const napi_status st = napi_create_external_arraybuffer(env, job.base, bytes, ReleaseBuffer, hold, &ab);
    if (st == napi_ok) {
      be.buffers[job.base] = job.buf;
      int64_t ignored;
      if (hold->hidden > 0) napi_adjust_external_memory(env, -hold->hidden, &ignored);
      return TypedArrayOver(env, ab, job.cv.out, elems);
    }
    delete hold;
    if (st != napi_no_external_buffers_allowed) NAPI_THROW_IF_FAILED(env, st, Napi::Value());
    ad->externalBuffersAllowed = false;
  }
  void* data = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, bytes, &data, &ab), Napi::Value());
  if (bytes > 0) std::memcpy(data, job.base, bytes);
  be.pool.Give(job.buf);  // copied: never seen by JS
  return TypedArrayOver(env, ab, job.cv.out, elems);
}

ErrorInfo CancelInfo(int why) {
  if (why == kAborted) return ErrorInfo{"ERR_ABORTED", "the batch was aborted", "", 0, ""};
  return ErrorInfo{"ERR_CLOSED", "the Frames object was closed with the batch in flight", "", 0, ""};
}

}  // namespace

Napi::Object BatchResult(Napi::Env env, BatchJob& job) {
  const int why = job.cancel.load();
  if (why == kAborted || why == kClosed) throw CodedError(CancelInfo(why));
  Napi::Array errors = Napi::Array::New(env);
  for (int64_t i = 0; i < job.n; ++i) {
    if (!job.failed[i]) continue;
    if (!job.fillOnError) throw CodedError(job.errors[i]);
    Napi::Object e = Napi::Object::New(env);
    e.Set("index", Napi::Number::New(env, static_cast<double>(i)));
    e.Set("error", MakeJsError(env, job.errors[i]));
    errors.Set(errors.Length(), e);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", ResultData(env, job));
  result.Set("errors", errors);
  return result;
}

Napi::Value BatchMemoryStatsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<BatchEnv> be = GetBatchEnv(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("pooled", Napi::Number::New(env, static_cast<double>(be->pool.pooled())));
  o.Set("pooledBytes", Napi::Number::New(env, static_cast<double>(be->pool.pooledBytes())));
  o.Set("reused", Napi::Number::New(env, static_cast<double>(be->pool.reused)));
  o.Set("allocated", Napi::Number::New(env, static_cast<double>(be->pool.allocated)));
  return o;
}

}  // namespace nds
