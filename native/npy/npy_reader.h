// NpyReader: the JS class `NpyReader` of the addon (lib/native.ts `NativeNpyReader`), a .npy file
// served from a memory mapping.
//
// Threads: the constructor and every method run on the JS thread of the environment that
// created the object (main thread or a worker). readIntoAsync's copy runs on the libuv pool and
// touches only a plain struct, the pinned mapping and the pinned destination bytes.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "core/copy_kernel.h"
#include "core/errors.h"
#include "core/js_class.h"
#include "npy/mapping.h"
#include "npy/npy_header.h"
#include "npy/npy_slots.h"

namespace nds {

// Everything a read needs. Shared (shared_ptr) by the reader and its slot (npy/npy_slots.h), and
// held by batches and async reads in flight. JS thread only, except that a ReadJob copies `layout`
// and `map`.
struct NpyState {
  std::string path;
  NpyHeader header;
  std::shared_ptr<const Mapping> map;  // null once closed
  SrcLayout layout{};                  // invariant: base points into *map while map is set
};

class NpyReader {
 public:
  static Napi::Function Define(Napi::Env env);
  // new NpyReader(path): maps the file and parses its header (ERR_NPY_HEADER when it is not a
  // supported 2-D/3-D array), and takes a slot in the env's NpySlots: info() reports it, and
  // npyReadInto(slot, gen, dst, req) reads through it without unwrapping a receiver.
  explicit NpyReader(const Napi::CallbackInfo& info);
  // Releases the slot (close() or the wrap finalizer, JS thread).
  ~NpyReader();
  NpyReader(const NpyReader&) = delete;
  NpyReader& operator=(const NpyReader&) = delete;
  // JS thread: the reader's state (its `map` is null after close()), for loadBatch.
  std::shared_ptr<NpyState> state() const { return st_; }

 private:
  friend class JsClass<NpyReader>;
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value ReadInto(const Napi::CallbackInfo& info);
  Napi::Value ReadIntoAsync(const Napi::CallbackInfo& info);
  Napi::Value MappingBuffer(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<NpyState> st_;  // never null
  std::shared_ptr<NpySlots> slots_;
  uint32_t slot_ = 0, gen_ = 0;  // this reader's slot in *slots_, held until the destructor
};

// npyReadInto(slot, gen, dst, req): readInto of the reader in that slot of this env's NpySlots
// (ERR_CLOSED when the slot was released). lib/readers.ts's synchronous npy reads call it.
Napi::Value NpyReadIntoJs(const Napi::CallbackInfo& info);

// How much external memory one zero-copy buffer is reported to V8 as (napi_adjust_external_memory):
// not its file's size (the pages are the page cache's and mostly untouched), but enough that the
// GC runs after some thousands of them, before the mapping budget is reached.
constexpr int64_t kMappingExternalBytes = 64 * 1024;

// mappingStats() -> {live, budget, inlineReads, poolReads}; setMappingBudget(n). Process-wide
// (npy/mapping.h; the read counters count readIntoAsync calls served inline and on the pool).
Napi::Value MappingStatsJs(const Napi::CallbackInfo& info);
Napi::Value SetMappingBudgetJs(const Napi::CallbackInfo& info);

}  // namespace nds
