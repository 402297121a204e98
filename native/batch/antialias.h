// The antialiasing prefilter of a downsampled linear read, as kwcoco's delayed_image applies it
// (kwimage.warp_affine with antialias): before a crop is resampled to fewer pixels, it is blurred
// by a separable Gaussian whose sigma grows with the reduction, borders reflected without
// repeating the edge pixel (OpenCV's BORDER_DEFAULT). lib/frames/fused.ts picks sigma and radius
// per axis (kwimage's _gauss_params); this file only filters. Pure C++, any thread.
#pragma once
#include <cstdint>

namespace nds {

// Filters the h x w x nb (HWC, float64) block `in` into `out` (same layout): along x with
// sigma[0] over 2 * radius[0] + 1 taps, then along y with sigma[1] and radius[1] (an axis with
// sigma 0 is copied). NaN spreads over the taps it touches.
void GaussianBlur(const double* in, int64_t h, int64_t w, int64_t nb, const double sigma[2], const int64_t radius[2],
                  double* out);

}  // namespace nds
