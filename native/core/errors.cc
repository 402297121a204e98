// Coded errors and their JS form. ThrowErrno runs on any thread; the rest on the JS thread.
#include "core/errors.h"

#include <cerrno>
#include <cstring>

#include "core/addon_data.h"

namespace nds {

void ThrowErrno(const std::string& syscall, const std::string& path, int err) {
  ErrorInfo info;
  info.code = err == ENOENT ? "ERR_SOURCE_MISSING" : (err == EISDIR ? "ERR_NOT_A_FILE" : "ERR_IO");
  info.message = syscall + " '" + path + "': " + std::strerror(err);
  info.path = path;
  info.errnum = err;
  info.syscall = syscall;
  throw CodedError(std::move(info));
}

Napi::Value MakeJsError(Napi::Env env, const ErrorInfo& info) {
  AddonData* data = GetData(env);
  Napi::Object props = Napi::Object::New(env);
  if (!info.path.empty()) props.Set("path", info.path);
  if (info.errnum != 0) props.Set("errno", static_cast<double>(info.errnum));
  if (!info.syscall.empty()) props.Set("syscall", info.syscall);
  if (info.status != 0) props.Set("status", static_cast<double>(info.status));
  if (!info.reason.empty()) props.Set("reason", info.reason);
  if (data != nullptr && !data->errorFactory.IsEmpty()) {
    return data->errorFactory.Call({Napi::String::New(env, info.code), Napi::String::New(env, info.message), props});
  }
  // Before lib/errors.ts registered its factory (only a direct use of the raw binding).
  Napi::Error err = Napi::Error::New(env, info.message);
  err.Set("code", info.code);
  if (!info.path.empty()) err.Set("path", info.path);
  if (info.errnum != 0) err.Set("errno", static_cast<double>(info.errnum));
  if (info.status != 0) err.Set("status", static_cast<double>(info.status));
  if (!info.reason.empty()) err.Set("reason", info.reason);
  return err.Value();
}

void ThrowJs(Napi::Env env, const ErrorInfo& info) { throw Napi::Error(env, MakeJsError(env, info)); }

void ThrowArg(Napi::Env env, const std::string& message) {
  Napi::TypeError err = Napi::TypeError::New(env, message);
  err.Set("code", "ERR_INVALID_ARG_TYPE");
  throw err;
}

namespace {

// Throws `v` into JS unless an exception is already pending; a failure (no JS can run) is ignored.
void ThrowQuietly(napi_env env, napi_value v) noexcept {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending || v == nullptr) return;
  napi_throw(env, v);
}

void ThrowMessageQuietly(napi_env env, const char* code, const char* message) noexcept {
  napi_value msg, codeValue, err;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &codeValue) != napi_ok ||
      napi_create_error(env, codeValue, msg, &err) != napi_ok) {
    return;
  }
  ThrowQuietly(env, err);
}

}  // namespace

Napi::Value Shielded(Napi::Env env, const std::function<Napi::Value()>& fn) noexcept {
  try {
    return fn();
  } catch (const Napi::Error& e) {
    napi_value v = nullptr;
    try {
      v = e.Value();
    } catch (...) {
      v = nullptr;
    }
    ThrowQuietly(env, v);
  } catch (const CodedError& e) {
    try {
      ThrowQuietly(env, MakeJsError(env, e.info()));
    } catch (...) {
      ThrowMessageQuietly(env, e.info().code.c_str(), e.what());
    }
  } catch (const std::bad_alloc&) {
    ThrowMessageQuietly(env, "ERR_NO_MEMORY", "out of memory");
  } catch (const std::exception& e) {
    ThrowMessageQuietly(env, "ERR_INTERNAL", e.what());
  } catch (...) {
    ThrowMessageQuietly(env, "ERR_INTERNAL", "unknown native exception");
  }
  return Napi::Value();
}

}  // namespace nds
