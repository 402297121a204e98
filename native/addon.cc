// Module entry: per-env instance data, the error factory hook, and each class's registration.
// Runs on the thread of the environment that loads the addon (main thread or a worker).
#include "common.h"
#include "modules.h"

namespace {

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) nds::ThrowArg(env, "setErrorFactory(fn) takes a function");
  nds::GetData(env)->errorFactory = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new nds::AddonData();
  env.SetInstanceData<nds::AddonData>(data);  // deleted by node-addon-api at env teardown
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactory, "setErrorFactory"));
  nds::InitNpy(env, exports);
  nds::InitRaster(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(ndsampler, Init)
