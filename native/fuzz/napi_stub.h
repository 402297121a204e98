// A minimal stand-in for the N-API runtime, for fuzz targets that drive JS-thread parsing code
// (core/request.cc) without Node. Only fuzz_*.cc include it, and only under NDS_FUZZ_TARGET.
//
// Why a stub and not Node: ParseRequest is the one place that checks a read request against the
// image and the destination, and it takes its inputs as napi_values. It calls three runtime
// functions (napi_typeof, napi_is_typedarray, napi_get_typedarray_info); its errors go through
// ThrowArg/ThrowJs (core/errors.cc, which needs a live env). So:
//   - a napi_value here is a pointer to a FakeValue (a typed array, or not one);
//   - those three functions answer from the FakeValue;
//   - ThrowArg/ThrowJs/ThrowErrno/MakeJsError are defined here to throw FakeJsError (errors.cc is
//     not linked);
//   - every other napi_* function node-addon-api's inline code refers to (its error paths, never
//     taken because the three stubs always return napi_ok) is defined to abort in
//     napi_abort_stubs.cc, so that a call the stub does not model is a loud crash, not garbage.
#pragma once
#include <node_api.h>

#include <cstdlib>
#include <string>

#include "core/errors.h"

namespace nds_fuzz {

struct FakeValue {
  bool isTypedArray = false;
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0;     // elements
  void* data = nullptr;  // first element (null: detached or zero-length)
};

inline napi_value ToValue(FakeValue* v) { return reinterpret_cast<napi_value>(v); }

// What ThrowArg / ThrowJs raise in place of a JS exception.
struct FakeJsError {
  std::string code;
};

}  // namespace nds_fuzz

namespace nds {
void ThrowErrno(const std::string& syscall, const std::string& path, int err) {
  throw CodedError(ErrorInfo{"ERR_IO", syscall + " " + path, path, err, syscall});
}
Napi::Value MakeJsError(Napi::Env, const ErrorInfo&) { std::abort(); }
void ThrowJs(Napi::Env, const ErrorInfo& info) { throw nds_fuzz::FakeJsError{info.code}; }
void ThrowArg(Napi::Env, const std::string&) { throw nds_fuzz::FakeJsError{"ERR_INVALID_ARG_TYPE"}; }
}  // namespace nds

extern "C" {
// Value::IsNull (ParseRequest's "new array" destination): a FakeValue is an object, no value null.
napi_status napi_typeof(napi_env, napi_value value, napi_valuetype* result) {
  *result = value == nullptr ? napi_null : napi_object;
  return napi_ok;
}
napi_status napi_is_typedarray(napi_env, napi_value value, bool* result) {
  *result = value != nullptr && reinterpret_cast<nds_fuzz::FakeValue*>(value)->isTypedArray;
  return napi_ok;
}
napi_status napi_get_typedarray_info(napi_env, napi_value value, napi_typedarray_type* type, size_t* length,
                                     void** data, napi_value* arraybuffer, size_t* byte_offset) {
  const auto* v = reinterpret_cast<nds_fuzz::FakeValue*>(value);
  if (v == nullptr || !v->isTypedArray) return napi_invalid_arg;
  if (type != nullptr) *type = v->type;
  if (length != nullptr) *length = v->length;
  if (data != nullptr) *data = v->data;
  if (arraybuffer != nullptr) *arraybuffer = nullptr;
  if (byte_offset != nullptr) *byte_offset = 0;
  return napi_ok;
}
}
