// Cancel tokens: an External holding a heap shared_ptr to the flag. JS thread, except
// ThrowIfCancelled (any thread).
#include "raster/remote_cancel.h"

#include "core/errors.h"

namespace nds {

namespace {

// Type tag of our Externals, so a foreign External is refused instead of reinterpreted.
constexpr napi_type_tag kTokenTag = {0x6e6473616d706c65ULL, 0x63616e63656c3135ULL};

}  // namespace

CancelFlag CancelFlagFrom(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  bool tagged = false;
  if (!v.IsExternal() || napi_check_object_type_tag(env, v, &kTokenTag, &tagged) != napi_ok || !tagged) {
    ThrowArg(env, "Expected a cancel token (newCancelToken()) for token");
  }
  return *v.As<Napi::External<CancelFlag>>().Data();
}

void ThrowIfCancelled(const CancelFlag& flag, const std::string& path) {
  if (flag && flag->load()) {
    ErrorInfo info;
    info.code = "ERR_ABORTED";
    info.message = "remote work on '" + path + "' was aborted";
    info.path = path;
    throw CodedError(std::move(info));
  }
}

Napi::Value NewCancelTokenJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* flag = new CancelFlag(std::make_shared<std::atomic<bool>>(false));
  Napi::External<CancelFlag> ext =
      Napi::External<CancelFlag>::New(env, flag, [](Napi::Env, CancelFlag* f) { delete f; });
  NAPI_THROW_IF_FAILED(env, napi_type_tag_object(env, ext, &kTokenTag), Napi::Value());
  return ext;
}

Napi::Value CancelTokenJs(const Napi::CallbackInfo& info) {
  CancelFlag flag = CancelFlagFrom(info.Env(), info[0]);
  if (flag) flag->store(true);
  return info.Env().Undefined();
}

}  // namespace nds
