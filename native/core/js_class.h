// JsClass<T>: a JS class over a C++ class T on raw N-API (napi_define_class, napi_wrap), so that
// the constructor and every method run entirely inside Shielded (core/errors.h). node-addon-api's
// ObjectWrap unwraps the receiver and wraps new objects outside any code of ours; in a worker
// thread being terminated those calls fail, throw Napi::Error, and its rethrow ends the process.
// JS thread only. T provides a constructor T(const Napi::CallbackInfo&) that throws on failure
// and a destructor that never throws (it runs in the finalizer, at GC or env teardown).
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "core/errors.h"

namespace nds {

template <typename T>
class JsClass {
 public:
  using Method = Napi::Value (T::*)(const Napi::CallbackInfo&);

  // A prototype method `name` calling M on the receiver's T (V8 checks that the receiver was made
  // by this class; a receiver whose construction failed throws).
  // `idempotent`: on a released object the method does nothing instead of throwing (close()).
  template <Method M, bool idempotent = false>
  static napi_property_descriptor Def(const char* name) {
    return napi_property_descriptor{name,
                                    nullptr,
                                    &CallMethod<M, idempotent>,
                                    nullptr,
                                    nullptr,
                                    nullptr,
                                    static_cast<napi_property_attributes>(napi_writable | napi_configurable),
                                    nullptr};
  }

  // Frees `self` now, not at the next event-loop turn (Node runs wrap finalizers there, so a
  // synchronous loop would pile them up): removes the wrap of `obj` and deletes it. `self` must
  // not be used afterwards; later method calls on `obj` throw ERR_CLOSED.
  static void Release(napi_env env, napi_value obj, T* self) {
    void* ignored = nullptr;
    if (napi_remove_wrap(env, obj, &ignored) == napi_ok) delete self;
  }

  // The T behind `obj` (made by this class: check with InstanceOf first), or null when it was
  // released (closed) or never constructed. JS thread.
  static T* Unwrap(napi_env env, napi_value obj) {
    void* self = nullptr;
    return napi_unwrap(env, obj, &self) == napi_ok ? static_cast<T*>(self) : nullptr;
  }

  static Napi::Function Define(Napi::Env env, const char* name, const std::vector<napi_property_descriptor>& methods) {
    napi_value ctor;
    NAPI_THROW_IF_FAILED(
        env, napi_define_class(env, name, NAPI_AUTO_LENGTH, Construct, nullptr, methods.size(), methods.data(), &ctor),
        Napi::Function());
    return Napi::Function(env, ctor);
  }

 private:
  static napi_value Construct(napi_env env, napi_callback_info cbinfo) {
    return Shielded(env, [&] {
      Napi::CallbackInfo info(env, cbinfo);
      if (info.NewTarget().IsEmpty()) ThrowArg(env, "the class constructor must be called with new");
      std::unique_ptr<T> self(new T(info));
      NAPI_THROW_IF_FAILED(env, napi_wrap(env, info.This(), self.get(), Finalize, nullptr, nullptr), Napi::Value());
      self.release();  // owned by the JS object: deleted by Finalize
      return info.This();
    });
  }

  static void Finalize(napi_env, void* data, void*) { delete static_cast<T*>(data); }

  template <Method M, bool idempotent>
  static napi_value CallMethod(napi_env env, napi_callback_info cbinfo) {
    return Shielded(env, [&] {
      Napi::CallbackInfo info(env, cbinfo);
      void* self = nullptr;
      if (napi_unwrap(env, info.This(), &self) != napi_ok || self == nullptr) {
        // Released by Release() (a closed reader) or never constructed.
        if (idempotent) return info.Env().Undefined();
        ThrowJs(env, ErrorInfo{"ERR_CLOSED", "the reader is closed", "", 0, ""});
      }
      return (static_cast<T*>(self)->*M)(info);
    });
  }
};

}  // namespace nds
