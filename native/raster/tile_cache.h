// The decoded-tile cache shared by every raster reader of one Node environment.
//
// Entries are whole decoded tiles of tiled GeoTIFFs, pixel-interleaved (HWC, all channels),
// keyed by (file identity, overview level, tile column, tile row). A file's identity is
// (device, inode, size, mtime): two readers of the same file share tiles, and a file rewritten
// in place or replaced by rename gets a new identity, so stale tiles are never served.
// Eviction is least-recently-used under a byte budget. Tiles are handed out as
// shared_ptr<const Tile>, so a reader copying out of a tile is never hurt by a concurrent
// eviction. Every method is thread-safe (one mutex); the main thread and libuv pool threads
// use it concurrently.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace nds {

struct Tile {
  std::unique_ptr<uint8_t[]> data;  // h * w * channels * itemsize bytes, HWC
  int h = 0, w = 0;
  size_t bytes = 0;
};

struct TileKey {
  uint64_t file;
  int32_t level, tx, ty;
  bool operator==(const TileKey& o) const { return file == o.file && level == o.level && tx == o.tx && ty == o.ty; }
};

struct TileKeyHash {
  size_t operator()(const TileKey& k) const {
    uint64_t h = k.file * 0x9E3779B97F4A7C15ull;
    h ^= (static_cast<uint64_t>(static_cast<uint32_t>(k.tx)) << 32 | static_cast<uint32_t>(k.ty)) + 0x7F4A7C15ull +
         (h << 6) + (h >> 2);
    h ^= static_cast<uint64_t>(static_cast<uint32_t>(k.level)) * 0xC2B2AE3D27D4EB4Full;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

struct FileIdentity {
  dev_t dev;
  ino_t ino;
  int64_t size;
  int64_t mtimeNs;
  bool operator<(const FileIdentity& o) const {
    if (dev != o.dev) return dev < o.dev;
    if (ino != o.ino) return ino < o.ino;
    if (size != o.size) return size < o.size;
    return mtimeNs < o.mtimeNs;
  }
};

struct TileCacheStats {
  uint64_t hits, misses;
  size_t bytes, budget, entries;
};

class TileCache {
 public:
  static constexpr size_t kDefaultBudget = size_t{256} << 20;  // 256 MiB

  explicit TileCache(size_t budget = kDefaultBudget) : budget_(budget) {}

  // A small number standing for `id`, the same for the same identity for the cache's life.
  uint64_t FileId(const FileIdentity& id);
  // A number no other file gets (for sources without a stable identity, e.g. /vsimem/).
  uint64_t UniqueFileId();

  // The tile, or null (a miss). Counts a hit or a miss.
  std::shared_ptr<const Tile> Get(const TileKey& key);
  // Whether the tile is cached, without counting or touching it (prefetch planning).
  bool Has(const TileKey& key);
  // Inserts (or replaces) a tile, then evicts least-recently-used tiles beyond the budget.
  // A tile larger than the whole budget is not kept.
  void Put(const TileKey& key, std::shared_ptr<const Tile> tile);

  void SetBudget(size_t bytes);
  size_t Budget();
  TileCacheStats Stats();

 private:
  void EvictLocked();
  struct Entry {
    std::shared_ptr<const Tile> tile;
    std::list<TileKey>::iterator pos;
  };
  std::mutex mu_;
  size_t budget_;
  size_t bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
  std::list<TileKey> lru_;  // front: most recently used
  std::unordered_map<TileKey, Entry, TileKeyHash> map_;
  std::map<FileIdentity, uint64_t> ids_;
  uint64_t nextId_ = 1;
};

}  // namespace nds
