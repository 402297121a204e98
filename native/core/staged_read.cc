// RunStagedRead. See staged_read.h for the threads.
#include "core/staged_read.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "core/async_job.h"
#include "core/copy_kernel.h"
#include "core/errors.h"

namespace nds {

namespace {

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using Staging = std::unique_ptr<uint8_t, FreeDeleter>;

constexpr size_t kCopyResultBytes = 64 * 1024;

// Finalizer of a result ArrayBuffer: frees the staging buffer it took over.
void FreeStaging(napi_env, void* data, void*) { std::free(data); }

// JS thread, at completion: the staging buffer handed to JS as an ArrayBuffer of `bytes`.
napi_value ToArrayBuffer(napi_env env, Staging& buf, size_t bytes) {
  napi_value ab = nullptr;
  // Small results are copied into a V8 ArrayBuffer: measured, an external buffer (a node::Buffer
  // underneath, with a finalizer deferred to the event loop) costs more than copying 64 KiB.
  if (bytes > kCopyResultBytes) {
    const napi_status st = napi_create_external_arraybuffer(env, buf.get(), bytes, FreeStaging, nullptr, &ab);
    if (st == napi_ok) {
      buf.release();  // the ArrayBuffer's finalizer frees it
      return ab;
    }
    if (st != napi_no_external_buffers_allowed) throw CodedError("ERR_INTERNAL", "could not create the result buffer");
  }
  void* data = nullptr;
  if (napi_create_arraybuffer(env, bytes, &data, &ab) != napi_ok) {
    throw CodedError("ERR_INTERNAL", "could not create the result buffer");
  }
  if (bytes > 0) std::memcpy(data, buf.get(), bytes);
  return ab;
}

// JS thread, at completion: copies the contiguous staging buffer into the caller's typed array
// after checking it still holds every element `dst` addresses (it may have been detached,
// transferred or shrunk while the job ran).
void CopyIntoCaller(napi_env env, napi_value ta, const Staging& buf, DType dtype, int64_t c, const Destination& dst) {
  void* data = nullptr;
  size_t length = 0;
  if (ta == nullptr || napi_get_typedarray_info(env, ta, nullptr, &length, &data, nullptr, nullptr) != napi_ok) {
    data = nullptr;
  }
  const double last = static_cast<double>(dst.offset) + static_cast<double>(dst.outH - 1) * dst.sy +
                      static_cast<double>(dst.outW - 1) * dst.sx + static_cast<double>(c - 1) * dst.sc;
  if (data == nullptr || last >= static_cast<double>(length)) {
    throw CodedError("ERR_OUT_BUFFER",
                     "the destination array was detached, transferred or shrunk while the read was in flight");
  }
  const int64_t n = ItemSize(dtype);
  const SrcLayout src{buf.get(), dst.outW * c * n, c * n, n, static_cast<int>(n), false};
  CopyWindow(src, 0, 0, 0, dst.outH, dst.outW, c, static_cast<uint8_t*>(data) + dst.offset * n, dst.sy * n, dst.sx * n,
             dst.sc * n);
}

}  // namespace

Napi::Value RunStagedRead(Napi::Env env, const char* name, napi_value dstVal, DType dtype, const Window& win,
                          const Destination& dst, std::function<void(const Destination&)> read) {
  const int64_t n = ItemSize(dtype);
  const bool intoCaller = dst.data != nullptr;
  const int64_t c = win.c();
  // The staging buffer: allocated on the pool thread, owned by the job (shared by the two
  // lambdas), handed to JS or freed at completion.
  auto staging = std::make_shared<Staging>();
  Destination st = dst;
  if (intoCaller) {
    st.offset = 0;
    st.sy = dst.outW * c;
    st.sx = c;
    st.sc = 1;
    st.length = dst.outH * dst.outW * c;
  }
  const size_t bytes = static_cast<size_t>(st.length) * static_cast<size_t>(n);
  // Zeroed only when the layout leaves gaps (a new array with strides wider than its shape):
  // otherwise `read` writes every byte.
  const bool full = st.length == st.outH * st.outW * c;
  auto work = [staging, st, bytes, full, read = std::move(read)]() mutable {
    if (bytes > 0) {
      staging->reset(static_cast<uint8_t*>(full ? std::malloc(bytes) : std::calloc(bytes, 1)));
      if (!*staging) throw std::bad_alloc();
    }
    st.data = staging->get();
    if (st.outH > 0 && st.outW > 0 && bytes > 0) read(st);
  };
  AsyncJob::Finish finish;
  if (intoCaller) {
    finish = [staging, dtype, c, dst](napi_env e, const std::vector<napi_value>& pins) -> napi_value {
      if (dst.outH > 0 && dst.outW > 0 && c > 0)
        CopyIntoCaller(e, pins.empty() ? nullptr : pins[0], *staging, dtype, c, dst);
      return nullptr;
    };
  } else {
    finish = [staging, bytes](napi_env e, const std::vector<napi_value>&) -> napi_value {
      return ToArrayBuffer(e, *staging, bytes);
    };
  }
  std::vector<napi_value> pins;
  if (intoCaller) pins.push_back(dstVal);
  return AsyncJob::Run(env, name, std::move(work), std::move(finish), pins);
}

}  // namespace nds
