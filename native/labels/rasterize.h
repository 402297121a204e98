// Mask rasterization of labeled batches: polygons and COCO RLEs painted into an H x W canvas of
// 1-, 2- or 4-byte integers. Pure C++, any thread; the canvas is the caller's.
//
// Polygons follow GDAL's rasterize (llrasterize.cpp GDALdllImageFilledPolygon, the default, not
// "all touched"): a pixel is inside when its centre is. Row y is scanned at y + 0.5; an edge
// counts when min(y1, y2) <= y + 0.5 < max(y1, y2) and gives the column floor(x + 0.5) of its
// crossing; the sorted crossings pair into spans [a, b - 1]; horizontal edges cross nothing (so
// a row whose centre lies on a polygon's bottom edge is outside, on its top edge inside, as GDAL
// 3.6 burns them: test/labels-batch.test.ts compares with it). The rings of one part are filled together (even-odd:
// later rings are holes); parts are painted one after the other. Coordinates are the canvas's pixel edges. Hostile
// input cannot overrun the canvas: non-finite coordinates drop their edges, crossings are clamped before conversion,
// and rows outside the canvas are never visited; the caller bounds the vertex count (kMaxMaskVertices).
#pragma once
#include <cstdint>
#include <vector>

namespace nds {

// Polygon vertices plus RLE runs one mask job may hold in all (lib/labels/masks.ts checks first;
// ERR_TOO_LARGE).
constexpr int64_t kMaxMaskVertices = int64_t{1} << 24;

struct MaskCanvas {
  uint8_t* data = nullptr;
  int64_t h = 0, w = 0;
  int bytes = 1;                                                // 1, 2 or 4 (int32)
  void Span(int64_t y, int64_t x0, int64_t x1, int64_t value);  // x0..x1 inclusive, clipped
};

// One ring: `n` points at xy[0..2n).
struct Ring {
  const double* xy = nullptr;
  int64_t n = 0;
};

// Paints `value` where the part (its rings, even-odd) covers pixel centres.
void FillPart(MaskCanvas& canvas, const std::vector<Ring>& rings, int64_t value);

// A COCO RLE of an image of imgH x imgW (column-major runs from 0s), sampled at the canvas's pixel
// centres mapped into the image by the affine t (x = t[0] * cx + t[1] * cy + t[2], y = t[3] * cx
// + t[4] * cy + t[5]): a pixel takes `value` when the image pixel under its centre is a 1. Only
// canvas pixels in [box[0], box[2]) x [box[1], box[3]) (columns, rows) are visited.
struct RleShape {
  int64_t imgH = 0, imgW = 0;
  double t[6] = {1, 0, 0, 0, 1, 0};
  const double* counts = nullptr;
  int64_t runs = 0;
  int64_t box[4] = {0, 0, 0, 0};
};
void FillRle(MaskCanvas& canvas, const RleShape& rle, int64_t value);

}  // namespace nds
