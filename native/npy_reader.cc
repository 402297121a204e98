// NpyReader (a .npy file served from a memory mapping), writeNpy and InitNpy. See npy_reader.h
// for the thread each function runs on and the lifetime of the mapping.
#include "npy_reader.h"

#include "async_job.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace nds {

namespace {

bool HostIsBigEndian() {
  const uint16_t probe = 1;
  uint8_t first;
  std::memcpy(&first, &probe, 1);
  return first == 0;
}

// Closes a descriptor on every path out of Mapping::Open.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

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
void ReleaseMapping(napi_env, void*, void* hint) {
  delete static_cast<std::shared_ptr<const Mapping>*>(hint);
}

// A non-negative integer property below 2^53 of a desc object, or a TypeError.
int64_t DescInt(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) ThrowArg(env, std::string("writeNpy: desc.") + name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > 9007199254740991.0) {
    ThrowArg(env, std::string("writeNpy: desc.") + name + " must be a non-negative safe integer");
  }
  return static_cast<int64_t>(d);
}

void DescTriple(Napi::Env env, const Napi::Object& desc, const char* name, int64_t out[3]) {
  Napi::Value v = desc.Get(name);
  if (!v.IsArray()) ThrowArg(env, std::string("writeNpy: desc.") + name + " must be an array of 3 integers");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() != 3) ThrowArg(env, std::string("writeNpy: desc.") + name + " must be an array of 3 integers");
  for (uint32_t i = 0; i < 3; ++i) out[i] = DescInt(env, a.Get(i), name);
}

// writeNpy(path, data, desc): writes the array `desc` describes over `data` (a typed array of
// desc.dtype; shape/strides/offset in elements) as a v1.0 C-order little-endian .npy file,
// atomically. Main thread; synchronous. The description is read first (its getters may run JS,
// even detach `data`), then the typed array's current pointer and length; no JS runs after that.
Napi::Value WriteNpy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsObject()) {
    ThrowArg(env, "writeNpy(path, data, desc) takes a string, a typed array and an object");
  }
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos) ThrowArg(env, "writeNpy: path must be a non-empty string without NUL");
  Napi::Object desc = info[2].As<Napi::Object>();
  Napi::Value dtypeVal = desc.Get("dtype");
  DType dtype;
  if (!dtypeVal.IsString() || !ParseDTypeName(dtypeVal.As<Napi::String>().Utf8Value(), &dtype)) {
    ThrowArg(env, "writeNpy: desc.dtype must be one of the eight dtype names");
  }
  int64_t shape[3], strides[3];
  DescTriple(env, desc, "shape", shape);
  DescTriple(env, desc, "strides", strides);
  const int64_t offset = DescInt(env, desc.Get("offset"), "offset");
  const int64_t ndim = DescInt(env, desc.Get("ndim"), "ndim");
  if (ndim != 2 && ndim != 3) ThrowArg(env, "writeNpy: desc.ndim must be 2 or 3");
  if (ndim == 2 && shape[2] != 1) ThrowArg(env, "writeNpy: a 2-D array (desc.ndim 2) has shape [H, W, 1]");

  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, info[1], &type, &length, &data, nullptr, nullptr), Napi::Value());
  if (type != TypedArrayType(dtype)) ThrowArg(env, "writeNpy: data does not match desc.dtype");
  if (data == nullptr) length = 0;  // detached
  const bool empty = shape[0] == 0 || shape[1] == 0 || shape[2] == 0;
  if (!empty) {
    // Every operand is below 2^53, so the sum of four of them cannot overflow 128 bits.
    __int128 last = offset;
    for (int i = 0; i < 3; ++i) last += static_cast<__int128>(shape[i] - 1) * strides[i];
    if (last >= static_cast<__int128>(length)) {
      ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER", "writeNpy: shape and strides address elements past the end of data", "", 0, ""});
    }
  }
  const int n = ItemSize(dtype);
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  SrcLayout src{empty ? bytes : bytes + offset * n, strides[0] * n, strides[1] * n, strides[2] * n, n,
                HostIsBigEndian()};
  const int ndimInt = static_cast<int>(ndim);
  Guard(env, [&] {
    WriteNpyAtomic(path, dtype, ndimInt, shape, [&](uint8_t* dst) {
      CopyWindow(src, 0, 0, 0, shape[0], shape[1], shape[2], dst, shape[1] * shape[2] * n, shape[2] * n, n);
    });
  });
  return env.Undefined();
}

// True when `ta`'s ArrayBuffer can shrink (a resizable ArrayBuffer): a pool thread must not
// write into it, since JS may shrink it while the copy runs. Main thread.
bool IsResizable(Napi::Env env, const Napi::Value& ta) {
  napi_value ab;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, ta, nullptr, nullptr, nullptr, &ab, nullptr), false);
  if (!Napi::Value(env, ab).IsArrayBuffer()) return false;  // a SharedArrayBuffer only grows
  return Napi::Object(env, ab).Get("resizable").ToBoolean().Value();
}

}  // namespace

// ---- Mapping ----------------------------------------------------------------------------------

std::shared_ptr<const Mapping> Mapping::Open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) ThrowErrno("open", path, errno);
  FdCloser closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowErrno("fstat", path, errno);
  if (S_ISDIR(st.st_mode)) ThrowErrno("open", path, EISDIR);
  if (!S_ISREG(st.st_mode)) {
    throw CodedError(ErrorInfo{"ERR_NOT_A_FILE", "'" + path + "' is not a regular file", path, 0, "fstat"});
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) return std::shared_ptr<const Mapping>(new Mapping(nullptr, 0, false));
  // No madvise(MADV_RANDOM): measured on random 32x32 and 224x224 crops of a cold 8192x8192x3
  // file it was 10x slower (no readahead: one disk read per row), and no faster once cached.
  bool writable = true;
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
  if (addr == MAP_FAILED) {
    // Strict overcommit accounting may refuse a private writable mapping of a large file.
    writable = false;
    addr = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) ThrowErrno("mmap", path, errno);
  }
  return std::shared_ptr<const Mapping>(new Mapping(addr, size, writable));
}

Mapping::~Mapping() {
  if (addr_ != nullptr) munmap(addr_, size_);
}

// ---- NpyReader --------------------------------------------------------------------------------

namespace {

// Throws ERR_CLOSED after close(). Main thread.
void CheckOpen(Napi::Env env, const NpyState& st) {
  if (st.map == nullptr) ThrowJs(env, ErrorInfo{"ERR_CLOSED", "reader for '" + st.path + "' is closed", st.path, 0, ""});
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
  return DefineClass(env, "NpyReader",
                     {InstanceMethod<&NpyReader::Info>("info"),
                      InstanceMethod<&NpyReader::ReadInto>("readInto"),
                      InstanceMethod<&NpyReader::ReadIntoAsync>("readIntoAsync"),
                      InstanceMethod<&NpyReader::MappingBuffer>("mapping"),
                      InstanceMethod<&NpyReader::Close>("close")});
}

NpyReader::NpyReader(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NpyReader>(info), st_(std::make_shared<NpyState>()) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowArg(env, "new NpyReader(path) takes a string");
  NpyState& st = *st_;
  st.path = info[0].As<Napi::String>().Utf8Value();
  if (st.path.empty() || st.path.find('\0') != std::string::npos) {
    ThrowArg(env, "new NpyReader(path): path must be a non-empty string without NUL");
  }
  Guard(env, [&] {
    std::shared_ptr<const Mapping> map = Mapping::Open(st.path);
    st.header = ParseNpyHeader(map->data(), map->size(), map->size(), st.path);
    st.map = std::move(map);
  });
  int64_t sy, sx, sc;
  NpyStrides(st.header, &sy, &sx, &sc);
  st.layout = SrcLayout{st.map->data() + st.header.dataOffset, sy, sx, sc, ItemSize(st.header.dtype),
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
  const napi_status status = napi_create_external_arraybuffer(
      env, const_cast<uint8_t*>(st.map->data()), st.map->size(), ReleaseMapping, hold, &ab);
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

void InitNpy(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = NpyReader::Define(env);
  GetData(env)->npyReaderCtor = Napi::Persistent(ctor);
  exports.Set("NpyReader", ctor);
  exports.Set("writeNpy", Napi::Function::New(env, WriteNpy, "writeNpy"));
}

}  // namespace nds
