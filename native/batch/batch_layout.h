// The layout of loadBatch's work list, shared with TypeScript: lib/native.ts `ITEM` and `PART`
// hold the same indices (change both together). A batch is n items (crops), each `kItemLen`
// doubles of `items`; an item of kind kFused also names a range of `parts` (`kPartLen` doubles
// each, one per file it samples) and each part a range of `bands` (the file bands it writes).
// lib/frames/batch-items.ts writes them; ParseItems (batch_items.cc) checks them on the JS thread
// and turns them into the structs below, which pool threads read.
#pragma once
#include <cstdint>

namespace nds {

// What an item is: kNone (nothing to read: it already failed in TypeScript, its slot is filled),
// kWindow (one file, read by the readers' rule: the in-image window iy0..ix1 at output size ih x iw
// placed at (oy, ox) of the slot, or of the crop as read when it is turned (kItemOrient); an
// output of another size is a nearest read: GDAL's (from raster overviews when smaller), Nearest()
// of batch_crop.cc from npy), kFused (several files resampled into the slot: parts).
enum ItemKind : int { kNone = -1, kWindow = 0, kFused = 1 };

enum Item : int {
  kItemKind = 0,
  kItemSrc,  // kWindow: index into sources
  kItemY0,   // kWindow: the in-image window, channels [c0, c1)
  kItemY1,
  kItemX0,
  kItemX1,
  kItemC0,
  kItemC1,
  kItemOY,  // kWindow: where that window lands in the slot, and its size there
  kItemOX,
  kItemIH,
  kItemIW,
  kItemFill,   // the raw fill value (of the image's dtype), converted like any pixel
  kItemPart0,  // kFused: its parts are parts[part0 .. part0 + nparts)
  kItemNParts,
  // kWindow: how the crop is turned as it is written (batch/orient.h code 0..15; 0: as read). The
  // window fields above (OY .. IW) are then in the crop as read, S: the slot transposed for an
  // odd number of quarter turns. A kFused item has 0 here: its orientation is in its parts'
  // affines (lib/frames/fused.ts).
  kItemOrient,
  kItemLen
};

// One file of a fused item: its window (rows y0..y1, columns x0..x1, bands b0..b1) read at
// readH x readW (smaller than the window: a reduced-resolution read, raster only), and the affine
// m (a, b, tx, c, d, ty) from output pixel coordinates (pixel (i, j) centred on (j + 0.5, i + 0.5))
// to coordinates in that crop as read. The bands written are bands[bandsAt .. bandsAt + nb) (crop
// band indices, relative to b0), into output channels ch0 .. ch0 + nb.
enum Part : int {
  kPartSrc = 0,
  kPartY0,
  kPartY1,
  kPartX0,
  kPartX1,
  kPartB0,
  kPartB1,
  kPartReadH,
  kPartReadW,
  kPartM0,  // a, b, tx, c, d, ty
  kPartM1,
  kPartM2,
  kPartM3,
  kPartM4,
  kPartM5,
  kPartInterp,  // 0 nearest (the crop pixel containing the point), 1 linear (between pixel centres)
  kPartRound,   // how a linear value is stored in the fused dtype: 0 as is (float64), 1 float32, 2 integer
  kPartCh0,
  kPartNB,
  kPartBandsAt,
  kPartDequant,  // 0 none; 1 (x - qmin) * qscale + omin, as float32; 2 the same, and nodata -> NaN
  kPartQMin,
  kPartQScale,
  kPartOMin,
  kPartNodata,
  kPartAASigmaX,  // antialiasing (linear only): Gaussian sigma of the crop's prefilter (0: none)
  kPartAASigmaY,
  kPartAARadiusX,  // and its radius in crop pixels (the kernel has 2 r + 1 taps)
  kPartAARadiusY,
  kPartLen
};

enum Interp : int { kNearest = 0, kLinear = 1 };
enum Round : int { kRoundNone = 0, kRoundF32 = 1, kRoundInt = 2 };
enum Dequant : int { kDequantNone = 0, kDequantOn = 1, kDequantNodata = 2 };

// A parsed item (JS thread), read by pool threads. See Item.
struct BatchItem {
  int kind = kNone;
  int src = -1;
  int64_t iy0 = 0, iy1 = 0, ix0 = 0, ix1 = 0, c0 = 0, c1 = 0, oy = 0, ox = 0, ih = 0, iw = 0;
  double fill = 0;
  int64_t part0 = 0, nparts = 0;
  int orient = 0;
};

// A parsed part (JS thread), read by pool threads. See Part.
struct FusedPart {
  int src = 0;
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0, b0 = 0, b1 = 0, readH = 0, readW = 0;
  double m[6] = {1, 0, 0, 0, 1, 0};
  int interp = kNearest;
  int round = kRoundNone;
  int64_t ch0 = 0, nb = 0, bandsAt = 0;
  int dequant = kDequantNone;
  double qmin = 0, qscale = 1, omin = 0, nodata = 0;
  double aaSigma[2] = {0, 0};  // x, y
  int64_t aaRadius[2] = {0, 0};
};

}  // namespace nds
