// Coded errors: raised by pure C++ code on any thread as CodedError, turned into JS errors
// (NdsamplerError through the factory lib/errors.ts registers) only on the JS thread.
#pragma once
#include <napi.h>

#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace nds {

struct ErrorInfo {
  ErrorInfo() = default;
  ErrorInfo(std::string c, std::string m, std::string p = "", int e = 0, std::string sc = "")
      : code(std::move(c)), message(std::move(m)), path(std::move(p)), errnum(e), syscall(std::move(sc)) {}
  std::string code;  // stable string code, e.g. "ERR_NPY_HEADER"
  std::string message;
  std::string path;     // file errors: the path involved
  int errnum = 0;       // file errors: errno
  std::string syscall;  // file errors: the failing call
  int status = 0;       // remote errors: the HTTP status the server answered with (0: none)
  std::string reason;   // remote errors: 'http', 'timeout' or 'connection' (raster/remote_error.h)
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

// Any thread. A file error from a failing system call: code ERR_SOURCE_MISSING for ENOENT,
// ERR_NOT_A_FILE for EISDIR, ERR_IO otherwise, with path, errno and syscall set.
[[noreturn]] void ThrowErrno(const std::string& syscall, const std::string& path, int err);

// JS thread: builds the JS error object for `info` (an NdsamplerError subclass when the factory
// is registered, a plain Error with `code` otherwise).
Napi::Value MakeJsError(Napi::Env env, const ErrorInfo& info);
// JS thread: throws it as a JS exception.
[[noreturn]] void ThrowJs(Napi::Env env, const ErrorInfo& info);
// JS thread: a TypeError with code ERR_INVALID_ARG_TYPE, for the cheap re-checks of direct
// (wrong) calls of the raw binding.
[[noreturn]] void ThrowArg(Napi::Env env, const std::string& message);

// JS thread: runs `fn` and turns CodedError / std::bad_alloc / std::exception into JS exceptions.
// (core/async_job.h maps the same three cases for work run on the libuv pool.)
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

// JS thread: the outermost frame of every binding function, constructor and method. Runs `fn`
// and turns any exception into a pending JS exception with raw N-API calls whose failure is
// ignored. node-addon-api's own rethrow (Error::ThrowAsJavaScriptException) throws again when
// the env can no longer run JS (a worker thread being terminated), and that second exception,
// thrown into V8's frames, ends the process. Returns an empty value after an exception.
Napi::Value Shielded(Napi::Env env, const std::function<Napi::Value()>& fn) noexcept;

// Shielded(F): a binding function for Napi::Function::New<ShieldedFn<F>>.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value ShieldedFn(const Napi::CallbackInfo& info) {
  return Shielded(info.Env(), [&] { return F(info); });
}

}  // namespace nds
