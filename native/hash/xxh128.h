// Xxh128: the JS class `Xxh128` of the addon (lib/native.ts `NativeXxh128`), a streaming XXH3-128
// (seed 0) whose digest names cache directories, cache entries and published files; and
// `xxh128(bytes)`, the same digest of one buffer.
//
// The digests are those of xxhash-addon's XXHash128 (the same xxHash sources, shipped in that
// package, compiled in here). We do not call xxhash-addon's binding: its digest() returns an
// uninitialised napi_value when napi_create_buffer fails, which it does in a worker thread being
// terminated, and V8 then dereferences it (a SIGSEGV that ends the whole process). Here every call
// runs inside Shielded (core/errors.h) and builds its result only through checked calls.
//
// Threads: JS thread of the environment that created the object. No state is shared between
// objects or threads.
#pragma once
#include <napi.h>

#include <memory>

namespace nds {

struct Xxh128State;

class Xxh128 {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Xxh128(const Napi::CallbackInfo& info);
  ~Xxh128();
  Xxh128(const Xxh128&) = delete;
  Xxh128& operator=(const Xxh128&) = delete;

 private:
  // update(bytes: Uint8Array): feeds the bytes (a detached array counts as empty).
  Napi::Value Update(const Napi::CallbackInfo& info);
  // digest(): 32 lowercase hex digits of the bytes fed so far (the state is kept: more updates may
  // follow, as in xxHash's own streaming API).
  Napi::Value Digest(const Napi::CallbackInfo& info);

  std::unique_ptr<Xxh128State> st_;  // never null
};

// xxh128(bytes: Uint8Array): 32 lowercase hex digits of XXH3-128 (seed 0) of the bytes.
Napi::Value Xxh128Js(const Napi::CallbackInfo& info);

}  // namespace nds
