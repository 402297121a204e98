// ParseItems (see batch_items.h). JS thread.
#include "batch/batch_items.h"

#include <cmath>
#include <string>

#include "batch/orient.h"
#include "core/args.h"
#include "core/errors.h"

namespace nds {

namespace {

inline bool IntIn(double v, double lo, double hi) {
  return v >= lo && v <= hi && v == static_cast<double>(static_cast<int64_t>(v));
}

// A Float64Array option of whole records of `unit` doubles (parts and bands may be missing).
const double* Doubles(Napi::Env env, const Napi::Object& o, const char* key, size_t unit, size_t* count) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && std::string(key) != "items") {
    *count = 0;
    return nullptr;
  }
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      v.As<Napi::TypedArray>().ElementLength() % unit != 0) {
    ThrowArg(env, std::string("loadBatch: options.") + key + " must be a Float64Array of whole records");
  }
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  *count = a.ElementLength() / unit;
  return a.Data();
}

[[noreturn]] void BadPart(Napi::Env env, size_t p, const char* why) {
  ThrowJs(env, ErrorInfo{"ERR_REGION", "loadBatch: part " + std::to_string(p) + " " + why, "", 0, ""});
}

void ParsePart(Napi::Env env, const double* r, size_t p, const BatchJob& job, size_t nbands, const double* bands,
               FusedPart* out) {
  if (!IntIn(r[kPartSrc], 0, static_cast<double>(job.sources.size()) - 1)) BadPart(env, p, "has a bad source index");
  const BatchSource& s = job.sources[static_cast<size_t>(r[kPartSrc])];
  const bool win = IntIn(r[kPartY0], 0, s.H - 1) && IntIn(r[kPartY1], r[kPartY0] + 1, s.H) &&
                   IntIn(r[kPartX0], 0, s.W - 1) && IntIn(r[kPartX1], r[kPartX0] + 1, s.W) &&
                   IntIn(r[kPartB0], 0, s.C - 1) && IntIn(r[kPartB1], r[kPartB0] + 1, s.C);
  if (!win) BadPart(env, p, "has a window outside its file");
  const double h = r[kPartY1] - r[kPartY0], w = r[kPartX1] - r[kPartX0];
  if (!IntIn(r[kPartReadH], 1, h) || !IntIn(r[kPartReadW], 1, w) ||
      (s.kind == SrcKind::kNpy && (r[kPartReadH] != h || r[kPartReadW] != w))) {
    BadPart(env, p, "has a read size outside 1 .. its window (npy: equal to it)");
  }
  for (int k = kPartM0; k <= kPartM5; ++k) {
    if (!std::isfinite(r[k]) || std::fabs(r[k]) > 1e15) BadPart(env, p, "has a transform that is not finite");
  }
  const double nbr = r[kPartB1] - r[kPartB0];
  if (!IntIn(r[kPartInterp], 0, 1) || !IntIn(r[kPartRound], 0, 2) || !IntIn(r[kPartDequant], 0, 2) ||
      !IntIn(r[kPartNB], 1, static_cast<double>(job.C)) ||
      !IntIn(r[kPartCh0], 0, static_cast<double>(job.C) - r[kPartNB]) ||
      !IntIn(r[kPartBandsAt], 0, static_cast<double>(nbands) - r[kPartNB])) {
    BadPart(env, p, "has bad interpolation, rounding, dequantization, channels or bands");
  }
  for (int k = kPartQMin; k <= kPartNodata; ++k) {
    if (!std::isfinite(r[k])) BadPart(env, p, "has a dequantization that is not finite");
  }
  for (int a = 0; a < 2; ++a) {
    if (!(r[kPartAASigmaX + a] >= 0 && r[kPartAASigmaX + a] <= 1e6) || !IntIn(r[kPartAARadiusX + a], 0, 4096)) {
      BadPart(env, p, "has a bad antialiasing sigma or radius");
    }
  }
  FusedPart& f = *out;
  f.src = static_cast<int>(r[kPartSrc]);
  f.y0 = static_cast<int64_t>(r[kPartY0]), f.y1 = static_cast<int64_t>(r[kPartY1]);
  f.x0 = static_cast<int64_t>(r[kPartX0]), f.x1 = static_cast<int64_t>(r[kPartX1]);
  f.b0 = static_cast<int64_t>(r[kPartB0]), f.b1 = static_cast<int64_t>(r[kPartB1]);
  f.readH = static_cast<int64_t>(r[kPartReadH]), f.readW = static_cast<int64_t>(r[kPartReadW]);
  for (int k = 0; k < 6; ++k) f.m[k] = r[kPartM0 + k];
  f.interp = static_cast<int>(r[kPartInterp]);
  f.round = static_cast<int>(r[kPartRound]);
  f.ch0 = static_cast<int64_t>(r[kPartCh0]), f.nb = static_cast<int64_t>(r[kPartNB]);
  f.bandsAt = static_cast<int64_t>(r[kPartBandsAt]);
  f.dequant = static_cast<int>(r[kPartDequant]);
  f.qmin = r[kPartQMin], f.qscale = r[kPartQScale], f.omin = r[kPartOMin], f.nodata = r[kPartNodata];
  for (int a = 0; a < 2; ++a) {
    f.aaSigma[a] = r[kPartAASigmaX + a];
    f.aaRadius[a] = static_cast<int64_t>(r[kPartAARadiusX + a]);
  }
  for (int64_t k = 0; k < f.nb; ++k) {
    if (!IntIn(bands[f.bandsAt + k], 0, nbr - 1)) BadPart(env, p, "writes a band outside its window");
  }
}

}  // namespace

void ParseItems(Napi::Env env, const Napi::Object& o, BatchJob& j, bool uses8[2]) {
  size_t nitems = 0, nparts = 0, nbands = 0;
  const double* r = Doubles(env, o, "items", kItemLen, &nitems);
  const double* pr = Doubles(env, o, "parts", kPartLen, &nparts);
  const double* br = Doubles(env, o, "bands", 1, &nbands);
  if (nitems != static_cast<size_t>(j.n)) ThrowArg(env, "loadBatch: options.items must hold n items");
  auto mark = [&](DType d) {
    if (d == DType::U8) uses8[0] = true;
    if (d == DType::I8) uses8[1] = true;
  };
  j.parts.resize(nparts);
  for (size_t p = 0; p < nparts; ++p) {
    ParsePart(env, pr + p * kPartLen, p, j, nbands, br, &j.parts[p]);
    mark(j.sources[j.parts[p].src].dtype);
  }
  j.bands.resize(nbands);
  for (size_t b = 0; b < nbands; ++b) j.bands[b] = static_cast<int64_t>(br[b]);  // checked per part above
  const double C = static_cast<double>(j.C);
  j.items.resize(static_cast<size_t>(j.n));
  for (int64_t i = 0; i < j.n; ++i, r += kItemLen) {
    BatchItem& it = j.items[i];
    if (!IntIn(r[kItemKind], -1, 1)) ThrowArg(env, "loadBatch: bad item kind");
    it.kind = static_cast<int>(r[kItemKind]);
    it.fill = r[kItemFill];
    if (std::isnan(it.fill)) ThrowArg(env, "loadBatch: fill must be a number");
    if (!IntIn(r[kItemOrient], 0, kOrientCodes - 1)) ThrowArg(env, "loadBatch: bad orientation code");
    it.orient = static_cast<int>(r[kItemOrient]);
    if (it.kind == kFused) {
      if (it.orient != 0) ThrowArg(env, "loadBatch: a fused item is turned by its parts' affines (orientation 0)");
      if (!IntIn(r[kItemPart0], 0, static_cast<double>(nparts)) ||
          !IntIn(r[kItemNParts], 0, static_cast<double>(nparts) - r[kItemPart0])) {
        ThrowArg(env, "loadBatch: a fused item's parts are outside options.parts");
      }
      it.part0 = static_cast<int64_t>(r[kItemPart0]), it.nparts = static_cast<int64_t>(r[kItemNParts]);
      continue;
    }
    if (it.kind == kNone) continue;
    if (!IntIn(r[kItemSrc], 0, static_cast<double>(j.sources.size()) - 1)) ThrowArg(env, "loadBatch: bad source index");
    it.src = static_cast<int>(r[kItemSrc]);
    const BatchSource& s = j.sources[it.src];
    const double* w = r + kItemY0;  // y0 y1 x0 x1 c0 c1 oy ox ih iw
    // oy .. iw are in the crop as read (S): the slot transposed by an odd number of quarter turns.
    // The output may be larger than the window (an enlarged read: nearest).
    int64_t sh = 0, sw = 0;
    ReadDims(it.orient, j.H, j.W, &sh, &sw);
    const double SH = static_cast<double>(sh), SW = static_cast<double>(sw);
    const bool okWin = IntIn(w[0], 0, s.H) && IntIn(w[1], w[0], s.H) && IntIn(w[2], 0, s.W) && IntIn(w[3], w[2], s.W) &&
                       IntIn(w[4], 0, s.C) && IntIn(w[5], w[4], s.C) && w[5] - w[4] == C && IntIn(w[6], 0, SH) &&
                       IntIn(w[7], 0, SW) && IntIn(w[8], 0, SH - w[6]) && IntIn(w[9], 0, SW - w[7]) &&
                       (w[8] == 0) == (w[1] == w[0]) && (w[9] == 0) == (w[3] == w[2]);
    if (!okWin) ThrowJs(env, ErrorInfo{"ERR_REGION", "loadBatch: item window is outside its image or slot", "", 0, ""});
    it.iy0 = static_cast<int64_t>(w[0]), it.iy1 = static_cast<int64_t>(w[1]);
    it.ix0 = static_cast<int64_t>(w[2]), it.ix1 = static_cast<int64_t>(w[3]);
    it.c0 = static_cast<int64_t>(w[4]), it.c1 = static_cast<int64_t>(w[5]);
    it.oy = static_cast<int64_t>(w[6]), it.ox = static_cast<int64_t>(w[7]);
    it.ih = static_cast<int64_t>(w[8]), it.iw = static_cast<int64_t>(w[9]);
    mark(s.dtype);
  }
}

}  // namespace nds
