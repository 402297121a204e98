// NpyReader: the JS class `NpyReader` of the addon (lib/native.ts `NativeNpyReader`), a .npy file
// served from a memory mapping; plus the `writeNpy` function and the module's npy registration.
//
// Threads: the constructor and every method run on the JS thread of the environment that
// created the object (main thread or a worker). readIntoAsync's copy runs on the libuv pool and
// touches only a plain struct, the pinned mapping and the pinned destination bytes.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "common.h"
#include "copy_kernel.h"
#include "npy_format.h"

namespace nds {

// A whole file mapped copy-on-write (MAP_PRIVATE, readable and writable): the pages are the page
// cache's until someone writes, and a write never reaches the file. Writable so that a JS write
// into a zero-copy view cannot fault. Immutable after Open; munmap'ed when the last shared_ptr
// goes: the reader (until close), every in-flight async read and every ArrayBuffer from mapping().
class Mapping {
 public:
  // Opens, fstats and maps `path`, then closes the descriptor. Any thread. Throws CodedError:
  // ERR_SOURCE_MISSING (no such file), ERR_NOT_A_FILE (a directory or other non-regular file),
  // ERR_IO (any other failing call); all with path, and errno/syscall where a call failed.
  static std::shared_ptr<const Mapping> Open(const std::string& path);
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  size_t size() const { return size_; }
  // False when only a read-only mapping could be made: then no zero-copy buffer is handed out.
  bool writable() const { return writable_; }

 private:
  Mapping(void* addr, size_t size, bool writable) : addr_(addr), size_(size), writable_(writable) {}
  void* addr_;
  size_t size_;
  bool writable_;
};

// Everything a read needs. Shared (shared_ptr) by the JS object and its bound readInto, so either
// may be collected first. Main thread only, except that a ReadJob copies `layout` and `map`.
struct NpyState {
  std::string path;
  NpyHeader header;
  std::shared_ptr<const Mapping> map;  // null once closed
  SrcLayout layout{};                  // invariant: base points into *map while map is set
};

class NpyReader : public Napi::ObjectWrap<NpyReader> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new NpyReader(path): maps the file and parses its header (ERR_NPY_HEADER when it is not a
  // supported 2-D/3-D array). Gives the object an own `readInto` bound to its state: a call then
  // skips the wrapper lookup (napi_unwrap) that prototype methods pay, a third of an empty read.
  explicit NpyReader(const Napi::CallbackInfo& info);

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value ReadInto(const Napi::CallbackInfo& info);
  Napi::Value ReadIntoAsync(const Napi::CallbackInfo& info);
  Napi::Value MappingBuffer(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<NpyState> st_;  // never null
};

// The npy part of the module: NpyReader and writeNpy(path, data, desc).
void InitNpy(Napi::Env env, Napi::Object exports);

}  // namespace nds
