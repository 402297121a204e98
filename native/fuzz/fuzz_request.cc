// libFuzzer target: the read-request checks (core/request.cc ParseRequest) and the copies they
// guard. Built only by CMake with -DNDS_FUZZ=ON (scripts/fuzz.sh); see native/fuzz/README.md.
//
// ParseRequest is N-API code; it runs here unchanged over napi_stub.h (two fake runtime calls,
// fake typed arrays). Its promise is: when it returns, the window lies inside the H x W x C image
// and every element the read writes lies inside the destination typed array. The target checks
// that promise the hard way: it then performs the write into a heap buffer of exactly the typed
// array's size (AddressSanitizer reports one byte too far), reading from a source of exactly
// H x W x C elements:
//   - unscaled reads: the npy reader's copy (npy_reader.cc CopyOut, C and Fortran order, through
//     the real core/copy_kernel.h CopyWindow);
//   - scaled reads (raster only): every element of outH x outW x c at the destination strides,
//     which is what GDAL's RasterIO writes with those spacings.
//
// Each file here is an empty translation unit unless NDS_FUZZ_TARGET is defined (both addon
// builds compile every .cc under native/).
#ifdef NDS_FUZZ_TARGET
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/copy_kernel.h"
#include "core/request.h"
#include "fuzz/napi_stub.h"

namespace {

// A request entry: mostly small integers around the image size (where the boundaries are),
// sometimes any double at all (NaN, infinities, fractions, 2^53 and beyond, negative zero).
double ReqValue(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: {
      uint64_t bits = in.ConsumeIntegral<uint64_t>();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    case 1:
      return static_cast<double>(in.ConsumeIntegral<int64_t>());
    case 2:
      return static_cast<double>(in.ConsumeIntegralInRange<int64_t>(0, int64_t{1} << 54));
    default:
      return static_cast<double>(in.ConsumeIntegralInRange<int>(-2, 80));
  }
}

// The npy reader's copy (npy_reader.cc CopyOut), including its Fortran-order axis exchange.
void CopyOut(const nds::SrcLayout& src, bool fortran, const nds::Window& w, const nds::Destination& d) {
  const int64_t n = src.itemsize;
  uint8_t* base = d.data + d.offset * n;
  if (!fortran) {
    nds::CopyWindow(src, w.y0, w.x0, w.c0, w.h(), w.w(), w.c(), base, d.sy * n, d.sx * n, d.sc * n);
    return;
  }
  nds::SrcLayout t = src;
  t.sy = src.sc;
  t.sc = src.sy;
  nds::CopyWindow(t, w.c0, w.x0, w.y0, w.c(), w.w(), w.h(), base, d.sc * n, d.sx * n, d.sy * n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const auto dtype = static_cast<nds::DType>(in.ConsumeIntegralInRange<int>(0, nds::kNumDTypes - 1));
  const int64_t n = nds::ItemSize(dtype);
  const int64_t H = in.ConsumeIntegralInRange<int64_t>(0, 48);
  const int64_t W = in.ConsumeIntegralInRange<int64_t>(0, 48);
  const int64_t C = in.ConsumeIntegralInRange<int64_t>(0, 6);
  const bool allowScaled = in.ConsumeBool();
  const bool fortran = in.ConsumeBool();
  const bool swap = n > 1 && in.ConsumeBool();

  // The destination: usually a typed array of the right type, sometimes another type or not a
  // typed array; its length in elements; a detached array has no data.
  nds_fuzz::FakeValue dstVal;
  dstVal.isTypedArray = in.ConsumeIntegralInRange<int>(0, 15) != 0;
  dstVal.type = in.ConsumeIntegralInRange<int>(0, 7) != 0
                    ? nds::TypedArrayType(dtype)
                    : static_cast<napi_typedarray_type>(in.ConsumeIntegralInRange<int>(0, napi_bigint64_array + 1));
  dstVal.length = in.ConsumeIntegralInRange<size_t>(0, 1 << 14);
  const bool detached = in.ConsumeIntegralInRange<int>(0, 31) == 0;
  // Exactly length * itemsize bytes on the heap: one element too far is an ASan report.
  std::vector<uint8_t> dstStore(detached ? 0 : dstVal.length * n);
  dstVal.data = detached ? nullptr : dstStore.data();
  if (detached) dstVal.length = 0;

  nds_fuzz::FakeValue reqVal;
  reqVal.isTypedArray = in.ConsumeIntegralInRange<int>(0, 31) != 0;
  reqVal.type = in.ConsumeIntegralInRange<int>(0, 15) != 0 ? napi_float64_array : napi_float32_array;
  std::vector<double> req(
      in.ConsumeIntegralInRange<int>(0, 15) != 0 ? nds::kReqLen : in.ConsumeIntegralInRange<int>(0, 2 * nds::kReqLen));
  for (double& v : req) v = ReqValue(in);
  reqVal.length = req.size();
  reqVal.data = req.empty() ? nullptr : req.data();

  nds::Window win{};
  nds::Destination dst;
  napi_env env = reinterpret_cast<napi_env>(&dstVal);  // any non-null pointer; never dereferenced
  bool ok = true;
  try {
    nds::ParseRequest(Napi::Env(env), Napi::Value(env, nds_fuzz::ToValue(&dstVal)),
                      Napi::Value(env, nds_fuzz::ToValue(&reqVal)), H, W, C, dtype, &win, &dst, allowScaled);
  } catch (const nds_fuzz::FakeJsError&) {
    ok = false;
  }
  if (ok) {
    // The window is inside the image.
    if (!(0 <= win.y0 && win.y0 <= win.y1 && win.y1 <= H && 0 <= win.x0 && win.x0 <= win.x1 && win.x1 <= W &&
          0 <= win.c0 && win.c0 <= win.c1 && win.c1 <= C))
      __builtin_trap();
    const bool nothing = dst.outH == 0 || dst.outW == 0 || win.c() == 0 || win.h() == 0 || win.w() == 0;
    if (!nothing) {
      std::vector<uint8_t> src(static_cast<size_t>(H * W * C * n));
      for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 131u);
      const bool scaled = dst.outH != win.h() || dst.outW != win.w();
      if (!scaled) {
        nds::SrcLayout layout{src.data(), 0, 0, 0, static_cast<int>(n), swap};
        if (fortran) {
          layout.sy = n;
          layout.sx = H * n;
          layout.sc = H * W * n;
        } else {
          layout.sc = n;
          layout.sx = C * n;
          layout.sy = W * C * n;
        }
        CopyOut(layout, fortran, win, dst);
      } else {
        uint8_t* base = dst.data + dst.offset * n;
        for (int64_t y = 0; y < dst.outH; ++y)
          for (int64_t x = 0; x < dst.outW; ++x)
            for (int64_t k = 0; k < win.c(); ++k)
              std::memset(base + (y * dst.sy + x * dst.sx + k * dst.sc) * n, 0x5a, static_cast<size_t>(n));
      }
    }
  }
  return 0;
}
#endif  // NDS_FUZZ_TARGET
