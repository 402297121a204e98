// RasterSource: one GDAL-readable raster file, its metadata, its pool of dataset handles and
// the read paths (tile cache for tiled GeoTIFFs, direct RasterIO otherwise). Pure C++: every
// method may run on the JS thread or a libuv pool thread; none touches a JS value. Shared by a
// JS RasterReader and its in-flight async jobs through shared_ptr, so it outlives close().
#pragma once
#include <gdal.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/request.h"
#include "raster/dataset_pool.h"
#include "raster/raster_env.h"
#include "raster/source_facts.h"
#include "raster/tiff_tiles.h"
#include "raster/tile_cache.h"

namespace nds {

// A source's facts plus what RasterSource derives from them.
struct RasterMeta : SourceFacts {
  bool isCog = false;
  bool libtiff = false;  // tiles are decoded by libtiff directly (TiffTileReader)
  // The identity a cache entry carries (dataset metadata NDSAMPLER_ENTRY / NDSAMPLER_SRC, written
  // by writeCog for cache entries: lib/cache/entry.ts); empty for other files.
  std::string identEntry, identSrc;
};

class RasterSource {
 public:
  // Any thread. Checks the path, opens the first handle, reads the metadata and checks the
  // declared size against env.pixelLimit and the file size (raster/source_limits.h). Throws
  // CodedError (ERR_SOURCE_MISSING, ERR_NOT_A_FILE, ERR_GDAL_OPEN, ERR_GDAL_UNSUPPORTED,
  // ERR_TOO_LARGE).
  RasterSource(std::string path, int maxHandles, const RasterEnv& env);
  ~RasterSource();
  RasterSource(const RasterSource&) = delete;
  RasterSource& operator=(const RasterSource&) = delete;

  const RasterMeta& meta() const { return meta_; }

  // Any thread. Reads window `win` at the output size dst.outH x dst.outW into `dst` (already
  // checked by ParseRequest). A full-size read of a tiled GeoTIFF is assembled from cached
  // tiles; a smaller output is a nearest-neighbour RasterIO, which GDAL serves from the best
  // overview. Throws ERR_CLOSED after Close(), ERR_GDAL_READ on decode failures.
  void Read(const Window& win, const Destination& dst);
  // Any thread. The same without the tile cache (whole-image conversions).
  void ReadDirect(const Window& win, const Destination& dst);

  // Any thread. At least `n` handles may be open at once (HandlePool::Reserve).
  void ReserveHandles(int n) { pool_.Reserve(n); }

  // Any thread. The full-resolution tiles (tx, ty) window `win` needs that the decoded-tile cache
  // does not hold (empty for untiled sources): what a prefetch of remote bytes must fetch.
  std::vector<std::pair<int, int>> MissingTiles(const Window& win);
  // JS thread, before any read: keeps `p` alive as long as this source (the remote file its
  // handles read through: raster/published_vsi.h).
  void KeepAlive(std::shared_ptr<void> p) { keep_ = std::move(p); }
  // JS thread, before any read: a tiled read first hands the tiles it is missing (two or more)
  // to `fetch`, which fetches their bytes at once (raster/published_vsi.h), instead of one
  // request per tile as GDAL reads them.
  using TilePrefetch = std::function<void(const std::vector<std::pair<int, int>>&)>;
  void SetPrefetch(TilePrefetch fetch) { prefetch_ = std::move(fetch); }

  // Any thread. Later reads throw ERR_CLOSED; handles in use close when their read ends.
  void Close();

 private:
  RasterHandle* OpenHandle();
  GDALDatasetH OpenDataset(int64_t* fileBytes = nullptr);
  // The lease's GDAL dataset / libtiff decoder, opened on first use (on the leasing thread).
  GDALDatasetH Dataset(HandlePool::Lease& lease);
  TiffTileReader* Tiff(HandlePool::Lease& lease);
  void ReadTiled(const Window& win, const Destination& dst);
  std::shared_ptr<const Tile> DecodeTile(HandlePool::Lease& lease, int tx, int ty);
  // RasterIO of source window (x0, y0, w, h), channels [c0, c0 + nc), into `buf` at
  // bufW x bufH with the given byte spacings; expands palettes. Throws ERR_GDAL_READ.
  void RasterIO(HandlePool::Lease& lease, int64_t x0, int64_t y0, int64_t w, int64_t h, int c0, int nc, uint8_t* buf,
                int64_t bufW, int64_t bufH, int64_t pixelSpace, int64_t lineSpace, int64_t bandSpace);

  const std::string path_;
  std::shared_ptr<TileCache> tiles_;
  const int64_t pixelLimit_;
  RasterMeta meta_;
  bool haveIdentity_ = false;
  FileIdentity identity_{};
  uint64_t fileId_ = 0;
  bool metaReady_ = false;
  std::atomic<bool> closed_{false};
  std::shared_ptr<void> keep_;  // outlives pool_'s handles
  TilePrefetch prefetch_;
  HandlePool pool_;  // last: its handles are closed before the rest goes
};

}  // namespace nds
