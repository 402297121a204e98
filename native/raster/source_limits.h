// The bounds a raster source must stay within before anything is allocated or decoded for it:
// every file GDAL will touch is a regular file, and the declared size is plausible for the bytes
// on disk (decompression bombs). Pure C++, any thread; the caller owns the dataset for the call.
#pragma once
#include <gdal.h>

#include <cstdint>
#include <string>

#include "raster/source_facts.h"

namespace nds {

// The default of setPixelLimit(): 2^34 pixels (131072 x 131072), far above any real scene.
constexpr int64_t kDefaultPixelLimit = int64_t{1} << 34;
// Decoded sizes up to this many bytes are never refused by the ratio rule (an 8192x8192 RGB
// PNG is 192 MiB).
constexpr int64_t kRatioFloorBytes = int64_t{256} << 20;
// Above the floor, the decoded bytes of the blocks a file has data for may be at most
// MaxDecodeRatio(facts) times the bytes of its files: the codec's own ceiling with room to
// spare. DEFLATE (PNG, TIFF) cannot exceed 1032:1, LZW measures ~150:1 on zero tiles, a JPEG
// needs bits for every 8x8 block (2048 for all three); PACKBITS is at most 64:1 (256); an
// uncompressed TIFF is 1:1 (16); ZSTD, LZMA, LERC, WEBP, VRT and every other format 65536 (ZSTD
// of zeros measured 7800:1 with 512-pixel tiles; its RLE blocks cap it near 32000:1).
int64_t MaxDecodeRatio(const SourceFacts& f);

// Checks every file of the opened dataset `ds` (GDALGetFileList: a VRT's sources, external
// overviews and masks, recursively through VRTs) with CheckSourceFile, so a FIFO or device that
// GDAL would open lazily is refused now (ERR_NOT_A_FILE, naming it). Returns their total size.
int64_t CheckDatasetFiles(GDALDatasetH ds, const std::string& path);

// One block (a tile, a strip, a JPEG/PNG scanline band, a VRT block: whatever GDALGetBlockSize
// says GDAL and libtiff decode at once) may decode to at most this many bytes whatever its share
// of the image (a 4096x4096 RGBA float32 tile is 256 MiB)...
constexpr int64_t kBlockFloorBytes = int64_t{64} << 20;
// ... and above it, to at most this many times the bytes of its part inside the image (a tile
// larger than the image is mostly padding that is decoded all the same: a 400x300 image with
// 65520x65520 tiles decodes 4 GiB per tile for 120000 pixels).
constexpr int64_t kMaxBlockPadding = 4;

// Throws ERR_TOO_LARGE when the source declares more than `pixelLimit` pixels (H x W), or when
// its declared decoded bytes exceed kRatioFloorBytes and MaxDecodeRatio x `fileBytes`. For a
// tiled or striped GeoTIFF only the blocks present in the file count (sparse blocks cost
// nothing to fill); every other format (JPEG, PNG, VRT, ...) counts the whole image.
// Then the cost of one block, for the full image and every overview level (each has its own
// blocks: a TIFF's overview IFDs their own tile size): a block of more than `pixelLimit` pixels,
// or of more than kBlockFloorBytes and more than kMaxBlockPadding times its in-image part, is
// ERR_TOO_LARGE too, so a read of a few pixels never decodes gigabytes.
void CheckDecodeCost(GDALDatasetH ds, const std::string& path, const SourceFacts& f, int64_t fileBytes,
                     int64_t pixelLimit);

}  // namespace nds
