// The argument parsers of the raw binding. JS thread only. lib/ validates every public call
// first (lib/validate.ts); these are the cheap re-checks that make a wrong direct call of the
// binding throw a TypeError (code ERR_INVALID_ARG_TYPE) instead of crashing.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace nds {

// A non-empty string without NUL characters (lib/validate.ts `string`'s rule), else a TypeError
// "<what> must be a non-empty string without NUL characters".
std::string StringValue(Napi::Env env, const Napi::Value& v, const std::string& what);
// The same for argument i (a missing argument is undefined).
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const std::string& what);

// A number that is an integer in [lo, hi] (both within +-kMaxSafeInteger), else a TypeError
// "<what> must be an integer in [lo, hi]".
int64_t IntValue(Napi::Env env, const Napi::Value& v, int64_t lo, int64_t hi, const std::string& what);

// An object, else a TypeError "<what> must be an object".
Napi::Object ObjectValue(Napi::Env env, const Napi::Value& v, const std::string& what);

// An HWC array given as a typed array plus a description {dtype, shape, strides, offset}
// (strides and offset in elements), as writeNpy and writeRaster take it.
struct ArrayDesc {
  DType dtype = DType::U8;
  int64_t shape[3] = {0, 0, 0};
  int64_t strides[3] = {0, 0, 0};
  int64_t offset = 0;
  const uint8_t* data = nullptr;  // the typed array's first element (null when detached)
  int64_t length = 0;             // the typed array's length in elements (0 when detached)
  bool empty() const { return shape[0] == 0 || shape[1] == 0 || shape[2] == 0; }
  // The address of element (0, 0, 0). Only valid when !empty().
  const uint8_t* first() const { return data + offset * ItemSize(dtype); }
};

// Each shape entry must lie in [minDim, maxDim[i]].
struct ShapeLimits {
  int64_t minDim;
  int64_t maxDim[3];
};

// Parses `desc` (its getters may run JS and even detach `data`), then reads the typed array's
// current pointer and length; no JS runs after that, so the result stays valid until the caller
// runs JS again. TypeError for a wrong type, a dtype unlike the typed array's, or a shape outside
// `limits`; ERR_OUT_BUFFER when an element the description addresses lies outside the array.
// `fn` prefixes the messages ("writeNpy").
ArrayDesc ParseArrayDesc(Napi::Env env, const Napi::Value& data, const Napi::Object& desc, const ShapeLimits& limits,
                         const char* fn);

}  // namespace nds
