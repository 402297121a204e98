// libFuzzer target: the mask rasterizer (labels/rasterize.cc FillPart, FillRle) over hostile
// geometry: any doubles (NaN, infinities, 1e308, denormals, vertices on pixel centres), any ring
// sizes, canvases of 1 to 64 rows and columns of 1, 2 or 4 bytes, RLE transforms and boxes far
// outside the canvas. Its promise: it never writes outside the canvas (the canvas is a heap
// buffer of exactly h * w * bytes, so AddressSanitizer reports one byte too far) and never hangs.
// Built only by CMake with -DNDS_FUZZ=ON (scripts/fuzz.sh); see native/fuzz/README.md.
#ifdef NDS_FUZZ_TARGET
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "labels/rasterize.h"

namespace {

double AnyDouble(FuzzedDataProvider& in, double scale) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: {
      uint64_t bits = in.ConsumeIntegral<uint64_t>();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    case 1:
      return in.ConsumeIntegralInRange<int>(-4, 70) + 0.5;  // on a pixel centre
    default:
      return in.ConsumeFloatingPointInRange<double>(-scale, scale);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int64_t h = in.ConsumeIntegralInRange<int64_t>(1, 64), w = in.ConsumeIntegralInRange<int64_t>(1, 64);
  const int bytes = in.ConsumeBool() ? 1 : in.ConsumeBool() ? 2 : 4;
  std::vector<uint8_t> buf(static_cast<size_t>(h * w * bytes));
  nds::MaskCanvas canvas{buf.data(), h, w, bytes};
  const double scale = in.ConsumeBool() ? 80.0 : 1e300;
  std::vector<std::vector<double>> store;
  std::vector<nds::Ring> rings;
  const int nRings = in.ConsumeIntegralInRange<int>(0, 4);
  for (int r = 0; r < nRings; ++r) {
    const int n = in.ConsumeIntegralInRange<int>(0, 40);
    store.emplace_back();
    for (int k = 0; k < 2 * n; ++k) store.back().push_back(AnyDouble(in, scale));
  }
  for (const std::vector<double>& xy : store)
    rings.push_back(nds::Ring{xy.data(), static_cast<int64_t>(xy.size() / 2)});
  nds::FillPart(canvas, rings, in.ConsumeIntegral<int32_t>());
  // An RLE of a small image sampled through any transform and box.
  nds::RleShape rle;
  rle.imgH = in.ConsumeIntegralInRange<int64_t>(1, 50);
  rle.imgW = in.ConsumeIntegralInRange<int64_t>(1, 50);
  for (double& t : rle.t) t = in.ConsumeBool() ? AnyDouble(in, 4) : 1.0;
  for (int64_t& b : rle.box) b = in.ConsumeIntegralInRange<int64_t>(-100, 200);
  std::vector<double> counts;
  int64_t left = rle.imgH * rle.imgW;
  while (left > 0 && in.remaining_bytes() > 0) {
    const int64_t c = in.ConsumeIntegralInRange<int64_t>(0, left);
    counts.push_back(static_cast<double>(c));
    left -= c;
  }
  rle.counts = counts.data();
  rle.runs = static_cast<int64_t>(counts.size());
  nds::FillRle(canvas, rle, 7);
  return 0;
}
#endif  // NDS_FUZZ_TARGET
