// Async reads that never write into JavaScript memory from a pool thread (docs/concurrency.md,
// "Memory a job writes"). JS thread, except `read`, which runs on the libuv pool.
#pragma once
#include <napi.h>

#include <functional>

#include "core/dtype.h"
#include "core/request.h"

namespace nds {

// Queues `read(staging)` on the pool, where `staging` is a Destination over a buffer the job owns,
// and returns the promise. Two modes, by what `dst` (as parsed by ParseRequest) describes:
//  - into the caller's typed array `dstVal` (dst.data set): `read` fills a contiguous staging
//    buffer of outH x outW x C elements; at completion, on the JS thread, the typed array is
//    checked to be still attached and large enough for `dst` (else the promise rejects with
//    ERR_OUT_BUFFER) and the staging buffer is copied into it with dst's offset and strides. The
//    promise resolves with undefined.
//  - a new array (dstVal null, dst.data null): `read` fills a zero-initialised buffer of
//    dst.length elements laid out as dst says, which the promise resolves with as an external
//    ArrayBuffer (a copy where the runtime refuses external buffers).
// A CodedError from `read` rejects the promise.
Napi::Value RunStagedRead(Napi::Env env, const char* name, napi_value dstVal, DType dtype, const Window& win,
                          const Destination& dst, std::function<void(const Destination&)> read);

}  // namespace nds
