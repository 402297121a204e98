// Mask rasterization (see rasterize.h). Pure C++, any thread.
#include "labels/rasterize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nds {

namespace {

// A non-horizontal edge, its lower end first (GDAL's dy1 < dy2 order).
struct Edge {
  double ylo, yhi, xlo, xhi;
  int64_t first;  // the first row whose centre may cross it
};

// x clamped to [lo, hi] before an integer conversion (never UB, whatever x is).
inline int64_t ClampToInt(double x, int64_t lo, int64_t hi) {
  if (!(x >= static_cast<double>(lo))) return lo;  // also NaN
  if (x >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(x);
}

}  // namespace

void MaskCanvas::Span(int64_t y, int64_t x0, int64_t x1, int64_t value) {
  if (y < 0 || y >= h) return;
  x0 = std::max<int64_t>(x0, 0);
  x1 = std::min<int64_t>(x1, w - 1);
  if (x0 > x1) return;
  uint8_t* row = data + (y * w) * bytes;
  if (bytes == 1) {
    std::memset(row + x0, static_cast<int>(value), static_cast<size_t>(x1 - x0 + 1));
  } else if (bytes == 2) {
    const uint16_t v = static_cast<uint16_t>(value);
    for (int64_t x = x0; x <= x1; ++x) std::memcpy(row + x * 2, &v, 2);
  } else {
    const int32_t v = static_cast<int32_t>(value);
    for (int64_t x = x0; x <= x1; ++x) std::memcpy(row + x * 4, &v, 4);
  }
}

void FillPart(MaskCanvas& canvas, const std::vector<Ring>& rings, int64_t value) {
  const int64_t H = canvas.h, W = canvas.w;
  if (H <= 0 || W <= 0) return;
  thread_local std::vector<Edge> edges;  // reused by this thread's crops
  thread_local std::vector<const Edge*> active;
  thread_local std::vector<int64_t> xs;
  edges.clear();
  active.clear();
  for (const Ring& r : rings) {
    for (int64_t i = 0; i < r.n; ++i) {
      const int64_t a = i == 0 ? r.n - 1 : i - 1;  // GDAL's ind1 -> ind2: the closing edge first
      const double x1 = r.xy[2 * a], y1 = r.xy[2 * a + 1], x2 = r.xy[2 * i], y2 = r.xy[2 * i + 1];
      if (!std::isfinite(x1) || !std::isfinite(y1) || !std::isfinite(x2) || !std::isfinite(y2)) continue;
      if (y1 == y2) continue;  // horizontal: crosses no row centre (GDAL 3.6 burns nothing for it)
      Edge e = y1 < y2 ? Edge{y1, y2, x1, x2, 0} : Edge{y2, y1, x2, x1, 0};
      if (e.yhi <= 0.5 || e.ylo > static_cast<double>(H) - 0.5) continue;  // crosses no row centre of the canvas
      e.first = ClampToInt(std::floor(e.ylo - 0.5), 0, H);
      edges.push_back(e);
    }
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& p, const Edge& q) { return p.first < q.first; });
  size_t next = 0;
  for (int64_t y = edges.empty() ? H : edges[0].first; y < H && (next < edges.size() || !active.empty()); ++y) {
    const double dy = static_cast<double>(y) + 0.5;
    while (next < edges.size() && edges[next].first <= y) active.push_back(&edges[next++]);
    xs.clear();
    for (size_t k = 0; k < active.size();) {
      const Edge& e = *active[k];
      if (!(dy < e.yhi)) {  // past its upper end: retire
        active[k] = active.back();
        active.pop_back();
        continue;
      }
      if (dy >= e.ylo) {
        const double x = (dy - e.ylo) * (e.xhi - e.xlo) / (e.yhi - e.ylo) + e.xlo;
        if (x == x) xs.push_back(ClampToInt(std::floor(x + 0.5), -1, W + 1));
      }
      ++k;
    }
    std::sort(xs.begin(), xs.end());
    for (size_t k = 0; k + 1 < xs.size(); k += 2) {
      if (xs[k] <= W - 1 && xs[k + 1] > 0) canvas.Span(y, xs[k], xs[k + 1] - 1, value);
    }
  }
}

void FillRle(MaskCanvas& canvas, const RleShape& rle, int64_t value) {
  if (rle.runs <= 0 || rle.imgH <= 0 || rle.imgW <= 0) return;
  std::vector<double> ends(static_cast<size_t>(rle.runs));
  double sum = 0;
  for (int64_t k = 0; k < rle.runs; ++k) ends[k] = sum += rle.counts[k];
  const int64_t c0 = std::max<int64_t>(rle.box[0], 0), r0 = std::max<int64_t>(rle.box[1], 0);
  const int64_t c1 = std::min<int64_t>(rle.box[2], canvas.w), r1 = std::min<int64_t>(rle.box[3], canvas.h);
  const double* t = rle.t;
  for (int64_t i = r0; i < r1; ++i) {
    const double cy = static_cast<double>(i) + 0.5;
    int64_t runStart = -1;
    for (int64_t j = c0; j <= c1; ++j) {
      bool on = false;
      if (j < c1) {
        const double cx = static_cast<double>(j) + 0.5;
        const double x = std::floor(t[0] * cx + t[1] * cy + t[2]);
        const double y = std::floor(t[3] * cx + t[4] * cy + t[5]);
        if (x >= 0 && y >= 0 && x < static_cast<double>(rle.imgW) && y < static_cast<double>(rle.imgH)) {
          const double idx = x * static_cast<double>(rle.imgH) + y;
          const size_t k = static_cast<size_t>(std::upper_bound(ends.begin(), ends.end(), idx) - ends.begin());
          on = k % 2 == 1;
        }
      }
      if (on && runStart < 0) runStart = j;
      if (!on && runStart >= 0) {
        canvas.Span(i, runStart, j - 1, value);
        runStart = -1;
      }
    }
  }
}

}  // namespace nds
