// The multi-file sampler: a fused item (batch_layout.h kFused) is one crop of an image whose
// channels live in several files; each part is a window of one file, read (an npy mapping as it
// is, a raster window at its read size: from COG overviews when reduced) and sampled through its
// affine into its channels of the slot:
// - nearest: output pixel (i, j) takes the crop pixel containing the point M (j + 0.5, i + 0.5);
//   points outside the crop keep the fill. Values are never invented (label images stay valid).
//   A point within 1e-9 pixel of a pixel edge counts as on it (so on the pixel to its right or
//   below), whatever the rounding of M: ties (even reductions put samples on pixel edges) resolve
//   alike on every path and orientation.
// - linear: bilinear between crop pixel centres; points outside [0, w] x [0, h] keep the fill,
//   points within half a pixel of the border clamp to the edge pixels. A separable integer shift
//   at unit scale, flipped or not, hits pixel centres and is served as nearest (the same values).
// - an affine that swaps the axes (an orientation with a quarter turn, folded into the part's
//   affine by lib/frames/fused.ts) is sampled through the crop's transposed view, where it is
//   separable: the same paths, the same values as any separable affine. With antialiasing
//   (a part whose read downsamples) the crop is first blurred by a separable Gaussian
//   (antialias.h), as kwcoco's delayed_image does for linear warps.
// - dequantization: (x - qmin) * qscale + omin as float32, nodata -> NaN, before anything else.
// - a linear value is stored as the fused dtype would store it (float32, or Math.round for an
//   integer dtype), then converted by the batch's conversion like any other pixel.
// These are the semantics of lib/frames/fused.ts's plan and of the TypeScript reference the tests
// compare with (test/_fused-reference.ts). Pure C++, any thread.
#pragma once
#include "batch/batch_job.h"
#include "batch/batch_slot.h"

namespace nds {

// Writes fused item `it` of `job` into `v`: the fill where no part writes, then every part.
// Throws the CodedError of a failed read (ERR_GDAL_READ, ERR_SOURCE_CHANGED, ERR_CLOSED, ...).
void WriteFused(const BatchJob& job, const BatchItem& it, const SlotView& v);

}  // namespace nds
