// The argument parsers of the raw binding. JS thread only.
#include "core/args.h"

#include <cmath>

#include "core/errors.h"

namespace nds {

std::string StringValue(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) ThrowArg(env, what + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty() || s.find('\0') != std::string::npos) {
    ThrowArg(env, what + " must be a non-empty string without NUL characters");
  }
  return s;
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const std::string& what) {
  return StringValue(info.Env(), info[i], what);
}

int64_t IntValue(Napi::Env env, const Napi::Value& v, int64_t lo, int64_t hi, const std::string& what) {
  // NaN fails every comparison; the range check makes the cast well defined.
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi) &&
        d == static_cast<double>(static_cast<int64_t>(d)))) {
    ThrowArg(env, what + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int64_t>(d);
}

Napi::Object ObjectValue(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsObject()) ThrowArg(env, what + " must be an object");
  return v.As<Napi::Object>();
}

namespace {

void Triple(Napi::Env env, const Napi::Object& desc, const char* key, const std::string& what, int64_t lo,
            const int64_t hi[3], int64_t out[3]) {
  Napi::Value v = desc.Get(key);
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) ThrowArg(env, what + " must be an array of 3 integers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < 3; ++i) out[i] = IntValue(env, a.Get(i), lo, hi[i], what + "[" + std::to_string(i) + "]");
}

}  // namespace

ArrayDesc ParseArrayDesc(Napi::Env env, const Napi::Value& data, const Napi::Object& desc, const ShapeLimits& limits,
                         const char* fn) {
  const std::string pre = std::string(fn) + ": desc.";
  ArrayDesc a;
  Napi::Value dtv = desc.Get("dtype");
  if (!dtv.IsString() || !ParseDTypeName(dtv.As<Napi::String>().Utf8Value(), &a.dtype)) {
    ThrowArg(env, pre + "dtype must be one of the eight dtype names");
  }
  Triple(env, desc, "shape", pre + "shape", limits.minDim, limits.maxDim, a.shape);
  const int64_t safe[3] = {kMaxSafeInteger, kMaxSafeInteger, kMaxSafeInteger};
  Triple(env, desc, "strides", pre + "strides", 0, safe, a.strides);
  a.offset = IntValue(env, desc.Get("offset"), 0, kMaxSafeInteger, pre + "offset");

  napi_typedarray_type type;
  size_t length = 0;
  void* ptr = nullptr;
  if (!data.IsTypedArray() || napi_get_typedarray_info(env, data, &type, &length, &ptr, nullptr, nullptr) != napi_ok) {
    ThrowArg(env, std::string(fn) + ": data must be a typed array");
  }
  if (type != TypedArrayType(a.dtype)) ThrowArg(env, std::string(fn) + ": data does not match desc.dtype");
  a.data = static_cast<const uint8_t*>(ptr);
  a.length = ptr == nullptr ? 0 : static_cast<int64_t>(length);  // detached: no elements
  if (!a.empty()) {
    // Every operand is below 2^53, so the sum of four of them cannot overflow 128 bits.
    __int128 last = a.offset;
    for (int i = 0; i < 3; ++i) last += static_cast<__int128>(a.shape[i] - 1) * a.strides[i];
    if (last >= static_cast<__int128>(a.length)) {
      ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER",
                             std::string(fn) + ": shape and strides address elements past the end of data", "", 0, ""});
    }
  }
  return a;
}

}  // namespace nds
