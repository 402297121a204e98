// The JS controls of the addon's thread pool (batch/thread_pool.h). JS thread.
#pragma once
#include <napi.h>

namespace nds {

// setThreadPoolSize(n), threadPoolSize(): the process-wide pool.
Napi::Value SetThreadPoolSizeJs(const Napi::CallbackInfo& info);
Napi::Value ThreadPoolSizeJs(const Napi::CallbackInfo& info);
// setThreadPoolNice(n), threadPoolNice(): how far below the JS thread the pool threads run.
Napi::Value SetThreadPoolNiceJs(const Napi::CallbackInfo& info);
Napi::Value ThreadPoolNiceJs(const Napi::CallbackInfo& info);

}  // namespace nds
