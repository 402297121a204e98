// Read-request parsing. JS thread; runs on every read, so it uses raw N-API calls.
#include "core/request.h"

#include <string>
#include <utility>

#include "core/args.h"
#include "core/errors.h"

namespace nds {

namespace {
// An integer in [lo, hi] (0 <= lo, hi < 2^63), as a double from the request array. NaN fails the
// comparisons; the range check makes the truncating cast well defined (cheaper than std::floor).
// Deliberately not core/args.h IntValue: this reads raw doubles of a Float64Array on the hot path.
inline bool IntIn(double v, double lo, double hi) {
  return v >= lo && v <= hi && v == static_cast<double>(static_cast<int64_t>(v));
}
}  // namespace

bool StridesOverlap(const int64_t size[3], const int64_t stride[3]) {
  int64_t n[3], s[3];
  int k = 0;
  for (int i = 0; i < 3; ++i) {
    if (size[i] == 0) return false;  // addresses nothing
    if (size[i] == 1) continue;      // a size-1 axis is free
    if (stride[i] == 0) return true;
    n[k] = size[i];
    s[k] = stride[i];
    ++k;
  }
  // Sort the (at most 3) remaining axes by stride.
  for (int i = 1; i < k; ++i) {
    for (int j = i; j > 0 && s[j] < s[j - 1]; --j) {
      std::swap(s[j], s[j - 1]);
      std::swap(n[j], n[j - 1]);
    }
  }
  for (int i = 1; i < k; ++i) {
    if (static_cast<__int128>(s[i]) < static_cast<__int128>(n[i - 1]) * s[i - 1]) return true;
  }
  return false;
}

void ParseRequest(Napi::Env env, const Napi::Value& dstVal, const Napi::Value& reqVal, int64_t H, int64_t W, int64_t C,
                  DType dtype, Window* win, Destination* dst, bool allowScaled, bool allowNew) {
  // Raw N-API: one napi_get_typedarray_info per array (type, length and the data pointer, which
  // already includes the view's byte offset). This function runs on every read.
  const bool isNew = allowNew && dstVal.IsNull();
  napi_typedarray_type dstType = TypedArrayType(dtype);
  size_t dstLength = 0;
  void* dstData = nullptr;
  if (!isNew) {
    if (!dstVal.IsTypedArray()) ThrowArg(env, "destination must be a typed array");
    if (napi_get_typedarray_info(env, dstVal, &dstType, &dstLength, &dstData, nullptr, nullptr) != napi_ok) {
      ThrowArg(env, "destination must be a typed array");
    }
  }
  if (dstType != TypedArrayType(dtype)) {
    ThrowArg(env, std::string("destination typed array does not match dtype ") + DTypeName(dtype));
  }
  napi_typedarray_type reqType;
  size_t reqLength = 0;
  void* reqData = nullptr;
  if (!reqVal.IsTypedArray() ||
      napi_get_typedarray_info(env, reqVal, &reqType, &reqLength, &reqData, nullptr, nullptr) != napi_ok ||
      reqType != napi_float64_array) {
    ThrowArg(env, "request must be a Float64Array");
  }
  if (reqLength < static_cast<size_t>(kReqLen) || reqData == nullptr) ThrowArg(env, "request is too short");
  const double* r = static_cast<const double*>(reqData);
  const double big = static_cast<double>(kMaxSafeInteger);
  if (!IntIn(r[kY0], 0, H) || !IntIn(r[kY1], r[kY0], H) || !IntIn(r[kX0], 0, W) || !IntIn(r[kX1], r[kX0], W) ||
      !IntIn(r[kC0], 0, C) || !IntIn(r[kC1], r[kC0], C)) {
    ThrowJs(env, ErrorInfo{"ERR_REGION", "window is outside the image", "", 0, ""});
  }
  for (int k = kDstOffset; k <= kOutW; ++k) {
    if (!IntIn(r[k], 0, big)) ThrowArg(env, "request offsets, strides and sizes must be non-negative integers");
  }
  win->y0 = static_cast<int64_t>(r[kY0]);
  win->y1 = static_cast<int64_t>(r[kY1]);
  win->x0 = static_cast<int64_t>(r[kX0]);
  win->x1 = static_cast<int64_t>(r[kX1]);
  win->c0 = static_cast<int64_t>(r[kC0]);
  win->c1 = static_cast<int64_t>(r[kC1]);
  dst->data = static_cast<uint8_t*>(dstData);
  dst->length = dstData == nullptr ? 0 : static_cast<int64_t>(dstLength);
  dst->offset = static_cast<int64_t>(r[kDstOffset]);
  dst->sy = static_cast<int64_t>(r[kDstSY]);
  dst->sx = static_cast<int64_t>(r[kDstSX]);
  dst->sc = static_cast<int64_t>(r[kDstSC]);
  dst->outH = static_cast<int64_t>(r[kOutH]);
  dst->outW = static_cast<int64_t>(r[kOutW]);
  if (!allowScaled && (dst->outH != win->h() || dst->outW != win->w())) {
    ThrowArg(env, "output size must equal the window size for this reader");
  }
  if (allowScaled && ((dst->outH == 0) != (win->h() == 0) || (dst->outW == 0) != (win->w() == 0) ||
                      dst->outH > win->h() || dst->outW > win->w())) {
    ThrowArg(env, "scaled output size must be between 1 and the window size");
  }
  if (dst->outH == 0 || dst->outW == 0 || win->c() == 0) return;  // nothing is written
  const int64_t size[3] = {dst->outH, dst->outW, win->c()};
  const int64_t stride[3] = {dst->sy, dst->sx, dst->sc};
  if (StridesOverlap(size, stride)) {
    ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER",
                           "destination strides are zero or overlap (two elements would share one place)", "", 0, ""});
  }
  const double last = static_cast<double>(dst->offset) + static_cast<double>(dst->outH - 1) * dst->sy +
                      static_cast<double>(dst->outW - 1) * dst->sx + static_cast<double>(win->c() - 1) * dst->sc;
  if (isNew) {
    if ((last + 1) * static_cast<double>(ItemSize(dtype)) > static_cast<double>(kMaxNewBytes)) {
      ThrowJs(env, ErrorInfo{"ERR_REGION", "a read of more than 2^32 bytes", "", 0, ""});
    }
    dst->length = static_cast<int64_t>(last) + 1;
    return;
  }
  if (last >= static_cast<double>(dst->length)) {
    ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER", "destination array is too small for the region", "", 0, ""});
  }
}

}  // namespace nds
