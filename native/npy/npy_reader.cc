// NpyReader (a .npy file served from a memory mapping). See npy_reader.h for the thread each
// function runs on and the lifetime of the mapping.
#include "npy/npy_reader.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "core/addon_data.h"
#include "core/args.h"
#include "core/async_job.h"
#include "core/errors.h"
#include "core/request.h"
#include "core/staged_read.h"
#include "npy/sigbus_guard.h"

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

// CopyOut under the SIGBUS guard (npy/sigbus_guard.h): ERR_SOURCE_CHANGED instead of a dead
// process when the file was cut under the mapping, before or during the copy. Any thread.
void CopyOutGuarded(const Mapping& map, const std::string& path, const SrcLayout& src, bool fortran, const Window& w,
                    const Destination& d) {
  auto copy = [&] { CopyOut(src, fortran, w, d); };
  if (map.damaged() || !GuardedCopy(copy) || map.damaged()) throw SourceChanged(path);
}

// The header of a mapped file, parsed from a guarded copy of its first bytes (the file may be cut
// between the fstat and here). Any thread.
NpyHeader ParseMappedHeader(const Mapping& map, const std::string& path) {
  const size_t size = map.size();
  uint8_t head[12] = {};
  const size_t n = size < sizeof head ? size : sizeof head;
  auto copyHead = [&] { std::memcpy(head, map.data(), n); };
  if (n > 0 && !GuardedCopy(copyHead)) throw SourceChanged(path);
  // The header's own length (magic, version, length; ParseNpyHeader checks all of it again).
  size_t need = n;
  if (n >= 10 && head[6] == 1) need = 10 + (static_cast<size_t>(head[8]) | (static_cast<size_t>(head[9]) << 8));
  if (n >= 12 && (head[6] == 2 || head[6] == 3)) {
    need = 12 + (static_cast<size_t>(head[8]) | (static_cast<size_t>(head[9]) << 8) |
                 (static_cast<size_t>(head[10]) << 16) | (static_cast<size_t>(head[11]) << 24));
  }
  if (need > size) need = size;
  std::vector<uint8_t> buf(need);
  auto copyAll = [&] { std::memcpy(buf.data(), map.data(), need); };
  if (need > 0 && !GuardedCopy(copyAll)) throw SourceChanged(path);
  return ParseNpyHeader(buf.data(), buf.size(), size, path);
}

// ---- async reads served inline (docs/concurrency.md, "Async reads served inline") ----------------

// An async read runs on the JS thread when it cannot wait on I/O: at most this many bytes, every
// page it touches resident. Above that the copy itself is long enough to be worth the pool's
// round trip (and a fault on a big window could stall the loop on memory).
constexpr int64_t kInlineBytes = 64 * 1024;
// mincore over at most this many pages at once (one byte each on the stack).
constexpr size_t kMincorePages = 256;
// A window whose span exceeds kMincorePages is checked row by row up to this many rows.
constexpr int64_t kMincoreRows = 64;

// Process-wide, like the mapping budget: how many readIntoAsync calls ran inline and on the pool.
std::atomic<int64_t> gInlineReads{0};
std::atomic<int64_t> gPoolReads{0};

size_t PageSize() {
  static const size_t page = [] {
    const long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<size_t>(p) : size_t{4096};
  }();
  return page;
}

// True when every page of [first, last] is in memory (mincore). False on any mincore failure and
// when the range spans more than kMincorePages pages. Any thread.
bool Resident(const uint8_t* first, const uint8_t* last) {
  const uintptr_t page = PageSize();
  const uintptr_t lo = reinterpret_cast<uintptr_t>(first) & ~(page - 1);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(last) & ~(page - 1)) + page;
  const size_t pages = (hi - lo) / page;
  if (pages > kMincorePages) return false;
  unsigned char vec[kMincorePages];
  if (mincore(reinterpret_cast<void*>(lo), hi - lo, vec) != 0) return false;
  for (size_t i = 0; i < pages; ++i) {
    if ((vec[i] & 1) == 0) return false;
  }
  return true;
}

// True when window `w` (non-empty) of `src` can be copied without waiting on I/O: its bytes are at
// most kInlineBytes and every page from its first byte to its last is resident (or, for a span
// too long for one mincore, every page of each of its rows, C order and at most kMincoreRows
// rows). JS thread (it only reads the page tables).
bool InlineReadable(const Mapping& map, const SrcLayout& src, bool fortran, const Window& w) {
  const int64_t n = src.itemsize;
  if (w.h() * w.w() * w.c() * n > kInlineBytes || map.damaged()) return false;
  // Strides are non-negative (NpyStrides), so the first and last elements bound the window.
  const uint8_t* first = src.base + w.y0 * src.sy + w.x0 * src.sx + w.c0 * src.sc;
  const int64_t rowSpan = (w.w() - 1) * src.sx + (w.c() - 1) * src.sc + n - 1;
  const uint8_t* last = first + (w.h() - 1) * src.sy + rowSpan;
  const uintptr_t page = PageSize();
  const size_t pages =
      ((reinterpret_cast<uintptr_t>(last) & ~(page - 1)) - (reinterpret_cast<uintptr_t>(first) & ~(page - 1))) / page +
      1;
  if (pages <= kMincorePages) return Resident(first, last);
  if (fortran || w.h() > kMincoreRows) return false;
  for (int64_t y = 0; y < w.h(); ++y) {
    const uint8_t* row = first + y * src.sy;
    if (!Resident(row, row + rowSpan)) return false;
  }
  return true;
}

// Finalizer of an ArrayBuffer from mapping(): drops that buffer's share of the mapping and the
// external memory it was counted as. Runs on the JS thread of the environment, at GC (after an
// event-loop turn: Node defers finalizers) or at environment teardown.
void ReleaseMapping(napi_env env, void*, void* hint) {
  auto* hold = static_cast<std::shared_ptr<const Mapping>*>(hint);
  int64_t ignored;
  napi_adjust_external_memory(env, -static_cast<int64_t>(kMappingExternalBytes), &ignored);
  delete hold;
}

}  // namespace

// ---- NpyReader --------------------------------------------------------------------------------

namespace {

// Throws ERR_CLOSED after close(). Main thread.
void CheckOpen(Napi::Env env, const NpyState& st) {
  if (st.map == nullptr)
    ThrowJs(env, ErrorInfo{"ERR_CLOSED", "reader for '" + st.path + "' is closed", st.path, 0, ""});
}

// readInto(dst, req): the synchronous copy, on the main thread. Writing into dst here is safe:
// no JS runs between ParseRequest reading its pointer and the end of the copy.
Napi::Value ReadIntoImpl(Napi::Env env, const Napi::Value& dstVal, const Napi::Value& reqVal, const NpyState& st) {
  CheckOpen(env, st);
  const NpyHeader& h = st.header;
  Window win;
  Destination dst;
  ParseRequest(env, dstVal, reqVal, h.shape[0], h.shape[1], h.shape[2], h.dtype, &win, &dst, false);
  Guard(env, [&] { CopyOutGuarded(*st.map, st.path, st.layout, h.fortranOrder, win, dst); });
  return env.Undefined();
}

// A slot argument: a number that is an integer in [0, 2^31) (anything else finds no reader).
uint32_t SlotArg(Napi::Env env, const Napi::Value& v) {
  double d = -1;
  if (v.IsNumber()) d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d < 2147483648.0 && d == static_cast<double>(static_cast<uint32_t>(d)))) {
    ThrowArg(env, "npyReadInto(slot, gen, dst, req): slot and gen must be integers in [0, 2^31)");
  }
  return static_cast<uint32_t>(d);
}

}  // namespace

Napi::Function NpyReader::Define(Napi::Env env) {
  return JsClass<NpyReader>::Define(
      env, "NpyReader",
      {JsClass<NpyReader>::Def<&NpyReader::Info>("info"), JsClass<NpyReader>::Def<&NpyReader::ReadInto>("readInto"),
       JsClass<NpyReader>::Def<&NpyReader::ReadIntoAsync>("readIntoAsync"),
       JsClass<NpyReader>::Def<&NpyReader::MappingBuffer>("mapping"),
       JsClass<NpyReader>::Def<&NpyReader::Close, true>("close")});
}

NpyReader::NpyReader(const Napi::CallbackInfo& info) : st_(std::make_shared<NpyState>()) {
  Napi::Env env = info.Env();
  NpyState& st = *st_;
  st.path = StringArg(info, 0, "new NpyReader(path): path");
  Guard(env, [&] {
    std::shared_ptr<const Mapping> map = Mapping::Open(st.path);
    st.header = ParseMappedHeader(*map, st.path);
    st.map = std::move(map);
  });
  int64_t sy, sx, sc;
  NpyStrides(st.header, &sy, &sx, &sc);
  st.layout = SrcLayout{st.map->data() + st.header.dataOffset,   sy, sx, sc, ItemSize(st.header.dtype),
                        st.header.bigEndian != HostIsBigEndian()};
  slots_ = NpySlots::Of(env);
  slot_ = slots_->Take(st_, &gen_);
}

NpyReader::~NpyReader() {
  try {
    if (slots_ != nullptr) slots_->Release(slot_, gen_);
  } catch (...) {  // (the free list could not grow: the slot is lost, never reused while stale)
  }
}

Napi::Value NpyReadIntoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t slot = SlotArg(env, info[0]);
  const uint32_t gen = SlotArg(env, info[1]);
  const NpySlots* slots = NpySlots::In(env);
  const NpyState* st = slots == nullptr ? nullptr : slots->Find(slot, gen);
  if (st == nullptr) ThrowJs(env, ErrorInfo{"ERR_CLOSED", "the npy reader is closed", "", 0, ""});
  if (info.Length() < 4) ThrowArg(env, "npyReadInto(slot, gen, dst, req) takes a typed array and a Float64Array");
  return ReadIntoImpl(env, info[2], info[3], *st);
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
  o.Set("slot", static_cast<double>(slot_));
  o.Set("slotGen", static_cast<double>(gen_));
  return o;
}

Napi::Value NpyReader::ReadInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env, *st_);
  if (info.Length() < 2) ThrowArg(env, "readInto(dst, req) takes a typed array and a Float64Array");
  return ReadIntoImpl(env, info[0], info[1], *st_);
}

namespace {

// readIntoAsync served on the JS thread (InlineReadable said it cannot wait on I/O): the copy the
// synchronous read makes, straight into the caller's typed array (no JS runs between ParseRequest
// and the copy) or into a new zero-filled ArrayBuffer laid out as `dst`. Returns the result itself,
// not a promise (undefined, or the new ArrayBuffer); a failed copy throws its CodedError here, and
// lib/readers.ts turns both into the promise (saves a promise and a captured call-site stack).
Napi::Value ReadInline(Napi::Env env, const NpyState& st, const Window& win, const Destination& dst) {
  Destination d = dst;
  napi_value result = nullptr;
  if (d.data == nullptr) {
    void* data = nullptr;
    const size_t bytes = static_cast<size_t>(d.length) * static_cast<size_t>(st.layout.itemsize);
    NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, bytes, &data, &result), Napi::Value());
    d.data = static_cast<uint8_t*>(data);
  }
  Guard(env, [&] { CopyOutGuarded(*st.map, st.path, st.layout, st.header.fortranOrder, win, d); });
  return result == nullptr ? env.Undefined() : Napi::Value(env, result);
}

}  // namespace

// Async read: into the caller's typed array, or (dst null) a new ArrayBuffer. Small resident
// windows are copied inline (ReadInline); otherwise the pool thread copies into a staging buffer
// the job owns (core/staged_read.h), never into JS memory.
Napi::Value NpyReader::ReadIntoAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const NpyState& st = *st_;
  CheckOpen(env, st);
  if (info.Length() < 2) ThrowArg(env, "readIntoAsync(dst, req) takes a typed array (or null) and a Float64Array");
  const NpyHeader& h = st.header;
  Window win;
  Destination dst;
  ParseRequest(env, info[0], info[1], h.shape[0], h.shape[1], h.shape[2], h.dtype, &win, &dst, false, true);
  if (dst.outH > 0 && dst.outW > 0 && win.c() > 0 && InlineReadable(*st.map, st.layout, h.fortranOrder, win)) {
    gInlineReads.fetch_add(1, std::memory_order_relaxed);
    return ReadInline(env, st, win, dst);
  }
  gPoolReads.fetch_add(1, std::memory_order_relaxed);
  // The pool thread touches only these copies, the mapping (kept alive by `map`) and the staging.
  std::shared_ptr<const Mapping> map = st.map;
  const SrcLayout src = st.layout;
  const bool fortran = h.fortranOrder;
  const std::string path = st.path;
  return RunStagedRead(
      env, "ndsampler.NpyReader.readAsync", info[0], h.dtype, win, dst,
      [map, path, src, fortran, win](const Destination& d) { CopyOutGuarded(*map, path, src, fortran, win, d); });
}

Napi::Value NpyReader::MappingBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const NpyState& st = *st_;
  CheckOpen(env, st);
  AddonData* data = GetData(env);
  // Past the mapping budget (or on a damaged mapping) no view: the reader copies instead.
  if (!data->externalBuffersAllowed || !st.map->writable() || st.map->damaged() || LiveMappings() > MappingBudget()) {
    return env.Null();
  }
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
  // The mapped bytes are not V8's, but a buffer pins a mapping (a kernel map entry, page tables
  // and the pages touched): counted, so the GC runs before thousands pile up.
  int64_t ignored;
  napi_adjust_external_memory(env, static_cast<int64_t>(kMappingExternalBytes), &ignored);
  return Napi::Value(env, ab);
}

// Frees the mapping (unless a view or an async read still holds it), the header, the slot and this
// object now, not at GC.
Napi::Value NpyReader::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  st_->map.reset();
  st_->layout.base = nullptr;
  st_->header = NpyHeader();
  std::string().swap(st_->path);
  JsClass<NpyReader>::Release(env, info.This(), this);  // `this` is gone after this line
  return env.Undefined();
}

Napi::Value MappingStatsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("live", static_cast<double>(LiveMappings()));
  o.Set("budget", static_cast<double>(MappingBudget()));
  o.Set("inlineReads", static_cast<double>(gInlineReads.load(std::memory_order_relaxed)));
  o.Set("poolReads", static_cast<double>(gPoolReads.load(std::memory_order_relaxed)));
  return o;
}

Napi::Value SetMappingBudgetJs(const Napi::CallbackInfo& info) {
  SetMappingBudget(IntValue(info.Env(), info[0], 0, kMaxSafeInteger, "setMappingBudget(n): n"));
  return info.Env().Undefined();
}

}  // namespace nds
