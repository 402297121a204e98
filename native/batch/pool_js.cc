// The pool's JS controls (see pool_js.h).
#include "batch/pool_js.h"

#include "batch/thread_pool.h"
#include "core/args.h"

namespace nds {

Napi::Value SetThreadPoolSizeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadPool::Get().SetSize(static_cast<int>(IntValue(env, info[0], 1, 1024, "setThreadPoolSize: n")));
  return env.Undefined();
}

Napi::Value ThreadPoolSizeJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ThreadPool::Get().Size());
}

Napi::Value SetThreadPoolNiceJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadPool::Get().SetNice(static_cast<int>(IntValue(env, info[0], 0, 19, "setThreadPoolNice: n")));
  return env.Undefined();
}

Napi::Value ThreadPoolNiceJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ThreadPool::Get().Nice());
}

}  // namespace nds
