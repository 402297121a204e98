// See xxh128.h. JS thread only.
#include "hash/xxh128.h"

#define XXH_INLINE_ALL  // everything static in this file: no symbol clashes with other copies
#include <xxhash.h>

#include <new>

#include "core/errors.h"
#include "core/js_class.h"

namespace nds {

struct Xxh128State {
  XXH3_state_t* s = nullptr;  // invariant: non-null and reset with seed 0 once constructed
};

namespace {

// The bytes of a Uint8Array (Buffer included); TypeError for anything else. Valid until the
// caller runs JS again.
struct Bytes {
  const uint8_t* data = nullptr;
  size_t length = 0;
};

Bytes BytesArg(const Napi::CallbackInfo& info, const char* what) {
  Napi::Env env = info.Env();
  Napi::Value v = info[0];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    ThrowArg(env, std::string(what) + " must be a Uint8Array");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value ab;
  size_t offset = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset), Bytes());
  // A detached array reports length 0 (and maybe a null pointer): nothing to hash.
  return Bytes{static_cast<const uint8_t*>(data), data == nullptr ? 0 : length};
}

Napi::Value Hex(Napi::Env env, XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);  // big-endian: high 64 bits first
  static const char kDigits[] = "0123456789abcdef";
  char out[2 * sizeof c.digest];
  for (size_t i = 0; i < sizeof c.digest; i++) {
    out[2 * i] = kDigits[c.digest[i] >> 4];
    out[2 * i + 1] = kDigits[c.digest[i] & 15];
  }
  return Napi::String::New(env, out, sizeof out);
}

}  // namespace

Napi::Function Xxh128::Define(Napi::Env env) {
  return JsClass<Xxh128>::Define(
      env, "Xxh128",
      {JsClass<Xxh128>::Def<&Xxh128::Update>("update"), JsClass<Xxh128>::Def<&Xxh128::Digest>("digest")});
}

Xxh128::Xxh128(const Napi::CallbackInfo&) : st_(new Xxh128State()) {
  st_->s = XXH3_createState();
  if (st_->s == nullptr) throw std::bad_alloc();
  XXH3_128bits_reset(st_->s);  // cannot fail for a non-null state
}

Xxh128::~Xxh128() { XXH3_freeState(st_->s); }

Napi::Value Xxh128::Update(const Napi::CallbackInfo& info) {
  Bytes b = BytesArg(info, "Xxh128.update(bytes): bytes");
  if (b.length > 0) XXH3_128bits_update(st_->s, b.data, b.length);
  return info.Env().Undefined();
}

Napi::Value Xxh128::Digest(const Napi::CallbackInfo& info) { return Hex(info.Env(), XXH3_128bits_digest(st_->s)); }

Napi::Value Xxh128Js(const Napi::CallbackInfo& info) {
  Bytes b = BytesArg(info, "xxh128(bytes): bytes");
  return Hex(info.Env(), XXH3_128bits(b.data, b.length));
}

}  // namespace nds
