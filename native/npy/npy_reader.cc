// NpyReader (a .npy file served from a memory mapping). See npy_reader.h for the thread each
// function runs on and the lifetime of the mapping.
#include "npy/npy_reader.h"

#include "core/addon_data.h"
#include "core/args.h"
#include "core/async_job.h"
#include "core/errors.h"
#include "core/request.h"

namespace nds {

namespace {

// Copies window `w` of the file described by (`src`, `fortran`) into `d`. Pure C++, any thread;
// the caller has checked both against the image and the destination (ParseRequest). For a
// Fortran-order file the loops run channel, column, row (row innermost) so the source is walked
// contiguously: CopyWindow is called with the row and channel axes exchanged on both sides.
void CopyOut(const SrcLayout& src, bool fortran, const Window& w, const Destination& d) {
  const int64_t n = src.itemsize;
  uint8_t* base = d.data + d.offset * n;
  if (!fortran) {
    CopyWindow(src, w.y0, w.x0, w.c0, w.h(), w.w(), w.c(), base, d.sy * n, d.sx * n, d.sc * n);
    return;
  }
  SrcLayout t = src;
  t.sy = src.sc;
  t.sc = src.sy;
  CopyWindow(t, w.c0, w.x0, w.y0, w.c(), w.w(), w.h(), base, d.sc * n, d.sx * n, d.sy * n);
}

// Finalizer of an ArrayBuffer from mapping(): drops that buffer's share of the mapping.
// Runs on the JS thread of the environment, at GC or at environment teardown.
void ReleaseMapping(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<const Mapping>*>(hint); }

// True when `ta`'s ArrayBuffer can shrink (a resizable ArrayBuffer): a pool thread must not
// write into it, since JS may shrink it while the copy runs. Main thread.
bool IsResizable(Napi::Env env, const Napi::Value& ta) {
  napi_value ab;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, ta, nullptr, nullptr, nullptr, &ab, nullptr), false);
  if (!Napi::Value(env, ab).IsArrayBuffer()) return false;  // a SharedArrayBuffer only grows
  return Napi::Object(env, ab).Get("resizable").ToBoolean().Value();
}

}  // namespace

// ---- NpyReader --------------------------------------------------------------------------------

namespace {

// Throws ERR_CLOSED after close(). Main thread.
void CheckOpen(Napi::Env env, const NpyState& st) {
  if (st.map == nullptr)
    ThrowJs(env, ErrorInfo{"ERR_CLOSED", "reader for '" + st.path + "' is closed", st.path, 0, ""});
}

// readInto(dst, req): the synchronous copy, on the main thread.
Napi::Value ReadIntoImpl(const Napi::CallbackInfo& info, const NpyState& st) {
  Napi::Env env = info.Env();
  CheckOpen(env, st);
  if (info.Length() < 2) ThrowArg(env, "readInto(dst, req) takes a typed array and a Float64Array");
  const NpyHeader& h = st.header;
  Window win;
  Destination dst;
  ParseRequest(env, info[0], info[1], h.shape[0], h.shape[1], h.shape[2], h.dtype, &win, &dst, false);
  CopyOut(st.layout, h.fortranOrder, win, dst);
  return env.Undefined();
}

// The own `readInto` of each reader: its data is a heap shared_ptr<NpyState>, deleted by the
// function's finalizer.
Napi::Value BoundReadInto(const Napi::CallbackInfo& info) {
  return ReadIntoImpl(info, **static_cast<std::shared_ptr<NpyState>*>(info.Data()));
}

}  // namespace

Napi::Function NpyReader::Define(Napi::Env env) {
  return DefineClass(
      env, "NpyReader",
      {InstanceMethod<&NpyReader::Info>("info"), InstanceMethod<&NpyReader::ReadInto>("readInto"),
       InstanceMethod<&NpyReader::ReadIntoAsync>("readIntoAsync"), InstanceMethod<&NpyReader::MappingBuffer>("mapping"),
       InstanceMethod<&NpyReader::Close>("close")});
}

NpyReader::NpyReader(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NpyReader>(info), st_(std::make_shared<NpyState>()) {
  Napi::Env env = info.Env();
  NpyState& st = *st_;
  st.path = StringArg(info, 0, "new NpyReader(path): path");
  Guard(env, [&] {
    std::shared_ptr<const Mapping> map = Mapping::Open(st.path);
    st.header = ParseNpyHeader(map->data(), map->size(), map->size(), st.path);
    st.map = std::move(map);
  });
  int64_t sy, sx, sc;
  NpyStrides(st.header, &sy, &sx, &sc);
  st.layout = SrcLayout{st.map->data() + st.header.dataOffset,   sy, sx, sc, ItemSize(st.header.dtype),
                        st.header.bigEndian != HostIsBigEndian()};
  auto* hold = new std::shared_ptr<NpyState>(st_);
  Napi::Function bound;
  try {
    bound = Napi::Function::New<BoundReadInto>(env, "readInto", hold);
    bound.AddFinalizer([](Napi::Env, std::shared_ptr<NpyState>* p) { delete p; }, hold);
  } catch (...) {
    delete hold;
    throw;
  }
  info.This().As<Napi::Object>().DefineProperty(Napi::PropertyDescriptor::Value("readInto", bound, napi_default));
}

Napi::Value NpyReader::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const NpyState& st = *st_;
  CheckOpen(env, st);
  const NpyHeader& h = st.header;
  const int64_t n = ItemSize(h.dtype);
  Napi::Object o = Napi::Object::New(env);
  Napi::Array shape = Napi::Array::New(env, 3);
  Napi::Array strides = Napi::Array::New(env, 3);
  const int64_t s[3] = {st.layout.sy / n, st.layout.sx / n, st.layout.sc / n};
  for (uint32_t i = 0; i < 3; ++i) {
    shape.Set(i, Napi::Number::New(env, static_cast<double>(h.shape[i])));
    strides.Set(i, Napi::Number::New(env, static_cast<double>(s[i])));
  }
  o.Set("shape", shape);
  o.Set("ndim", h.ndim);
  o.Set("dtype", DTypeName(h.dtype));
  o.Set("version", h.version);
  o.Set("fortranOrder", h.fortranOrder);
  o.Set("byteSwapped", st.layout.swap);
  o.Set("dataOffset", static_cast<double>(h.dataOffset));
  o.Set("strides", strides);
  return o;
}

Napi::Value NpyReader::ReadInto(const Napi::CallbackInfo& info) { return ReadIntoImpl(info, *st_); }

Napi::Value NpyReader::ReadIntoAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const NpyState& st = *st_;
  CheckOpen(env, st);
  if (info.Length() < 2) ThrowArg(env, "readIntoAsync(dst, req) takes a typed array and a Float64Array");
  // Reading `resizable` may run JS (a patched getter) that even closes this reader, so it comes
  // first and the open check is repeated; no JS runs from ParseRequest to Queue.
  if (info[0].IsTypedArray() && IsResizable(env, info[0])) {
    ThrowArg(env, "readIntoAsync cannot write into a resizable ArrayBuffer");
  }
  CheckOpen(env, st);
  const NpyHeader& h = st.header;
  Window win;
  Destination dst;
  ParseRequest(env, info[0], info[1], h.shape[0], h.shape[1], h.shape[2], h.dtype, &win, &dst, false);
  // The pool thread touches only these copies, the mapping (kept alive by `map`) and the
  // destination bytes (the typed array is pinned by the job until it settles).
  std::shared_ptr<const Mapping> map = st.map;
  const SrcLayout src = st.layout;
  const bool fortran = h.fortranOrder;
  return AsyncJob::Run(env, "ndsampler.NpyReader.readAsync",
                       [map, src, fortran, win, dst] { CopyOut(src, fortran, win, dst); },
                       {info[0].As<Napi::Object>()});
}

Napi::Value NpyReader::MappingBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const NpyState& st = *st_;
  CheckOpen(env, st);
  AddonData* data = GetData(env);
  if (!data->externalBuffersAllowed || !st.map->writable()) return env.Null();
  auto* hold = new std::shared_ptr<const Mapping>(st.map);
  napi_value ab;
  const napi_status status = napi_create_external_arraybuffer(env, const_cast<uint8_t*>(st.map->data()), st.map->size(),
                                                              ReleaseMapping, hold, &ab);
  if (status == napi_no_external_buffers_allowed) {
    delete hold;
    data->externalBuffersAllowed = false;
    return env.Null();
  }
  if (status != napi_ok) {
    delete hold;
    NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  }
  return Napi::Value(env, ab);
}

Napi::Value NpyReader::Close(const Napi::CallbackInfo& info) {
  st_->map.reset();
  st_->layout.base = nullptr;
  return info.Env().Undefined();
}

}  // namespace nds
