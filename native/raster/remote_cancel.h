// Cancellation of remote work an async call started with an AbortSignal (lib/readers-async.ts).
// The JS side holds a token as an External; the jobs it covers keep a shared_ptr to the flag.
// cancelToken() runs on the JS thread; pool and fetch threads poll the flag before each request
// and while a response arrives (raster/range_fetch.h).
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <string>

namespace nds {

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

// JS thread: the flag of the token `v` (an External made by newCancelToken), or null for
// undefined/null. Anything else is a TypeError.
CancelFlag CancelFlagFrom(Napi::Env env, const Napi::Value& v);

// Any thread: throws ERR_ABORTED naming `path` when `flag` is set.
void ThrowIfCancelled(const CancelFlag& flag, const std::string& path);

// newCancelToken(): a token; cancelToken(token): sets its flag. JS thread.
Napi::Value NewCancelTokenJs(const Napi::CallbackInfo& info);
Napi::Value CancelTokenJs(const Napi::CallbackInfo& info);

}  // namespace nds
