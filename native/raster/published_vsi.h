// The /vsindspub/ file system: published cache objects read in place (lib/remote/published.ts).
//
// A PublishedFile is one object of a published prefix, registered as /vsindspub/<id>/<name>. Its
// header (bytes [0, head): every IFD and tile index of the COG, the length the manifest records)
// is fetched with ONE ranged GET when it is opened, and the size the server reports is checked
// against the manifest's then and on every later answer (raster/range_fetch.h). GDAL opens the
// path from those bytes without another request, and reads tiles through this handler: from a
// bounded cache of byte ranges, filled by Prefetch (all tiles of a batch of windows at once: one
// multi-range GET, or parallel GETs) or, for a miss, by a GET of exactly what GDAL asked for.
//
// Thread rule: any thread. The file outlives every GDAL handle of it: handles hold a shared_ptr,
// and the registry only a weak_ptr, so a path whose file is gone no longer opens.
#pragma once
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "raster/range_fetch.h"
#include "raster/remote_cancel.h"

namespace nds {

class PublishedFile {
 public:
  // Bytes of fetched ranges a file keeps (least recently used ranges go first).
  static constexpr int64_t kCacheBytes = int64_t{128} << 20;

  // Any thread: fetches [0, head) of the object at `vsiPath` (one GET; ERR_REMOTE,
  // ERR_SOURCE_MISSING, ERR_CACHE_CORRUPT when the server's size is not `size`, ERR_ABORTED) and
  // registers it. `name` is what errors show.
  static std::shared_ptr<PublishedFile> Open(const std::string& vsiPath, const std::string& name, int64_t size,
                                             int64_t head, const CancelFlag& cancel);
  ~PublishedFile();
  PublishedFile(const PublishedFile&) = delete;
  PublishedFile& operator=(const PublishedFile&) = delete;

  // The GDAL path of the file (/vsindspub/<id>/<name>).
  const std::string& path() const { return path_; }
  int64_t size() const { return object_.size(); }

  // Any thread: records where each full-resolution tile (tx, ty) of each band lies, from the
  // opened dataset's TIFF metadata (BLOCK_OFFSET_x_y / BLOCK_SIZE_x_y), for TileRanges.
  void IndexTiles(void* gdalDataset, int tilesX, int tilesY, int bands);
  // The byte ranges of tiles (tx, ty) (with a margin either side: a COG's block leader and
  // trailer); tiles not in the index or empty are left out.
  std::vector<ByteRange> TileRanges(const std::vector<std::pair<int, int>>& tiles) const;

  // Any thread: bytes [off, off + len) (within the file) into `dst`, from the header, the cache,
  // or one GET. Throws CodedError.
  void Read(int64_t off, int64_t len, uint8_t* dst, const CancelFlag& cancel);
  // Any thread: fetches the ranges not cached (close ranges merged: RemoteObject::MergeGap), all at once.
  void Prefetch(std::vector<ByteRange> ranges, const CancelFlag& cancel);

 private:
  PublishedFile(const std::string& vsiPath, const std::string& name, int64_t size);
  bool FromCache(int64_t off, int64_t len, uint8_t* dst);  // mu_ held
  void Store(int64_t off, std::vector<uint8_t> data);      // mu_ held

  RemoteObject object_;
  std::string path_;
  uint64_t id_ = 0;
  std::vector<uint8_t> head_;
  struct Tile {
    int64_t offset = 0, size = 0;
  };
  int tilesX_ = 0, tilesY_ = 0, bands_ = 0;
  std::vector<Tile> tiles_;  // [band][ty][tx]
  mutable std::mutex mu_;    // guards the cache
  struct Chunk {
    std::vector<uint8_t> data;
    std::list<int64_t>::iterator lru;
  };
  std::map<int64_t, Chunk> chunks_;  // by offset
  std::list<int64_t> lru_;           // front: most recently used
  int64_t cached_ = 0;
};

// Any thread: the current thread's cancel flag for reads GDAL makes through /vsindspub/ while
// it is alive (a job that has an AbortSignal sets it around its GDAL calls).
class ScopedReadCancel {
 public:
  explicit ScopedReadCancel(CancelFlag flag);
  ~ScopedReadCancel();
  ScopedReadCancel(const ScopedReadCancel&) = delete;
  ScopedReadCancel& operator=(const ScopedReadCancel&) = delete;

 private:
  CancelFlag prev_;
};

}  // namespace nds
