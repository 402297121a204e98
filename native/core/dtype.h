// The eight element types ndsampler serves, and the host's byte order. Pure C++, any thread.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace nds {

constexpr int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1: every size must fit a JS number

enum class DType : int { U8 = 0, I8, U16, I16, U32, I32, F32, F64 };
constexpr int kNumDTypes = 8;

inline int ItemSize(DType t) {
  static const int sizes[kNumDTypes] = {1, 1, 2, 2, 4, 4, 4, 8};
  return sizes[static_cast<int>(t)];
}
inline const char* DTypeName(DType t) {
  static const char* names[kNumDTypes] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"};
  return names[static_cast<int>(t)];
}
inline napi_typedarray_type TypedArrayType(DType t) {
  static const napi_typedarray_type types[kNumDTypes] = {napi_uint8_array,   napi_int8_array,   napi_uint16_array,
                                                         napi_int16_array,   napi_uint32_array, napi_int32_array,
                                                         napi_float32_array, napi_float64_array};
  return types[static_cast<int>(t)];
}
// Returns false if `name` is not one of the eight dtype names.
inline bool ParseDTypeName(const std::string& name, DType* out) {
  for (int i = 0; i < kNumDTypes; ++i) {
    if (name == DTypeName(static_cast<DType>(i))) {
      *out = static_cast<DType>(i);
      return true;
    }
  }
  return false;
}

// Calls f(T{}) with T the C++ element type of `t` and returns what f returns (the same type for
// every T): the one switch over the eight dtypes that kernels are picked through, e.g.
//   VisitDType(s, [&](auto sv) { using S = decltype(sv); ... return &Kernel<S, D>; })
template <typename F>
decltype(auto) VisitDType(DType t, F&& f) {
  switch (t) {
    case DType::I8:
      return f(int8_t{});
    case DType::U16:
      return f(uint16_t{});
    case DType::I16:
      return f(int16_t{});
    case DType::U32:
      return f(uint32_t{});
    case DType::I32:
      return f(int32_t{});
    case DType::F32:
      return f(float{});
    case DType::F64:
      return f(double{});
    case DType::U8:
      break;
  }
  return f(uint8_t{});
}

inline bool HostIsBigEndian() {
  const uint16_t probe = 1;
  uint8_t first;
  std::memcpy(&first, &probe, 1);
  return first == 0;
}

}  // namespace nds
