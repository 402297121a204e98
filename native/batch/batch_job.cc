// loadBatch (see batch_job.h for the threads and the memory rule).
#include "batch/batch_job.h"

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

#include "batch/batch_kernel.h"
#include "batch/orient.h"
#include "batch/thread_pool.h"
#include "core/addon_data.h"
#include "core/args.h"
#include "core/copy_kernel.h"
#include "core/errors.h"
#include "core/js_class.h"
#include "npy/npy_reader.h"
#include "npy/sigbus_guard.h"
#include "raster/raster_reader.h"

namespace nds {

namespace {

// The output memory of a batch. Owned by the addon: jobs and the finalizers of the
// ArrayBuffers handed to JS each hold a shared_ptr, so JS can never free it under a job.
struct BatchBuffer {
  std::unique_ptr<uint8_t[]> bytes;
  size_t size = 0;
  bool busy = false;  // JS thread: a job in flight writes into it
};

enum class SrcKind { kNpy, kRaster, kMemory };

// One distinct source of the batch. Immutable once the job is queued.
struct BatchSource {
  SrcKind kind = SrcKind::kNpy;
  std::shared_ptr<const Mapping> map;            // kNpy: pinned mapping
  std::shared_ptr<std::vector<uint8_t>> memory;  // kMemory: an owned copy of a JS array
  SrcLayout layout{};                            // kNpy, kMemory
  std::shared_ptr<RasterSource> raster;          // kRaster
  std::string path;                              // kNpy: for ERR_SOURCE_CHANGED
  DType dtype = DType::U8;
  int64_t H = 0, W = 0, C = 0;
};

// One crop: the in-image source window, where it lands in the window as read (S: oy, ox, ih x iw
// at output resolution), and the raw fill value. src < 0: nothing to read (an item that already
// failed). orient: how S is written into the slot (batch/orient.h; 0 = as is, S = the slot).
struct BatchItem {
  int src = -1;
  int64_t iy0 = 0, iy1 = 0, ix0 = 0, ix1 = 0, c0 = 0, c1 = 0, oy = 0, ox = 0, ih = 0, iw = 0;
  double fill = 0;
  int orient = 0;
};

constexpr int kItemLen = 13;

enum Cancel : int { kNone = 0, kAborted = 1, kClosed = 2, kFailed = 3 };

struct BatchEnv;

struct BatchJob {
  std::shared_ptr<BatchEnv> env;
  uint64_t id = 0;
  int64_t n = 0, H = 0, W = 0, C = 0;
  bool nchw = false;
  bool fillOnError = false;
  BatchConvert cv;
  std::vector<uint8_t> lut[2];  // 1-byte sources: [0] uint8, [1] int8 (empty when unused)
  std::vector<BatchSource> sources;
  std::vector<BatchItem> items;
  std::shared_ptr<BatchBuffer> buf;
  uint8_t* base = nullptr;  // slot 0 inside buf
  std::atomic<int> remaining{0};
  std::atomic<int> cancel{kNone};
  // Per item, written only by that item's crop task; read after `remaining` reached 0.
  std::vector<char> failed;
  std::vector<ErrorInfo> errors;
  // JS thread only (never touched, nor released, off it):
  napi_deferred deferred = nullptr;
  napi_ref out = nullptr;  // the caller's typed array, pinned until completion
  bool copyOut = false;    // out is not addon memory: copy into it at completion

  int64_t SlotElems() const { return H * W * C; }
  void Strides(int64_t* sy, int64_t* sx, int64_t* sc) const {
    if (nchw) {
      *sy = W, *sx = 1, *sc = H * W;
    } else {
      *sy = W * C, *sx = C, *sc = 1;
    }
  }
};

// Per-env batch state, shared by AddonData (until env teardown) and by every job of the env.
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
};

// ---- completion ---------------------------------------------------------------------------------

// Any thread. Hands the finished job to its env's JS thread, unless the env is gone (then the
// job is dropped here; its JS handles die with the env and are never touched).
void Post(const std::shared_ptr<BatchJob>& job) {
  BatchEnv& be = *job->env;
  auto* hold = new std::shared_ptr<BatchJob>(job);
  {
    std::lock_guard<std::mutex> lock(be.mu);
    if (be.alive && napi_call_threadsafe_function(be.tsfn, hold, napi_tsfn_nonblocking) == napi_ok) return;
  }
  delete hold;
}

// Finalizer of an ArrayBuffer handed to JS: drops its share of the buffer. JS thread.
struct BufferHold {
  std::shared_ptr<BatchBuffer> buf;
  std::shared_ptr<BatchEnv> env;
};
void ReleaseBuffer(napi_env, void* data, void* hint) {
  auto* hold = static_cast<BufferHold*>(hint);
  auto it = hold->env->buffers.find(data);
  if (it != hold->env->buffers.end() && it->second.lock() == hold->buf) hold->env->buffers.erase(it);
  delete hold;
}

Napi::Value TypedArrayOver(Napi::Env env, napi_value ab, DType d, size_t byteOffset, size_t length) {
  napi_value ta;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, TypedArrayType(d), length, ab, byteOffset, &ta), Napi::Value());
  return Napi::Value(env, ta);
}

// JS thread. The typed array the batch resolves with.
Napi::Value ResultData(Napi::Env env, BatchJob& job) {
  const size_t elems = static_cast<size_t>(job.n * job.SlotElems());
  const size_t bytes = elems * ItemSize(job.cv.out);
  if (job.out != nullptr) {
    napi_value outVal;
    NAPI_THROW_IF_FAILED(env, napi_get_reference_value(env, job.out, &outVal), Napi::Value());
    if (!job.copyOut) return Napi::Value(env, outVal);
    // The caller's own memory: check it again now (JS ran since the call) and copy.
    size_t length = 0;
    void* data = nullptr;
    napi_typedarray_type type;
    if (napi_get_typedarray_info(env, outVal, &type, &length, &data, nullptr, nullptr) != napi_ok || data == nullptr ||
        length != elems) {
      throw CodedError("ERR_OUT_BUFFER", "options.out was detached or resized while the batch was in flight");
    }
    if (bytes > 0) std::memcpy(data, job.base, bytes);
    return Napi::Value(env, outVal);
  }
  AddonData* ad = GetData(env);
  napi_value ab;
  if (ad->externalBuffersAllowed && bytes > 0) {
    auto* hold = new BufferHold{job.buf, job.env};
    const napi_status st = napi_create_external_arraybuffer(env, job.base, bytes, ReleaseBuffer, hold, &ab);
    if (st == napi_ok) {
      job.env->buffers[job.base] = job.buf;
      return TypedArrayOver(env, ab, job.cv.out, 0, elems);
    }
    delete hold;
    if (st != napi_no_external_buffers_allowed) NAPI_THROW_IF_FAILED(env, st, Napi::Value());
    ad->externalBuffersAllowed = false;
  }
  void* data = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, bytes, &data, &ab), Napi::Value());
  if (bytes > 0) std::memcpy(data, job.base, bytes);
  return TypedArrayOver(env, ab, job.cv.out, 0, elems);
}

ErrorInfo CancelInfo(int why) {
  if (why == kAborted) return ErrorInfo{"ERR_ABORTED", "the batch was aborted", "", 0, ""};
  return ErrorInfo{"ERR_CLOSED", "the Frames object was closed with the batch in flight", "", 0, ""};
}

// JS thread, inside the threadsafe function's callback scope. Settles the job's promise.
void Complete(Napi::Env env, BatchJob& job) {
  BatchEnv& be = *job.env;
  be.jobs.erase(job.id);
  if (--be.inflight == 0) napi_unref_threadsafe_function(env, be.tsfn);
  if (!job.copyOut) job.buf->busy = false;
  napi_value settled = nullptr;
  bool ok = false;
  try {
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
    settled = result;
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

// JS thread. This env's batch state, made (with its threadsafe function) on first use.
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

// ---- one crop (pool thread) ---------------------------------------------------------------------

// Nearest-neighbour source index of output index j when n source pixels become m (GDAL's
// RasterIO rule: the centre of output pixel j, mapped back, floored).
inline int64_t Nearest(int64_t j, int64_t n, int64_t m) {
  if (n == m) return j;
  const int64_t s = static_cast<int64_t>(std::floor((static_cast<double>(j) + 0.5) * n / m + 1e-10));
  return std::min(s, n - 1);
}

void FillValues(const BatchJob& job, double raw, uint8_t* values) {
  const int n = ItemSize(job.cv.out);
  for (int64_t k = 0; k < job.C; ++k) CastOne(job.cv.Apply(raw, k), job.cv.out, values + k * n);
}

// The error of a crop whose npy file was cut or rewritten under its mapping.
CodedError Changed(const BatchSource& s) {
  return CodedError("ERR_SOURCE_CHANGED", "'" + s.path + "' changed on disk (it was cut under its mapping)", s.path);
}

void ReadCrop(BatchJob& job, const BatchItem& it, uint8_t* slot) {
  const int osz = ItemSize(job.cv.out);
  int64_t dsy, dsx, dsc;
  job.Strides(&dsy, &dsx, &dsc);
  int64_t sh = job.H, sw = job.W;  // S, the window as read: the slot transposed for odd quarter turns
  if (it.orient != 0) OrientedDims(it.orient, job.H, job.W, &sh, &sw);
  const bool partial = it.oy != 0 || it.ox != 0 || it.ih != sh || it.iw != sw;
  if (partial) {
    std::vector<uint8_t> values(static_cast<size_t>(job.C * osz));
    FillValues(job, it.fill, values.data());
    FillSlot(slot, job.H, job.W, job.C, dsy, dsx, dsc, job.cv.out, values.data());
  }
  if (it.ih == 0 || it.iw == 0 || it.src < 0) return;
  const BatchSource& s = job.sources[it.src];
  uint8_t* d0 = slot + (it.oy * dsy + it.ox * dsx) * osz;
  const bool same = s.dtype == job.cv.out && !job.cv.normalize && it.orient == 0;
  const int isz = ItemSize(s.dtype);
  const Window win{it.iy0, it.iy1, it.ix0, it.ix1, it.c0, it.c1};
  thread_local std::vector<int64_t> rows, xoff;
  rows.resize(static_cast<size_t>(it.ih));
  xoff.resize(static_cast<size_t>(it.iw));
  SrcBlock block{};
  bool identityX = false;
  if (s.kind == SrcKind::kRaster) {
    if (same) {  // straight into the slot, with the slot's strides
      Destination dst;
      dst.data = d0;
      dst.length = job.SlotElems();
      dst.sy = dsy, dst.sx = dsx, dst.sc = dsc, dst.outH = it.ih, dst.outW = it.iw;
      s.raster->Read(win, dst);
      return;
    }
    thread_local std::vector<uint8_t> scratch;  // decoded HWC block, reused by this thread
    scratch.resize(static_cast<size_t>(it.ih * it.iw * job.C * isz));
    Destination dst;
    dst.data = scratch.data();
    dst.length = it.ih * it.iw * job.C;
    dst.sy = it.iw * job.C, dst.sx = job.C, dst.sc = 1, dst.outH = it.ih, dst.outW = it.iw;
    s.raster->Read(win, dst);
    block = SrcBlock{scratch.data(), it.iw * job.C * isz, job.C * isz, isz, false, s.dtype};
    for (int64_t j = 0; j < it.ih; ++j) rows[j] = j;
    identityX = true;
  } else {
    const SrcLayout& L = s.layout;
    const int64_t h = it.iy1 - it.iy0, w = it.ix1 - it.ix0;
    if (s.kind == SrcKind::kNpy && s.map->damaged()) throw Changed(s);
    // Same dtype into an interleaved slot: a plain copy (CopyWindow); a transposing one (NCHW)
    // takes the kernel's one-pass fast path below.
    if (same && h == it.ih && w == it.iw && !(job.nchw && job.C > 1)) {
      auto copy = [&] {
        CopyWindow(L, it.iy0, it.ix0, it.c0, it.ih, it.iw, job.C, d0, dsy * osz, dsx * osz, dsc * osz);
      };
      if (s.kind == SrcKind::kNpy ? !GuardedCopy(copy) : (copy(), false)) throw Changed(s);
      return;
    }
    block = SrcBlock{L.base + it.iy0 * L.sy + it.ix0 * L.sx + it.c0 * L.sc, L.sy, L.sx, L.sc, L.swap, s.dtype};
    for (int64_t j = 0; j < it.ih; ++j) rows[j] = Nearest(j, h, it.ih);
    if (w == it.iw) {
      identityX = true;  // the kernel's fast path: no per-column offsets
    } else {
      for (int64_t i = 0; i < it.iw; ++i) xoff[i] = Nearest(i, w, it.iw) * L.sx;
    }
  }
  const uint8_t* lut = nullptr;
  if (s.dtype == DType::U8 && !job.lut[0].empty()) lut = job.lut[0].data();
  if (s.dtype == DType::I8 && !job.lut[1].empty()) lut = job.lut[1].data();
  const OrientPlan plan = PlanOrientation(it.orient);
  if (plan.transpose) {
    // S's pixel (y, x) goes to the slot's row x and column y (then flipped): written through
    // swapped strides, in square tiles of S so a tile's output rows stay in a few cache lines.
    const int64_t gh = sw, gw = sh;  // the slot
    d0 = slot + ((plan.vflip ? (gh - 1 - it.ox) : it.ox) * dsy + (plan.hflip ? (gw - 1 - it.oy) : it.oy) * dsx) * osz;
    const int64_t sy = plan.hflip ? -dsx : dsx, sx = plan.vflip ? -dsy : dsy;
    dsy = sy, dsx = sx;
  } else if (plan.hflip || plan.vflip) {
    // Flips are written in one monotonic sweep: a flipped row backwards (negative column stride)
    // with the rows last to first too (negative row stride, their map reversed), which the memory
    // system handles as well as a forward sweep (backward rows in a forward row order measured
    // 2.5x slower).
    const int64_t row0 = plan.vflip ? sh - it.oy - it.ih : it.oy, col0 = plan.hflip ? sw - 1 - it.ox : it.ox;
    if (plan.vflip != plan.hflip) std::reverse(rows.begin(), rows.begin() + it.ih);
    d0 = slot + ((plan.hflip ? row0 + it.ih - 1 : row0) * dsy + col0 * dsx) * osz;
    if (plan.hflip) dsy = -dsy, dsx = -dsx;
  }
  // Out of an npy mapping the read runs armed: a file cut under it is ERR_SOURCE_CHANGED, not SIGBUS.
  auto convert = [&] {
    if (!plan.transpose) {
      ConvertBlock(block, rows.data(), identityX ? nullptr : xoff.data(), it.ih, it.iw, job.C, d0, dsy, dsx, dsc,
                   job.cv, lut);
      return;
    }
    for (int64_t ty = 0; ty < it.ih; ty += kOrientTile) {
      for (int64_t tx = 0; tx < it.iw; tx += kOrientTile) {
        SrcBlock b = block;
        if (identityX) b.base += tx * block.sx;
        ConvertBlock(b, rows.data() + ty, identityX ? nullptr : xoff.data() + tx, std::min(kOrientTile, it.ih - ty),
                     std::min(kOrientTile, it.iw - tx), job.C, d0 + (ty * dsy + tx * dsx) * osz, dsy, dsx, dsc, job.cv,
                     lut);
      }
    }
  };
  if (s.kind == SrcKind::kNpy ? !GuardedCopy(convert) : (convert(), false)) throw Changed(s);
}

// Pool thread. Never throws.
void RunCrop(const std::shared_ptr<BatchJob>& jobPtr, int64_t i) {
  BatchJob& job = *jobPtr;
  const BatchItem& it = job.items[i];
  uint8_t* slot = job.base + i * job.SlotElems() * ItemSize(job.cv.out);
  if (!job.env->dead.load() && job.cancel.load() == kNone) {
    try {
      ReadCrop(job, it, slot);
    } catch (const CodedError& e) {
      job.errors[i] = e.info();
      job.failed[i] = 1;
    } catch (const std::bad_alloc&) {
      job.errors[i] = ErrorInfo{"ERR_NO_MEMORY", "out of memory", "", 0, ""};
      job.failed[i] = 1;
    } catch (const std::exception& e) {
      job.errors[i] = ErrorInfo{"ERR_INTERNAL", e.what(), "", 0, ""};
      job.failed[i] = 1;
    }
    if (job.failed[i]) {
      if (job.fillOnError) {
        try {
          ReadCrop(job, BatchItem{-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, it.fill}, slot);
        } catch (...) {
        }
      } else {
        int none = kNone;
        job.cancel.compare_exchange_strong(none, kFailed);  // the rest is wasted work
      }
    }
  }
  if (job.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) Post(jobPtr);
}

// ---- parsing (JS thread) ------------------------------------------------------------------------

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

BatchSource ParseSource(Napi::Env env, const Napi::Value& v, int rasterHandles) {
  AddonData* ad = GetData(env);
  BatchSource s;
  if (!v.IsObject()) ThrowArg(env, "loadBatch: each source must be a reader or an array description");
  Napi::Object o = v.As<Napi::Object>();
  if (o.InstanceOf(ad->npyReaderClass.Value())) {
    NpyReader* r = JsClass<NpyReader>::Unwrap(env, o);
    if (r == nullptr || !r->state()->map) throw CodedError("ERR_CLOSED", "an npy reader of the batch is closed");
    std::shared_ptr<NpyState> st = r->state();
    s.kind = SrcKind::kNpy;
    s.path = st->path;
    s.map = st->map;
    s.layout = st->layout;
    s.dtype = st->header.dtype;
    s.H = st->header.shape[0], s.W = st->header.shape[1], s.C = st->header.shape[2];
    return s;
  }
  if (o.InstanceOf(ad->rasterReaderClass.Value())) {
    RasterReader* r = JsClass<RasterReader>::Unwrap(env, o);
    std::shared_ptr<RasterSource> src = r == nullptr ? nullptr : r->source();
    if (!src) throw CodedError("ERR_CLOSED", "a raster reader of the batch is closed");
    src->ReserveHandles(rasterHandles);
    const RasterMeta& m = src->meta();
    s.kind = SrcKind::kRaster;
    s.raster = std::move(src);
    s.dtype = m.dtype;
    s.H = m.H, s.W = m.W, s.C = m.C;
    return s;
  }
  // An array in JS memory (a fused image read by TypeScript): copied here, so the job never
  // reads memory JS could free or detach.
  ArrayDesc a =
      ParseArrayDesc(env, o.Get("data"), o, ShapeLimits{0, {kMaxSafeInteger, kMaxSafeInteger, 65536}}, "loadBatch");
  const int n = ItemSize(a.dtype);
  s.kind = SrcKind::kMemory;
  s.dtype = a.dtype;
  s.H = a.shape[0], s.W = a.shape[1], s.C = a.shape[2];
  s.memory = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(s.H * s.W * s.C * n));
  if (!a.empty()) {
    const SrcLayout from{a.first(), a.strides[0] * n, a.strides[1] * n, a.strides[2] * n, n, false};
    CopyWindow(from, 0, 0, 0, s.H, s.W, s.C, s.memory->data(), s.W * s.C * n, s.C * n, n);
  }
  s.layout = SrcLayout{s.memory->data(), s.W * s.C * n, s.C * n, n, n, false};
  return s;
}

inline bool IntIn(double v, double lo, double hi) {
  return v >= lo && v <= hi && v == static_cast<double>(static_cast<int64_t>(v));
}

}  // namespace

Napi::Value LoadBatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowArg(env, "loadBatch(options) takes an options object");
  Napi::Object o = ObjectValue(env, info[0], "loadBatch: options");
  auto job = std::make_shared<BatchJob>();
  BatchJob& j = *job;
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
  if (layout != "NHWC" && layout != "NCHW") ThrowArg(env, "loadBatch: options.layout must be 'NHWC' or 'NCHW'");
  j.nchw = layout == "NCHW";
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
  // Sources.
  Napi::Value sv = o.Get("sources");
  if (!sv.IsArray()) ThrowArg(env, "loadBatch: options.sources must be an array");
  Napi::Array sources = sv.As<Napi::Array>();
  const int handles = ThreadPool::Get().Size() + 1;  // every pool thread plus the JS thread
  for (uint32_t k = 0; k < sources.Length(); ++k) {
    Guard(env, [&] { j.sources.push_back(ParseSource(env, sources.Get(k), handles)); });
  }
  // Items.
  Napi::Value iv = o.Get("items");
  if (!iv.IsTypedArray() || iv.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      iv.As<Napi::TypedArray>().ElementLength() != static_cast<size_t>(j.n * kItemLen)) {
    ThrowArg(env, "loadBatch: options.items must be a Float64Array of n * 13 numbers");
  }
  const double* r = iv.As<Napi::Float64Array>().Data();
  j.items.resize(static_cast<size_t>(j.n));
  bool uses8[2] = {false, false};
  for (int64_t i = 0; i < j.n; ++i, r += kItemLen) {
    BatchItem& it = j.items[i];
    if (!IntIn(r[0], -1, static_cast<double>(j.sources.size()) - 1)) ThrowArg(env, "loadBatch: bad source index");
    it.src = static_cast<int>(r[0]);
    it.fill = r[11];
    if (std::isnan(it.fill)) ThrowArg(env, "loadBatch: fill must be a number");
    if (!IntIn(r[12], 0, kOrientCodes - 1)) ThrowArg(env, "loadBatch: bad orientation code");
    it.orient = static_cast<int>(r[12]);
    if (it.src < 0) continue;
    const BatchSource& s = j.sources[it.src];
    int64_t sh = j.H, sw = j.W;  // the window as read (S): oy, ox, ih, iw are in it
    OrientedDims(it.orient, j.H, j.W, &sh, &sw);
    // ih, iw may exceed the source window (a window read enlarged: nearest sampling).
    const bool okWin = IntIn(r[1], 0, s.H) && IntIn(r[2], r[1], s.H) && IntIn(r[3], 0, s.W) && IntIn(r[4], r[3], s.W) &&
                       IntIn(r[5], 0, s.C) && IntIn(r[6], r[5], s.C) && r[6] - r[5] == C && IntIn(r[7], 0, sh) &&
                       IntIn(r[8], 0, sw) && IntIn(r[9], 0, sh - r[7]) && IntIn(r[10], 0, sw - r[8]) &&
                       (r[9] == 0) == (r[2] == r[1]) && (r[10] == 0) == (r[4] == r[3]);
    if (!okWin) ThrowJs(env, ErrorInfo{"ERR_REGION", "loadBatch: item window is outside its image or slot", "", 0, ""});
    it.iy0 = static_cast<int64_t>(r[1]), it.iy1 = static_cast<int64_t>(r[2]);
    it.ix0 = static_cast<int64_t>(r[3]), it.ix1 = static_cast<int64_t>(r[4]);
    it.c0 = static_cast<int64_t>(r[5]), it.c1 = static_cast<int64_t>(r[6]);
    it.oy = static_cast<int64_t>(r[7]), it.ox = static_cast<int64_t>(r[8]);
    it.ih = static_cast<int64_t>(r[9]), it.iw = static_cast<int64_t>(r[10]);
    if (s.dtype == DType::U8) uses8[0] = true;
    if (s.dtype == DType::I8) uses8[1] = true;
  }
  const bool identity8 = !j.cv.normalize;
  if (uses8[0] && !(identity8 && j.cv.out == DType::U8)) j.lut[0] = BuildLut8(DType::U8, j.cv, j.C);
  if (uses8[1] && !(identity8 && j.cv.out == DType::I8)) j.lut[1] = BuildLut8(DType::I8, j.cv, j.C);
  // Output memory: a reused addon buffer (the data of an earlier Batch), else a new one.
  std::shared_ptr<BatchEnv> be = GetBatchEnv(env);
  const size_t elems = static_cast<size_t>(j.n * j.SlotElems());
  const size_t bytes = elems * ItemSize(j.cv.out);
  Napi::Value outVal = o.Get("out");
  if (!outVal.IsUndefined() && !outVal.IsNull()) {
    napi_typedarray_type type;
    size_t length = 0, byteOffset = 0;
    void* data = nullptr;
    napi_value ab;
    if (!outVal.IsTypedArray() ||
        napi_get_typedarray_info(env, outVal, &type, &length, &data, &ab, &byteOffset) != napi_ok) {
      ThrowArg(env, "loadBatch: options.out must be a typed array");
    }
    if (type != TypedArrayType(j.cv.out) || length != elems || data == nullptr) {
      ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER", "loadBatch: options.out has the wrong type or length", "", 0, ""});
    }
    void* abData = nullptr;
    size_t abLength = 0;
    if (Napi::Value(env, ab).IsArrayBuffer()) {
      NAPI_THROW_IF_FAILED(env, napi_get_arraybuffer_info(env, ab, &abData, &abLength), Napi::Value());
    }
    auto it = be->buffers.find(abData);
    std::shared_ptr<BatchBuffer> own = it == be->buffers.end() ? nullptr : it->second.lock();
    if (own && byteOffset + bytes <= own->size && abLength == own->size) {
      if (own->busy) {
        ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER", "loadBatch: options.out is in use by a batch in flight", "", 0, ""});
      }
      j.buf = own;
      j.base = own->bytes.get() + byteOffset;
    } else {
      j.copyOut = true;
    }
  }
  if (!j.buf) {
    j.buf = std::make_shared<BatchBuffer>();
    Guard(env, [&] {
      j.buf->bytes.reset(new uint8_t[std::max<size_t>(bytes, 1)]);
      j.buf->size = bytes;
    });
    j.base = j.buf->bytes.get();
  }
  j.failed.assign(static_cast<size_t>(j.n), 0);
  j.errors.resize(static_cast<size_t>(j.n));
  j.env = be;
  j.id = be->nextId++;
  // From here on no JS runs: pin `out`, make the promise, queue the crops.
  if (!outVal.IsUndefined() && !outVal.IsNull()) {
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, outVal, 1, &j.out), Napi::Value());
  }
  napi_value promise;
  if (napi_create_promise(env, &j.deferred, &promise) != napi_ok) {
    if (j.out != nullptr) napi_delete_reference(env, j.out);
    ThrowJs(env, ErrorInfo{"ERR_INTERNAL", "cannot create a promise", "", 0, ""});
  }
  if (!j.copyOut) j.buf->busy = true;
  be->jobs[j.id] = job;
  if (be->inflight++ == 0) napi_ref_threadsafe_function(env, be->tsfn);
  j.remaining.store(static_cast<int>(j.n));
  ThreadPool& pool = ThreadPool::Get();
  for (int64_t i = 0; i < j.n; ++i) pool.Submit([job, i] { RunCrop(job, i); });
  Napi::Object result = Napi::Object::New(env);
  result.Set("id", Napi::Number::New(env, static_cast<double>(j.id)));
  result.Set("promise", Napi::Value(env, promise));
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
    int none = kNone;
    job->cancel.compare_exchange_strong(none, why);
  }
  return env.Undefined();
}

Napi::Value SetThreadPoolSizeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadPool::Get().SetSize(static_cast<int>(IntValue(env, info[0], 1, 1024, "setThreadPoolSize: n")));
  return env.Undefined();
}

Napi::Value ThreadPoolSizeJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ThreadPool::Get().Size());
}

Napi::Value SetThreadPoolNiceJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadPool::Get().SetNice(static_cast<int>(IntValue(env, info[0], 0, 19, "setThreadPoolNice: n")));
  return env.Undefined();
}

Napi::Value ThreadPoolNiceJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ThreadPool::Get().Nice());
}

}  // namespace nds
