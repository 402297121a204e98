// loadBatch, loadBatchSync, cancelBatch (see batch_job.h for the threads and batch_buffer.h for
// the memory rule). JS thread, except the crop tasks.
#include "batch/batch_job.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "batch/batch_buffer.h"
#include "batch/batch_crop.h"
#include "batch/batch_env.h"
#include "batch/batch_items.h"
#include "batch/thread_pool.h"
#include "core/args.h"
#include "core/request.h"

namespace nds {

namespace {

inline bool IntIn(double v, double lo, double hi) {
  return v >= lo && v <= hi && v == static_cast<double>(static_cast<int64_t>(v));
}

double Num(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowArg(env, std::string("loadBatch: options.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::vector<double> Doubles(Napi::Env env, const Napi::Object& o, const char* key, size_t n) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      v.As<Napi::TypedArray>().ElementLength() != n) {
    ThrowArg(env, std::string("loadBatch: options.") + key + " must be a Float64Array of the right length");
  }
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  return std::vector<double>(a.Data(), a.Data() + n);
}

// The options that describe the work (everything but `out`): sizes, conversion, sources, items.
void ParseWork(Napi::Env env, const Napi::Object& o, BatchJob& j) {
  const double big = static_cast<double>(kMaxSafeInteger);
  const double n = Num(env, o, "n"), H = Num(env, o, "h"), W = Num(env, o, "w"), C = Num(env, o, "c");
  if (!IntIn(n, 1, 1e9) || !IntIn(H, 1, big) || !IntIn(W, 1, big) || !IntIn(C, 1, 65536)) {
    ThrowArg(env, "loadBatch: n, h, w and c must be positive integers");
  }
  j.n = static_cast<int64_t>(n), j.H = static_cast<int64_t>(H), j.W = static_cast<int64_t>(W);
  j.C = static_cast<int64_t>(C);
  if (n * H * W * C * 8 > big) throw Napi::RangeError::New(env, "loadBatch: the batch is too large");
  if (!ParseDTypeName(StringValue(env, o.Get("dtype"), "loadBatch: options.dtype"), &j.cv.out)) {
    ThrowArg(env, "loadBatch: options.dtype must be a dtype name");
  }
  const std::string layout = StringValue(env, o.Get("layout"), "loadBatch: options.layout");
  if (layout != "NHWC" && layout != "NCHW" && layout != "NCTHW") {
    ThrowArg(env, "loadBatch: options.layout must be 'NHWC', 'NCHW' or 'NCTHW'");
  }
  j.nchw = layout == "NCHW";
  j.ncthw = layout == "NCTHW";
  if (j.ncthw) {
    const double nf = Num(env, o, "frames");
    if (!IntIn(nf, 1, n) || std::fmod(n, nf) != 0) ThrowArg(env, "loadBatch: options.frames must divide n (NCTHW)");
    j.frames = static_cast<int64_t>(nf);
  }
  j.fillOnError = o.Get("fillOnError").ToBoolean().Value();
  j.cv.normalize = o.Get("normalize").ToBoolean().Value();
  if (j.cv.normalize) {
    j.cv.scale = Num(env, o, "scale");
    j.cv.mean = Doubles(env, o, "mean", static_cast<size_t>(j.C));
    j.cv.stdv = Doubles(env, o, "std", static_cast<size_t>(j.C));
    for (double sd : j.cv.stdv) {
      if (!(sd != 0) || !std::isfinite(sd)) ThrowArg(env, "loadBatch: options.std must be finite and non-zero");
    }
  }
  Napi::Value sv = o.Get("sources");
  if (!sv.IsArray()) ThrowArg(env, "loadBatch: options.sources must be an array");
  Napi::Array sources = sv.As<Napi::Array>();
  const int handles = ThreadPool::Get().Size() + 1;  // every pool thread plus the JS thread
  for (uint32_t k = 0; k < sources.Length(); ++k) {
    Guard(env, [&] { j.sources.push_back(ParseSource(env, sources.Get(k), handles)); });
  }
  bool uses8[2] = {false, false};
  ParseItems(env, o, j, uses8);
  const bool identity8 = !j.cv.normalize;
  if (uses8[0] && !(identity8 && j.cv.out == DType::U8)) j.lut[0] = BuildLut8(DType::U8, j.cv, j.C);
  if (uses8[1] && !(identity8 && j.cv.out == DType::I8)) j.lut[1] = BuildLut8(DType::I8, j.cv, j.C);
  // One crop laid out by the caller's strides (an NDArray `out` of loadRegion).
  Napi::Value view = o.Get("view");
  if (!view.IsUndefined()) {
    if (j.n != 1 || !view.IsTypedArray() || view.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        view.As<Napi::TypedArray>().ElementLength() != 4) {
      ThrowArg(env, "loadBatch: options.view must be a Float64Array [offset, sy, sx, sc] of a one-crop batch");
    }
    // The view is filled from (or is) an HWC crop: the other layouts have no view.
    if (j.nchw || j.ncthw) ThrowArg(env, "loadBatch: options.view goes with layout 'NHWC'");
    const double* v = view.As<Napi::Float64Array>().Data();
    if (!IntIn(v[0], 0, big) || !IntIn(v[1], 0, big) || !IntIn(v[2], 0, big) || !IntIn(v[3], 0, big)) {
      ThrowArg(env, "loadBatch: options.view holds non-negative integers");
    }
    j.hasView = true;
    j.viewOffset = static_cast<int64_t>(v[0]);
    for (int k = 0; k < 3; ++k) j.viewS[k] = static_cast<int64_t>(v[k + 1]);
    const int64_t size[3] = {j.H, j.W, j.C};
    if (StridesOverlap(size, j.viewS)) {
      ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER", "loadBatch: options.view strides overlap", "", 0, ""});
    }
    j.viewMin = j.viewOffset + (j.H - 1) * j.viewS[0] + (j.W - 1) * j.viewS[1] + (j.C - 1) * j.viewS[2] + 1;
  }
  j.failed.assign(static_cast<size_t>(j.n), 0);
  j.errors.resize(static_cast<size_t>(j.n));
}

// The caller's `out` typed array: its data, length and ArrayBuffer. TypeError / ERR_OUT_BUFFER.
struct OutInfo {
  void* data = nullptr;
  size_t length = 0, byteOffset = 0;
  void* abData = nullptr;
  size_t abLength = 0;
};
OutInfo CheckOut(Napi::Env env, const Napi::Value& outVal, const BatchJob& j) {
  OutInfo r;
  napi_typedarray_type type;
  napi_value ab;
  if (!outVal.IsTypedArray() ||
      napi_get_typedarray_info(env, outVal, &type, &r.length, &r.data, &ab, &r.byteOffset) != napi_ok) {
    ThrowArg(env, "loadBatch: options.out must be a typed array");
  }
  const size_t elems = static_cast<size_t>(j.n * j.SlotElems());
  const bool lengthOk = j.hasView ? r.length >= static_cast<size_t>(j.viewMin) : r.length == elems;
  if (type != TypedArrayType(j.cv.out) || !lengthOk || r.data == nullptr) {
    ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER", "loadBatch: options.out has the wrong type or length", "", 0, ""});
  }
  if (Napi::Value(env, ab).IsArrayBuffer()) {
    NAPI_THROW_IF_FAILED(env, napi_get_arraybuffer_info(env, ab, &r.abData, &r.abLength), OutInfo());
  }
  return r;
}

}  // namespace

Napi::Value LoadBatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowArg(env, "loadBatch(options) takes an options object");
  Napi::Object o = ObjectValue(env, info[0], "loadBatch: options");
  auto job = std::make_shared<BatchJob>();
  BatchJob& j = *job;
  ParseWork(env, o, j);
  // Output memory: a reused addon buffer (the data of an earlier Batch), else one of the pool.
  std::shared_ptr<BatchEnv> be = GetBatchEnv(env);
  const size_t bytes = static_cast<size_t>(j.n * j.SlotElems()) * ItemSize(j.cv.out);
  Napi::Value outVal = o.Get("out");
  const bool hasOut = !outVal.IsUndefined() && !outVal.IsNull();
  if (hasOut) {
    const OutInfo out = CheckOut(env, outVal, j);
    auto it = be->buffers.find(out.abData);
    std::shared_ptr<BatchBuffer> own = it == be->buffers.end() ? nullptr : it->second.lock();
    if (!j.hasView && own && out.byteOffset + bytes <= own->size && out.abLength == own->size) {
      if (own->busy) {
        ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER", "loadBatch: options.out is in use by a batch in flight", "", 0, ""});
      }
      j.buf = own;
      j.base = own->bytes.get() + out.byteOffset;
    } else {
      j.copyOut = true;
    }
  }
  if (!j.buf) {
    Guard(env, [&] { j.buf = be->pool.Take(bytes); });
    j.privateBuf = true;
    j.base = j.buf->bytes.get();
  }
  j.env = be;
  j.id = be->nextId++;
  // From here on no JS runs: pin `out`, make the promise, queue the crops.
  if (hasOut) NAPI_THROW_IF_FAILED(env, napi_create_reference(env, outVal, 1, &j.out), Napi::Value());
  napi_value promise;
  if (napi_create_promise(env, &j.deferred, &promise) != napi_ok) {
    if (j.out != nullptr) napi_delete_reference(env, j.out);
    if (j.privateBuf) be->pool.Give(j.buf);
    ThrowJs(env, ErrorInfo{"ERR_INTERNAL", "cannot create a promise", "", 0, ""});
  }
  j.buf->busy = true;
  AddJob(env, *be, job);
  j.remaining.store(static_cast<int>(j.n));
  ThreadPool& pool = ThreadPool::Get();
  for (int64_t i = 0; i < j.n; ++i) {
    pool.Submit([job, i] {
      RunCrop(*job, i);
      if (job->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) Post(job);
    });
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("id", Napi::Number::New(env, static_cast<double>(j.id)));
  result.Set("promise", Napi::Value(env, promise));
  return result;
}

Napi::Value LoadBatchSyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowArg(env, "loadBatchSync(options) takes an options object");
  Napi::Object o = ObjectValue(env, info[0], "loadBatch: options");
  BatchJob j;
  ParseWork(env, o, j);
  std::shared_ptr<BatchEnv> be = GetBatchEnv(env);
  j.env = be;
  Napi::Value outVal = o.Get("out");
  const bool hasOut = !outVal.IsUndefined() && !outVal.IsNull();
  if (hasOut) {
    // No JS runs until the crops are written: they go straight into the caller's memory.
    const OutInfo out = CheckOut(env, outVal, j);
    j.base = static_cast<uint8_t*>(out.data);
    j.directView = j.hasView;
  } else {
    Guard(env, [&] { j.buf = be->pool.Take(static_cast<size_t>(j.n * j.SlotElems()) * ItemSize(j.cv.out)); });
    j.privateBuf = true;
    j.base = j.buf->bytes.get();
  }
  for (int64_t i = 0; i < j.n; ++i) {
    RunCrop(j, i);
    if (j.cancel.load() == kFailed) break;
  }
  Napi::Object result;
  try {
    result = BatchResult(env, j);
  } catch (const CodedError& e) {
    if (j.privateBuf) be->pool.Give(j.buf);
    ThrowJs(env, e.info());
  }
  if (hasOut) result.Set("data", outVal);
  return result;
}

Napi::Value CancelBatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t id = IntValue(env, info[0], 0, kMaxSafeInteger, "cancelBatch: id");
  const std::string code = StringValue(env, info[1], "cancelBatch: code");
  const int why = code == "ERR_CLOSED" ? kClosed : kAborted;
  std::shared_ptr<BatchEnv> be = GetBatchEnv(env);
  auto it = be->jobs.find(static_cast<uint64_t>(id));
  if (it == be->jobs.end()) return env.Undefined();
  if (std::shared_ptr<BatchJob> job = it->second.lock()) {
    int none = kCancelNone;
    job->cancel.compare_exchange_strong(none, why);
  }
  return env.Undefined();
}

}  // namespace nds
