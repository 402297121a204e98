// Shared definitions for every native class: dtypes, coded errors, the read-request layout,
// and per-env addon data. Nothing here keeps process-wide state.
#pragma once
#include <napi.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace nds {

// ---- dtypes ---------------------------------------------------------------------------------
enum class DType : int { U8 = 0, I8, U16, I16, U32, I32, F32, F64 };
constexpr int kNumDTypes = 8;

inline int ItemSize(DType t) {
  static const int sizes[kNumDTypes] = {1, 1, 2, 2, 4, 4, 4, 8};
  return sizes[static_cast<int>(t)];
}
inline const char* DTypeName(DType t) {
  static const char* names[kNumDTypes] = {"uint8", "int8", "uint16", "int16",
                                          "uint32", "int32", "float32", "float64"};
  return names[static_cast<int>(t)];
}
inline napi_typedarray_type TypedArrayType(DType t) {
  static const napi_typedarray_type types[kNumDTypes] = {
      napi_uint8_array, napi_int8_array, napi_uint16_array, napi_int16_array,
      napi_uint32_array, napi_int32_array, napi_float32_array, napi_float64_array};
  return types[static_cast<int>(t)];
}
// Returns false if `name` is not one of the eight dtype names.
bool ParseDTypeName(const std::string& name, DType* out);

// ---- errors ---------------------------------------------------------------------------------
// A coded error raised by pure C++ code on any thread. It is turned into a JS NdsamplerError
// (through the factory registered by lib/errors.ts) only on the main thread.
struct ErrorInfo {
  std::string code;     // stable string code, e.g. "ERR_NPY_HEADER"
  std::string message;
  std::string path;     // file errors: the path involved
  int errnum = 0;       // file errors: errno
  std::string syscall;  // file errors: the failing call
};

class CodedError : public std::runtime_error {
 public:
  explicit CodedError(ErrorInfo info) : std::runtime_error(info.message), info_(std::move(info)) {}
  CodedError(std::string code, std::string message, std::string path = "")
      : CodedError(ErrorInfo{std::move(code), std::move(message), std::move(path), 0, ""}) {}
  const ErrorInfo& info() const { return info_; }

 private:
  ErrorInfo info_;
};

// A file error from a failing system call: code ERR_IO (or ERR_SOURCE_MISSING for ENOENT),
// with path, errno and syscall set. Reads errno.
[[noreturn]] void ThrowErrno(const std::string& syscall, const std::string& path, int err);

// Main thread only: build the JS error object for `info` (an NdsamplerError subclass when the
// factory is registered, a plain Error with `code` otherwise).
Napi::Value MakeJsError(Napi::Env env, const ErrorInfo& info);
// Main thread only: throw it as a JS exception.
[[noreturn]] void ThrowJs(Napi::Env env, const ErrorInfo& info);
// Main thread only: argument re-checks for direct (wrong) calls of the raw binding.
[[noreturn]] void ThrowArg(Napi::Env env, const std::string& message);

// Runs `fn` and turns CodedError / std::bad_alloc / std::exception into JS exceptions.
template <typename F>
auto Guard(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const CodedError& e) {
    ThrowJs(env, e.info());
  } catch (const std::bad_alloc&) {
    ThrowJs(env, ErrorInfo{"ERR_NO_MEMORY", "out of memory", "", 0, ""});
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    ThrowJs(env, ErrorInfo{"ERR_INTERNAL", e.what(), "", 0, ""});
  }
}

// ---- per-env data ---------------------------------------------------------------------------
// One per Node environment (main thread and each worker thread); set in addon.cc.
struct AddonData {
  Napi::FunctionReference errorFactory;  // (code, message, props) => NdsamplerError
  Napi::FunctionReference npyReaderCtor;
  Napi::FunctionReference rasterReaderCtor;
  bool externalBuffersAllowed = true;    // cleared the first time the runtime refuses one
  // Raster state of this env (RasterEnv*: the tile cache and the dataset-handle LRU), owned by
  // raster code and freed at env cleanup through freeRaster.
  void* raster = nullptr;
  void (*freeRaster)(void*) = nullptr;
  ~AddonData() {
    if (raster != nullptr && freeRaster != nullptr) freeRaster(raster);
  }
};
inline AddonData* GetData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// ---- read requests --------------------------------------------------------------------------
// One read crosses the boundary as a Float64Array `req` laid out as below (all in elements),
// plus the destination typed array. lib/native.ts holds the same layout.
enum Req : int {
  kY0 = 0, kY1, kX0, kX1, kC0, kC1,        // source window, half open, already clipped
  kDstOffset, kDstSY, kDstSX, kDstSC,      // where and how to write into the destination
  kOutH, kOutW,                            // raster only: output size (scaled reads), else = window
  kReqLen
};

struct Window {
  int64_t y0, y1, x0, x1, c0, c1;
  int64_t h() const { return y1 - y0; }
  int64_t w() const { return x1 - x0; }
  int64_t c() const { return c1 - c0; }
};

struct Destination {
  uint8_t* data = nullptr;   // typed array's first byte
  int64_t length = 0;        // in elements
  int64_t offset = 0, sy = 0, sx = 0, sc = 0;  // in elements
  int64_t outH = 0, outW = 0;
};

// Main thread: parse and check (req, dst) against an image of shape (H, W, C) and dtype.
// Throws a JS error (never crashes) when the window is outside the image, the typed array is
// of another type, or any element the copy would write lies outside the typed array.
void ParseRequest(Napi::Env env, const Napi::Value& dstVal, const Napi::Value& reqVal,
                  int64_t H, int64_t W, int64_t C, DType dtype, Window* win, Destination* dst,
                  bool allowScaled);

}  // namespace nds
