// TileCache: LRU of decoded tiles under a byte budget. Any thread; one mutex.
#include "raster/tile_cache.h"

namespace nds {

uint64_t TileCache::FileId(const FileIdentity& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ids_.find(id);
  if (it != ids_.end()) return it->second;
  const uint64_t n = nextId_++;
  ids_.emplace(id, n);
  return n;
}

uint64_t TileCache::UniqueFileId() {
  std::lock_guard<std::mutex> lock(mu_);
  return nextId_++;
}

std::shared_ptr<const Tile> TileCache::Get(const TileKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  if (it->second.pos != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second.pos);
  return it->second.tile;
}

bool TileCache::Has(const TileKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return map_.find(key) != map_.end();
}

void TileCache::Put(const TileKey& key, std::shared_ptr<const Tile> tile) {
  std::lock_guard<std::mutex> lock(mu_);
  if (tile->bytes > budget_) return;
  auto it = map_.find(key);
  if (it != map_.end()) {  // another thread decoded the same tile meanwhile: keep the newer one
    bytes_ -= it->second.tile->bytes;
    bytes_ += tile->bytes;
    it->second.tile = std::move(tile);
    lru_.splice(lru_.begin(), lru_, it->second.pos);
  } else {
    lru_.push_front(key);
    bytes_ += tile->bytes;
    map_.emplace(key, Entry{std::move(tile), lru_.begin()});
  }
  EvictLocked();
}

void TileCache::EvictLocked() {
  while (bytes_ > budget_ && !lru_.empty()) {
    auto it = map_.find(lru_.back());
    bytes_ -= it->second.tile->bytes;
    map_.erase(it);
    lru_.pop_back();
  }
}

void TileCache::SetBudget(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  budget_ = bytes;
  EvictLocked();
}

size_t TileCache::Budget() {
  std::lock_guard<std::mutex> lock(mu_);
  return budget_;
}

TileCacheStats TileCache::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return TileCacheStats{hits_, misses_, bytes_, budget_, map_.size()};
}

}  // namespace nds
