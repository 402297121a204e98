// rasterizeMasks (see mask_job.h for the threads and the memory rule).
#include "labels/mask_job.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "batch/thread_pool.h"
#include "core/addon_data.h"
#include "core/args.h"
#include "core/errors.h"
#include "labels/rasterize.h"

namespace nds {

namespace {

// The output memory of a mask job: addon memory, handed to JS as an external ArrayBuffer and
// reusable as the `out` of a later job (never written while JS could read it mid-job: busy).
struct MaskBuffer {
  std::unique_ptr<uint8_t[]> bytes;  // not zeroed here: each crop task zeroes its slot
  size_t size = 0;
  bool busy = false;  // JS thread only
};

// Per-env state, shared by AddonData (until env teardown) and by the env's jobs in flight.
struct LabelsEnv {
  std::mutex mu;
  bool alive = true;  // guarded by mu: tsfn may still be called
  napi_threadsafe_function tsfn = nullptr;
  int inflight = 0;                                                    // JS thread only
  std::unordered_map<const void*, std::weak_ptr<MaskBuffer>> buffers;  // JS thread only: by data
};

struct Shape {
  int kind = 0;  // 0 polygon parts, 1 RLE
  int64_t value = 0;
  std::vector<std::vector<Ring>> parts;  // into MaskJob::geom
  RleShape rle;
};

struct MaskJob {
  std::shared_ptr<LabelsEnv> env;
  int64_t n = 0, h = 0, w = 0;
  int bytes = 1;
  DType dtype = DType::U8;
  std::vector<double> geom;  // a copy of the caller's geometry (never JS memory on the pool)
  std::vector<Shape> shapes;
  std::vector<std::vector<int32_t>> perCrop;  // shape indices of each crop, in painting order
  std::shared_ptr<MaskBuffer> out;
  napi_ref outRef = nullptr;  // the caller's typed array when `out` reused its buffer (JS thread)
  std::atomic<int64_t> remaining{0};
  std::atomic<bool> failed{false};
  ErrorInfo error;                   // written by the task that set `failed` first
  napi_deferred deferred = nullptr;  // JS thread only
};

// Any thread. Hands the finished job to its env's JS thread unless the env is gone.
void Post(const std::shared_ptr<MaskJob>& job) {
  LabelsEnv& le = *job->env;
  auto* hold = new std::shared_ptr<MaskJob>(job);
  {
    std::lock_guard<std::mutex> lock(le.mu);
    if (le.alive && napi_call_threadsafe_function(le.tsfn, hold, napi_tsfn_nonblocking) == napi_ok) return;
  }
  delete hold;
}

// Finalizer of an ArrayBuffer over a MaskBuffer: drops its share (and its registry entry).
struct OutHold {
  std::shared_ptr<MaskBuffer> buf;
  std::shared_ptr<LabelsEnv> env;
};
void ReleaseOut(napi_env, void* data, void* hint) {
  auto* hold = static_cast<OutHold*>(hint);
  auto it = hold->env->buffers.find(data);
  if (it != hold->env->buffers.end() && it->second.lock() == hold->buf) hold->env->buffers.erase(it);
  delete hold;
}

// JS thread: the typed array over the job's output.
napi_value ResultArray(Napi::Env env, MaskJob& job) {
  if (job.outRef != nullptr) {  // the caller's own (addon) buffer, filled in place
    napi_value v;
    NAPI_THROW_IF_FAILED(env, napi_get_reference_value(env, job.outRef, &v), nullptr);
    return v;
  }
  const size_t bytes = job.out->size;
  const size_t elems = bytes / static_cast<size_t>(job.bytes);
  AddonData* ad = GetData(env);
  napi_value ab = nullptr;
  if (ad->externalBuffersAllowed && bytes > 0) {
    auto* hold = new OutHold{job.out, job.env};
    const napi_status st = napi_create_external_arraybuffer(env, job.out->bytes.get(), bytes, ReleaseOut, hold, &ab);
    if (st == napi_ok) {
      job.env->buffers[job.out->bytes.get()] = job.out;
    } else {
      delete hold;
      ab = nullptr;
      if (st != napi_no_external_buffers_allowed) NAPI_THROW_IF_FAILED(env, st, nullptr);
      ad->externalBuffersAllowed = false;
    }
  }
  if (ab == nullptr) {
    void* data = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, bytes, &data, &ab), nullptr);
    if (bytes > 0) std::memcpy(data, job.out->bytes.get(), bytes);
  }
  napi_value ta;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, TypedArrayType(job.dtype), elems, ab, 0, &ta), nullptr);
  return ta;
}

// The threadsafe function's call_js (JS thread; env null at teardown).
void CallJs(napi_env rawEnv, napi_value, void*, void* data) {
  std::unique_ptr<std::shared_ptr<MaskJob>> hold(static_cast<std::shared_ptr<MaskJob>*>(data));
  if (rawEnv == nullptr) return;
  MaskJob& job = **hold;
  Napi::Env env(rawEnv);
  if (--job.env->inflight == 0) napi_unref_threadsafe_function(rawEnv, job.env->tsfn);
  job.out->busy = false;
  napi_value settled = nullptr;
  bool ok = false;
  try {
    if (job.failed.load()) throw CodedError(job.error);
    settled = ResultArray(env, job);
    ok = settled != nullptr;
  } catch (const CodedError& e) {
    try {
      settled = MakeJsError(env, e.info());
    } catch (...) {
    }
  } catch (...) {
  }
  if (job.outRef != nullptr) napi_delete_reference(rawEnv, job.outRef);
  job.outRef = nullptr;
  if (settled == nullptr) {
    napi_value msg;
    if (napi_create_string_utf8(rawEnv, "rasterizeMasks failed", NAPI_AUTO_LENGTH, &msg) != napi_ok ||
        napi_create_error(rawEnv, nullptr, msg, &settled) != napi_ok) {
      return;
    }
    ok = false;
  }
  if (ok) {
    napi_resolve_deferred(rawEnv, job.deferred, settled);
  } else {
    napi_reject_deferred(rawEnv, job.deferred, settled);
  }
}

void FinalizeTsfn(napi_env, void* data, void*) {
  std::unique_ptr<std::shared_ptr<LabelsEnv>> hold(static_cast<std::shared_ptr<LabelsEnv>*>(data));
  std::lock_guard<std::mutex> lock((*hold)->mu);
  (*hold)->alive = false;
}

std::shared_ptr<LabelsEnv> GetLabelsEnv(Napi::Env env) {
  AddonData* ad = GetData(env);
  if (ad->labels) return std::static_pointer_cast<LabelsEnv>(ad->labels);
  auto le = std::make_shared<LabelsEnv>();
  auto* hold = new std::shared_ptr<LabelsEnv>(le);
  napi_value name = Napi::String::New(env, "ndsampler.rasterizeMasks");
  const napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, hold, FinalizeTsfn, nullptr,
                                                         CallJs, &le->tsfn);
  if (st != napi_ok) {
    delete hold;
    NAPI_THROW_IF_FAILED(env, st, nullptr);
  }
  napi_unref_threadsafe_function(env, le->tsfn);
  ad->labels = le;
  return le;
}

// Pool thread. Never throws.
void RunCrop(const std::shared_ptr<MaskJob>& jobPtr, int64_t c) {
  MaskJob& job = *jobPtr;
  try {
    uint8_t* slot = job.out->bytes.get() + c * job.h * job.w * job.bytes;
    std::memset(slot, 0, static_cast<size_t>(job.h * job.w * job.bytes));
    MaskCanvas canvas{slot, job.h, job.w, job.bytes};
    for (int32_t k : job.perCrop[c]) {
      const Shape& s = job.shapes[k];
      if (s.kind == 0) {
        for (const std::vector<Ring>& part : s.parts) FillPart(canvas, part, s.value);
      } else {
        FillRle(canvas, s.rle, s.value);
      }
    }
  } catch (const std::bad_alloc&) {
    if (!job.failed.exchange(true)) job.error = ErrorInfo{"ERR_NO_MEMORY", "out of memory", "", 0, ""};
  } catch (const std::exception& e) {
    if (!job.failed.exchange(true)) job.error = ErrorInfo{"ERR_INTERNAL", e.what(), "", 0, ""};
  }
  if (job.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) Post(jobPtr);
}

// ---- parsing (JS thread) ------------------------------------------------------------------------

[[noreturn]] void Bad(Napi::Env env, const std::string& why) { ThrowArg(env, "rasterizeMasks: " + why); }

// Reads geom[at] as an integer count in [0, max]; advances `at`.
int64_t Count(Napi::Env env, const std::vector<double>& g, size_t& at, double max, const char* what) {
  if (at >= g.size()) Bad(env, std::string("geometry ends before a ") + what);
  const double v = g[at++];
  if (!(v >= 0 && v <= max && v == std::floor(v))) Bad(env, std::string("bad ") + what + " in the geometry");
  return static_cast<int64_t>(v);
}

void ParseShape(Napi::Env env, MaskJob& j, Shape& s, size_t at, int64_t* vertices) {
  const std::vector<double>& g = j.geom;
  if (s.kind == 0) {
    const int64_t parts = Count(env, g, at, 1e9, "part count");
    for (int64_t p = 0; p < parts; ++p) {
      std::vector<Ring> rings;
      const int64_t nr = Count(env, g, at, 1e9, "ring count");
      for (int64_t r = 0; r < nr; ++r) {
        const int64_t np = Count(env, g, at, static_cast<double>(kMaxMaskVertices), "point count");
        *vertices += np;
        if (*vertices > kMaxMaskVertices) {
          throw CodedError("ERR_TOO_LARGE", "rasterizeMasks: more than " + std::to_string(kMaxMaskVertices) +
                                                " polygon vertices in one batch");
        }
        if (static_cast<double>(g.size() - at) < 2.0 * static_cast<double>(np)) Bad(env, "geometry ends inside a ring");
        rings.push_back(Ring{g.data() + at, np});
        at += static_cast<size_t>(2 * np);
      }
      s.parts.push_back(std::move(rings));
    }
    return;
  }
  if (g.size() - std::min(at, g.size()) < 12) Bad(env, "geometry ends inside an RLE header");
  RleShape& r = s.rle;
  r.imgH = Count(env, g, at, 1 << 30, "RLE height");
  r.imgW = Count(env, g, at, 1 << 30, "RLE width");
  for (double& t : r.t) {
    t = g[at++];
    if (!std::isfinite(t)) Bad(env, "a non-finite RLE transform");
  }
  for (int64_t& b : r.box) {
    const double v = g[at++];
    if (!(v >= -1e9 && v <= 1e9)) Bad(env, "a bad RLE box");
    b = static_cast<int64_t>(std::floor(v));
  }
  r.runs = Count(env, g, at, static_cast<double>(kMaxMaskVertices), "RLE run count");
  *vertices += r.runs;
  if (*vertices > kMaxMaskVertices) {
    throw CodedError("ERR_TOO_LARGE", "rasterizeMasks: more than " + std::to_string(kMaxMaskVertices) +
                                          " vertices and runs in one batch");
  }
  if (static_cast<double>(g.size() - at) < static_cast<double>(r.runs)) Bad(env, "geometry ends inside an RLE");
  for (int64_t k = 0; k < r.runs; ++k) {
    if (!(g[at + k] >= 0)) Bad(env, "a negative RLE count");
  }
  r.counts = g.data() + at;
}

std::vector<double> Doubles(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    Bad(env, std::string(what) + " must be a Float64Array");
  }
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  return std::vector<double>(a.Data(), a.Data() + a.ElementLength());
}

}  // namespace

Napi::Value RasterizeMasksJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ObjectValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "rasterizeMasks: options");
  auto job = std::make_shared<MaskJob>();
  MaskJob& j = *job;
  j.n = IntValue(env, o.Get("n"), 1, 1 << 20, "rasterizeMasks: n");
  j.h = IntValue(env, o.Get("h"), 1, 1 << 20, "rasterizeMasks: h");
  j.w = IntValue(env, o.Get("w"), 1, 1 << 20, "rasterizeMasks: w");
  const std::string dtype = StringValue(env, o.Get("dtype"), "rasterizeMasks: dtype");
  int64_t lo = 0, hi = 255;
  if (dtype == "uint8") {
    j.dtype = DType::U8, j.bytes = 1;
  } else if (dtype == "uint16") {
    j.dtype = DType::U16, j.bytes = 2, hi = 65535;
  } else if (dtype == "int32") {
    j.dtype = DType::I32, j.bytes = 4, lo = INT32_MIN, hi = INT32_MAX;
  } else {
    Bad(env, "dtype must be 'uint8', 'uint16' or 'int32'");
  }
  const double total = static_cast<double>(j.n) * static_cast<double>(j.h) * static_cast<double>(j.w) * j.bytes;
  if (total > static_cast<double>(int64_t{1} << 34)) {
    ThrowJs(env, ErrorInfo{"ERR_TOO_LARGE", "rasterizeMasks: the masks would take more than 16 GiB", "", 0, ""});
  }
  const std::vector<double> table = Doubles(env, o.Get("shapes"), "shapes");
  j.geom = Doubles(env, o.Get("geom"), "geom");
  if (table.size() % 4 != 0) Bad(env, "shapes must hold 4 numbers per shape");
  j.perCrop.resize(static_cast<size_t>(j.n));
  j.shapes.resize(table.size() / 4);
  int64_t vertices = 0;
  Guard(env, [&] {
    for (size_t k = 0; k < j.shapes.size(); ++k) {
      const double* r = table.data() + 4 * k;
      const double crop = r[0], value = r[1], kind = r[2], at = r[3];
      if (!(crop >= 0 && crop < static_cast<double>(j.n) && crop == std::floor(crop))) Bad(env, "bad crop index");
      if (!(value >= static_cast<double>(lo) && value <= static_cast<double>(hi) && value == std::floor(value))) {
        Bad(env, "a value outside the dtype's range");
      }
      if (kind != 0 && kind != 1) Bad(env, "kind must be 0 or 1");
      if (!(at >= 0 && at < static_cast<double>(j.geom.size()) && at == std::floor(at)))
        Bad(env, "bad geometry offset");
      Shape& s = j.shapes[k];
      s.kind = static_cast<int>(kind);
      s.value = static_cast<int64_t>(value);
      ParseShape(env, j, s, static_cast<size_t>(at), &vertices);
      j.perCrop[static_cast<size_t>(crop)].push_back(static_cast<int32_t>(k));
    }
  });
  std::shared_ptr<LabelsEnv> le = GetLabelsEnv(env);
  j.env = le;
  // `out`: the data of an earlier mask result of this env (addon memory, reused in place) of the
  // same dtype and size; anything else is ignored (a new buffer is made).
  Napi::Value outVal = o.Get("out");
  if (outVal.IsTypedArray()) {
    napi_typedarray_type type;
    size_t length = 0, byteOffset = 0;
    void* data = nullptr;
    napi_value ab;
    if (napi_get_typedarray_info(env, outVal, &type, &length, &data, &ab, &byteOffset) == napi_ok && data != nullptr &&
        byteOffset == 0 && type == TypedArrayType(j.dtype) && length * j.bytes == static_cast<size_t>(total)) {
      auto it = le->buffers.find(data);
      std::shared_ptr<MaskBuffer> own = it == le->buffers.end() ? nullptr : it->second.lock();
      if (own && !own->busy && own->size == static_cast<size_t>(total)) {
        j.out = own;
        NAPI_THROW_IF_FAILED(env, napi_create_reference(env, outVal, 1, &j.outRef), Napi::Value());
      }
    }
  }
  if (!j.out) {
    Guard(env, [&] {
      j.out = std::make_shared<MaskBuffer>();
      j.out->bytes.reset(new uint8_t[std::max<size_t>(static_cast<size_t>(total), 1)]);
      j.out->size = static_cast<size_t>(total);
    });
  }
  napi_value promise;
  if (napi_create_promise(env, &j.deferred, &promise) != napi_ok) {
    if (j.outRef != nullptr) napi_delete_reference(env, j.outRef);
    ThrowJs(env, ErrorInfo{"ERR_INTERNAL", "cannot create a promise", "", 0, ""});
  }
  j.out->busy = true;
  if (le->inflight++ == 0) napi_ref_threadsafe_function(env, le->tsfn);
  j.remaining.store(j.n);
  ThreadPool& pool = ThreadPool::Get();
  for (int64_t c = 0; c < j.n; ++c) pool.Submit([job, c] { RunCrop(job, c); });
  return Napi::Value(env, promise);
}

}  // namespace nds
