// The /vsindspub/ handler (GDAL's plugin file system API) and PublishedFile. Any thread.
#include "raster/published_vsi.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/errors.h"
#include "raster/gdal_setup.h"
#include "raster/remote_error.h"

namespace nds {

namespace {

constexpr const char* kPrefix = "/vsindspub/";
// Bytes fetched either side of a tile: a COG block's leader (its size, 4 bytes) and trailer (its
// last 4 bytes repeated), which GDAL reads with the tile (and a little more: it reads 12 bytes
// past the tile's data when checking them), so that GDAL's read is served from the same range.
constexpr int64_t kBlockMargin = 64;

std::mutex gRegistryMu;
std::map<uint64_t, std::weak_ptr<PublishedFile>>& Registry() {
  static auto* r = new std::map<uint64_t, std::weak_ptr<PublishedFile>>();
  return *r;
}
std::atomic<uint64_t> gNextId{1};
thread_local CancelFlag tReadCancel;

// "<id>/<name>" -> the registered file, or null.
std::shared_ptr<PublishedFile> Lookup(const char* rest) {
  if (rest == nullptr) return nullptr;
  char* end = nullptr;
  const uint64_t id = std::strtoull(rest, &end, 10);
  if (end == rest || *end != '/') return nullptr;
  std::lock_guard<std::mutex> lock(gRegistryMu);
  auto it = Registry().find(id);
  return it == Registry().end() ? nullptr : it->second.lock();
}

struct Handle {
  std::shared_ptr<PublishedFile> file;
  int64_t pos = 0;
  bool eof = false;
};

// An error inside a callback: left pending for the GdalErrorScope of the call (its exact code),
// reported to GDAL as a read failure.
void Report(const CodedError& e) {
  SetPendingRemoteError(e.info());
  CPLError(CE_Failure, CPLE_FileIO, "%s", e.what());
}

void* OnOpen(void*, const char* rest, const char* access) {
  if (access == nullptr || std::strchr(access, 'w') != nullptr || std::strchr(access, '+') != nullptr ||
      std::strchr(access, 'a') != nullptr) {
    errno = EACCES;
    return nullptr;
  }
  std::shared_ptr<PublishedFile> f = Lookup(rest);
  if (!f) {
    errno = ENOENT;
    return nullptr;
  }
  return new Handle{std::move(f), 0, false};
}

int OnStat(void*, const char* rest, VSIStatBufL* st, int) {
  std::shared_ptr<PublishedFile> f = Lookup(rest);
  if (!f) return -1;
  std::memset(st, 0, sizeof(*st));
  st->st_mode = S_IFREG | 0444;
  st->st_size = static_cast<vsi_l_offset>(f->size());
  return 0;
}

int OnSeek(void* h, vsi_l_offset off, int whence) {
  auto* hd = static_cast<Handle*>(h);
  const int64_t size = hd->file->size();
  int64_t pos = static_cast<int64_t>(off);
  if (whence == SEEK_CUR) pos += hd->pos;
  if (whence == SEEK_END) pos += size;
  if (pos < 0) return -1;
  hd->pos = pos;
  hd->eof = false;
  return 0;
}

vsi_l_offset OnTell(void* h) { return static_cast<vsi_l_offset>(static_cast<Handle*>(h)->pos); }

size_t OnRead(void* h, void* buf, size_t size, size_t count) {
  auto* hd = static_cast<Handle*>(h);
  if (size == 0 || count == 0) return 0;
  const int64_t want = static_cast<int64_t>(size * count);
  const int64_t avail = std::max<int64_t>(0, std::min(want, hd->file->size() - hd->pos));
  try {
    if (avail > 0) hd->file->Read(hd->pos, avail, static_cast<uint8_t*>(buf), tReadCancel);
  } catch (const CodedError& e) {
    Report(e);
    return 0;
  } catch (const std::exception& e) {
    CPLError(CE_Failure, CPLE_FileIO, "%s", e.what());
    return 0;
  }
  hd->pos += avail;
  if (avail < want) hd->eof = true;
  return static_cast<size_t>(avail / static_cast<int64_t>(size));
}

int OnReadMultiRange(void* h, int n, void** data, const vsi_l_offset* offsets, const size_t* sizes) {
  auto* hd = static_cast<Handle*>(h);
  try {
    std::vector<ByteRange> ranges;
    for (int i = 0; i < n; ++i) ranges.push_back({static_cast<int64_t>(offsets[i]), static_cast<int64_t>(sizes[i])});
    hd->file->Prefetch(ranges, tReadCancel);
    for (int i = 0; i < n; ++i) {
      hd->file->Read(ranges[i].offset, ranges[i].length, static_cast<uint8_t*>(data[i]), tReadCancel);
    }
  } catch (const CodedError& e) {
    Report(e);
    return -1;
  }
  return 0;
}

int OnEof(void* h) { return static_cast<Handle*>(h)->eof ? 1 : 0; }
int OnClose(void* h) {
  delete static_cast<Handle*>(h);
  return 0;
}
// No side files (.ovr, .aux.xml, .msk): an empty list, so GDAL does not look for them.
char** OnSiblings(void*, const char*) { return static_cast<char**>(CPLCalloc(1, sizeof(char*))); }

void Install() {
  static std::once_flag once;
  std::call_once(once, [] {
    VSIFilesystemPluginCallbacksStruct* cb = VSIAllocFilesystemPluginCallbacksStruct();
    cb->open = OnOpen;
    cb->stat = OnStat;
    cb->seek = OnSeek;
    cb->tell = OnTell;
    cb->read = OnRead;
    cb->read_multi_range = OnReadMultiRange;
    cb->eof = OnEof;
    cb->close = OnClose;
    cb->sibling_files = OnSiblings;
    cb->nBufferSize = 0;  // reads reach us as GDAL makes them: tiles are exact ranges
    VSIInstallPluginHandler(kPrefix, cb);
    VSIFreeFilesystemPluginCallbacksStruct(cb);
  });
}

std::string SafeName(const std::string& name) {
  std::string base = name.substr(name.find_last_of('/') + 1);
  std::string out;
  for (char c : base)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "object.tif" : out;
}

int64_t MetaInt(GDALRasterBandH b, const std::string& key) {
  const char* v = GDALGetMetadataItem(b, key.c_str(), "TIFF");
  return v == nullptr ? 0 : std::strtoll(v, nullptr, 10);
}

}  // namespace

PublishedFile::PublishedFile(const std::string& vsiPath, const std::string& name, int64_t size)
    : object_(vsiPath, name, size) {}

std::shared_ptr<PublishedFile> PublishedFile::Open(const std::string& vsiPath, const std::string& name, int64_t size,
                                                   int64_t head, const CancelFlag& cancel) {
  EnsureGdal();
  Install();
  if (size <= 0 || head <= 0 || head > size) {
    throw CodedError("ERR_CACHE_CORRUPT",
                     "published object '" + name + "': header length " + std::to_string(head) +
                         " does not fit its size " + std::to_string(size),
                     name);
  }
  std::shared_ptr<PublishedFile> f(new PublishedFile(vsiPath, name, size));
  std::vector<std::vector<uint8_t>> got = f->object_.Fetch({{0, head}}, cancel);
  f->head_ = std::move(got[0]);
  f->id_ = gNextId++;
  f->path_ = std::string(kPrefix) + std::to_string(f->id_) + "/" + SafeName(name);
  std::lock_guard<std::mutex> lock(gRegistryMu);
  for (auto it = Registry().begin(); it != Registry().end();) {  // forget files that are gone
    it = it->second.expired() ? Registry().erase(it) : std::next(it);
  }
  Registry()[f->id_] = f;
  return f;
}

PublishedFile::~PublishedFile() {
  std::lock_guard<std::mutex> lock(gRegistryMu);
  Registry().erase(id_);
}

void PublishedFile::IndexTiles(void* gdalDataset, int tilesX, int tilesY, int bands) {
  auto ds = static_cast<GDALDatasetH>(gdalDataset);
  std::vector<Tile> tiles(static_cast<size_t>(tilesX) * tilesY * bands);
  for (int b = 0; b < bands; ++b) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
    for (int ty = 0; ty < tilesY; ++ty) {
      for (int tx = 0; tx < tilesX; ++tx) {
        const std::string xy = std::to_string(tx) + "_" + std::to_string(ty);
        Tile& t = tiles[(static_cast<size_t>(b) * tilesY + ty) * tilesX + tx];
        t.offset = MetaInt(band, "BLOCK_OFFSET_" + xy);
        t.size = MetaInt(band, "BLOCK_SIZE_" + xy);
      }
    }
  }
  // Pixel-interleaved (a COG's default): every band names the same blocks; keep one.
  bool shared = true;
  const size_t per = static_cast<size_t>(tilesX) * tilesY;
  for (size_t i = per; i < tiles.size() && shared; ++i) {
    shared = tiles[i].offset == tiles[i % per].offset && tiles[i].size == tiles[i % per].size;
  }
  if (shared) tiles.resize(per);
  tilesX_ = tilesX;
  tilesY_ = tilesY;
  bands_ = shared ? 1 : bands;
  tiles_ = std::move(tiles);
}

std::vector<ByteRange> PublishedFile::TileRanges(const std::vector<std::pair<int, int>>& want) const {
  std::vector<ByteRange> out;
  for (const auto& [tx, ty] : want) {
    if (tx < 0 || ty < 0 || tx >= tilesX_ || ty >= tilesY_) continue;
    for (int b = 0; b < bands_; ++b) {
      const Tile& t = tiles_[(static_cast<size_t>(b) * tilesY_ + ty) * tilesX_ + tx];
      if (t.offset <= 0 || t.size <= 0) continue;
      const int64_t a = std::max<int64_t>(0, t.offset - kBlockMargin);
      const int64_t z = std::min(size(), t.offset + t.size + kBlockMargin);
      out.push_back({a, z - a});
    }
  }
  return out;
}

bool PublishedFile::FromCache(int64_t off, int64_t len, uint8_t* dst) {
  auto it = chunks_.upper_bound(off);
  // Chunks may overlap: look back over the few that start before `off`.
  for (int look = 0; look < 4 && it != chunks_.begin(); ++look) {
    --it;
    const int64_t start = it->first;
    Chunk& c = it->second;
    if (start <= off && start + static_cast<int64_t>(c.data.size()) >= off + len) {
      std::memcpy(dst, c.data.data() + (off - start), static_cast<size_t>(len));
      lru_.splice(lru_.begin(), lru_, c.lru);
      return true;
    }
  }
  return false;
}

void PublishedFile::Store(int64_t off, std::vector<uint8_t> data) {
  auto it = chunks_.find(off);
  if (it != chunks_.end()) {
    if (it->second.data.size() >= data.size()) return;
    cached_ -= static_cast<int64_t>(it->second.data.size());
    lru_.erase(it->second.lru);
    chunks_.erase(it);
  }
  cached_ += static_cast<int64_t>(data.size());
  lru_.push_front(off);
  chunks_[off] = Chunk{std::move(data), lru_.begin()};
  while (cached_ > kCacheBytes && lru_.size() > 1) {
    const int64_t old = lru_.back();
    lru_.pop_back();
    auto victim = chunks_.find(old);
    cached_ -= static_cast<int64_t>(victim->second.data.size());
    chunks_.erase(victim);
  }
}

void PublishedFile::Read(int64_t off, int64_t len, uint8_t* dst, const CancelFlag& cancel) {
  if (len <= 0) return;
  const int64_t headLen = static_cast<int64_t>(head_.size());
  if (off + len <= headLen) {
    std::memcpy(dst, head_.data() + off, static_cast<size_t>(len));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (FromCache(off, len, dst)) return;
  }
  std::vector<std::vector<uint8_t>> got = object_.Fetch({{off, len}}, cancel);
  std::memcpy(dst, got[0].data(), static_cast<size_t>(len));
  std::lock_guard<std::mutex> lock(mu_);
  Store(off, std::move(got[0]));
}

void PublishedFile::Prefetch(std::vector<ByteRange> ranges, const CancelFlag& cancel) {
  std::sort(ranges.begin(), ranges.end(), [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  std::vector<ByteRange> merged;
  const int64_t gap = object_.MergeGap();  // ranges closer than this are fetched as one
  for (const ByteRange& r : ranges) {
    if (r.length <= 0 || r.end() <= static_cast<int64_t>(head_.size())) continue;
    if (!merged.empty() && r.offset <= merged.back().end() + gap) {
      merged.back().length = std::max(merged.back().end(), r.end()) - merged.back().offset;
    } else {
      merged.push_back(r);
    }
  }
  std::vector<ByteRange> missing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const ByteRange& r : merged) {
      auto it = chunks_.upper_bound(r.offset);
      bool have = false;
      if (it != chunks_.begin()) {
        --it;
        have = it->first <= r.offset && it->first + static_cast<int64_t>(it->second.data.size()) >= r.end();
      }
      if (!have) missing.push_back(r);
    }
  }
  if (missing.empty()) return;
  std::vector<std::vector<uint8_t>> got = object_.Fetch(missing, cancel);
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < missing.size(); ++i) Store(missing[i].offset, std::move(got[i]));
}

ScopedReadCancel::ScopedReadCancel(CancelFlag flag) : prev_(tReadCancel) { tReadCancel = std::move(flag); }
ScopedReadCancel::~ScopedReadCancel() { tReadCancel = prev_; }

}  // namespace nds
