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
// The addon builds leave native/fuzz/ out (CMakeLists.txt, binding.gyp); the NDS_FUZZ_TARGET
// guard keeps this file an empty translation unit in any other build all the same.
#ifdef NDS_FUZZ_TARGET
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/copy_kernel.h"
#include "core/request.h"
#include "fuzz/napi_stub.h"

namespace {

// A request entry that is usually `v` (built to be valid, or off by one), sometimes any double at
// all: a NaN, an infinity, a fraction, 2^53 and beyond, negative zero, a random bit pattern.
double Mangle(FuzzedDataProvider& in, int64_t v) {
  switch (in.ConsumeIntegralInRange<int>(0, 31)) {
    case 0: {
      uint64_t bits = in.ConsumeIntegral<uint64_t>();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    case 1: {
      static const double odd[] = {-0.0,
                                   0.5,
                                   -1,
                                   9007199254740991.0,
                                   9007199254740992.0,
                                   1e300,
                                   -1e300,
                                   __builtin_inf(),
                                   -__builtin_inf(),
                                   __builtin_nan("")};
      return odd[in.ConsumeIntegralInRange<size_t>(0, sizeof odd / sizeof odd[0] - 1)];
    }
    case 2:
      return static_cast<double>(v + in.ConsumeIntegralInRange<int64_t>(-2, 2));
    case 3:
      return static_cast<double>(in.ConsumeIntegral<int64_t>());
    default:
      return static_cast<double>(v);
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

  // The request is built to be (nearly) valid most of the time, so that the copy behind the check
  // runs often and the boundaries (window edges, the last element of the destination) are probed.
  const int64_t y0 = in.ConsumeIntegralInRange<int64_t>(0, H), y1 = in.ConsumeIntegralInRange<int64_t>(y0, H);
  const int64_t x0 = in.ConsumeIntegralInRange<int64_t>(0, W), x1 = in.ConsumeIntegralInRange<int64_t>(x0, W);
  const int64_t c0 = in.ConsumeIntegralInRange<int64_t>(0, C), c1 = in.ConsumeIntegralInRange<int64_t>(c0, C);
  const int64_t h = y1 - y0, w = x1 - x0, c = c1 - c0;
  int64_t outH = h, outW = w;
  if (allowScaled && in.ConsumeBool()) {
    outH = h == 0 ? 0 : in.ConsumeIntegralInRange<int64_t>(1, h);
    outW = w == 0 ? 0 : in.ConsumeIntegralInRange<int64_t>(1, w);
  }
  int64_t sy, sx, sc;
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:  // contiguous HWC
      sc = 1, sx = c, sy = outW * c;
      break;
    case 1:  // band-planar
      sx = 1, sy = outW, sc = outH * outW;
      break;
    case 2:  // a sub-array of a larger HWC array
      sc = 1, sx = c + in.ConsumeIntegralInRange<int64_t>(0, 3),
      sy = sx * (outW + in.ConsumeIntegralInRange<int64_t>(0, 5));
      break;
    default:  // anything small (0 included: every element on one)
      sy = in.ConsumeIntegralInRange<int64_t>(0, 300), sx = in.ConsumeIntegralInRange<int64_t>(0, 40),
      sc = in.ConsumeIntegralInRange<int64_t>(0, 8);
  }
  const int64_t offset = in.ConsumeIntegralInRange<int64_t>(0, 8);
  const int64_t want[nds::kReqLen] = {y0, y1, x0, x1, c0, c1, offset, sy, sx, sc, outH, outW};

  nds_fuzz::FakeValue reqVal;
  reqVal.isTypedArray = in.ConsumeIntegralInRange<int>(0, 63) != 0;
  reqVal.type = in.ConsumeIntegralInRange<int>(0, 63) != 0 ? napi_float64_array : napi_float32_array;
  std::vector<double> req(in.ConsumeIntegralInRange<int>(0, 63) != 0 ? nds::kReqLen
                                                                     : in.ConsumeIntegralInRange<int>(0, nds::kReqLen));
  for (size_t i = 0; i < req.size(); ++i) req[i] = Mangle(in, want[i]);
  reqVal.length = req.size();
  reqVal.data = req.empty() ? nullptr : req.data();

  // The destination: usually a typed array of the right type whose length is exactly what the
  // intended request needs, give or take a few elements; sometimes another type, not a typed
  // array, any length, or detached (no data, length 0).
  const int64_t needed =
      offset + (outH > 0 ? outH - 1 : 0) * sy + (outW > 0 ? outW - 1 : 0) * sx + (c > 0 ? c - 1 : 0) * sc + 1;
  nds_fuzz::FakeValue dstVal;
  dstVal.isTypedArray = in.ConsumeIntegralInRange<int>(0, 63) != 0;
  dstVal.type = in.ConsumeIntegralInRange<int>(0, 31) != 0
                    ? nds::TypedArrayType(dtype)
                    : static_cast<napi_typedarray_type>(in.ConsumeIntegralInRange<int>(0, napi_bigint64_array + 1));
  dstVal.length = in.ConsumeIntegralInRange<int>(0, 15) != 0
                      ? static_cast<size_t>(std::max<int64_t>(0, needed + in.ConsumeIntegralInRange<int64_t>(-2, 2)))
                      : in.ConsumeIntegralInRange<size_t>(0, 1 << 14);
  const bool detached = in.ConsumeIntegralInRange<int>(0, 63) == 0;
  if (detached) dstVal.length = 0;
  // Exactly length * itemsize bytes on the heap: one element too far is an ASan report.
  std::vector<uint8_t> dstStore(dstVal.length * n);
  dstVal.data = dstStore.empty() ? nullptr : dstStore.data();

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
