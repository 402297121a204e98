// File handles of raster readers: a per-reader pool bounded by maxHandles, and a per-env cap
// on open handles across all readers.
//
// A RasterHandle is one reader's view of its file: a GDAL dataset and, for tiled GeoTIFFs, a
// libtiff tile decoder, each opened on first use. Thread rule (GDAL 3.6 has no thread-safe
// datasets, and a TIFF* is not thread-safe either): a RasterHandle is used by at most one
// thread at a time. A read leases a handle from its reader's HandlePool, uses it on its own
// thread (the JS thread for sync reads, a libuv pool thread for async ones) and returns it.
// Handles are opened lazily, on the thread that first needs one; an idle handle may be closed
// by any thread (closing a dataset nobody uses is safe).
//
// The per-env DatasetLru counts every open handle of every pool and keeps the idle ones in one
// least-recently-used list; when more than `cap` handles are open, idle handles are closed,
// oldest first, and reopened on demand. Leased handles are never closed under their user, so
// the cap can be exceeded by at most the number of reads in flight. All state of the LRU and
// of its pools is guarded by the LRU's one mutex; GDAL opens and closes happen outside it.
#pragma once
#include <gdal.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

namespace nds {

class HandlePool;
class TiffTileReader;

struct RasterHandle {
  GDALDatasetH ds = nullptr;             // opened by the owner on first use
  std::unique_ptr<TiffTileReader> tiff;  // opened by the owner on first use (tiled GeoTIFFs)
  bool tiffTried = false;                // Open was attempted (null tiff: decode with GDAL)
  RasterHandle() = default;
  ~RasterHandle();  // closes both (the dataset with CloseQuietly)
  RasterHandle(const RasterHandle&) = delete;
  RasterHandle& operator=(const RasterHandle&) = delete;
};

struct DatasetLruStats {
  size_t open, idle, cap;
};

class DatasetLru {
 public:
  static constexpr size_t kDefaultCap = 256;
  explicit DatasetLru(size_t cap = kDefaultCap) : cap_(cap) {}
  void SetCap(size_t cap);  // closes idle handles beyond the new cap now
  DatasetLruStats Stats();

 private:
  friend class HandlePool;
  struct Idle {
    HandlePool* owner;
    RasterHandle* handle;
  };
  // Mutex held: unlinks idle handles beyond the cap from their pools and returns them for the
  // caller to close after unlocking.
  std::vector<RasterHandle*> TrimLocked();
  std::mutex mu_;
  size_t cap_;
  size_t open_ = 0;
  std::list<Idle> idle_;  // front: most recently returned
};

class HandlePool {
 public:
  // `open` makes one new handle (called without any lock held, on the leasing thread); it
  // throws CodedError on failure.
  HandlePool(std::shared_ptr<DatasetLru> lru, int maxHandles, std::function<RasterHandle*()> open);
  ~HandlePool();  // closes everything; no lease may be outstanding
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;

  // A leased handle, returned to the pool when the lease ends. Call Discard() after a failed
  // GDAL call so a handle in an unknown state is closed instead of reused.
  class Lease {
   public:
    Lease() = default;
    Lease(HandlePool* pool, RasterHandle* h) : pool_(pool), h_(h) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), h_(o.h_), discard_(o.discard_) { o.pool_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Release(); }
    RasterHandle* get() const { return h_; }
    explicit operator bool() const { return pool_ != nullptr; }
    void Discard() { discard_ = true; }
    void Release();

   private:
    HandlePool* pool_ = nullptr;
    RasterHandle* h_ = nullptr;
    bool discard_ = false;
  };

  // Any thread. Reuses an idle handle, opens one if fewer than maxHandles are open, otherwise
  // waits for one to come back. Throws ERR_CLOSED once Close() was called.
  Lease Acquire();
  // Any thread. Idle handles are closed now, leased ones when they come back; waiting and
  // later Acquire() calls throw ERR_CLOSED.
  void Close();
  // Any thread. Raises maxHandles to at least `n` (never lowers it), so `n` threads reading at
  // once never wait for each other's handle (loadBatch calls it with its pool size).
  void Reserve(int n);

 private:
  friend class DatasetLru;
  void Return(RasterHandle* h, bool discard);
  std::shared_ptr<DatasetLru> lru_;
  int maxHandles_;  // guarded by lru_->mu_ (only Reserve raises it)
  std::function<RasterHandle*()> open_;
  // Guarded by lru_->mu_:
  std::vector<std::list<DatasetLru::Idle>::iterator> mine_;  // my idle handles in lru_->idle_
  int open_count_ = 0;
  bool closed_ = false;
  std::condition_variable cv_;
};

// Deletes handles (closing their dataset and decoder).
void CloseHandles(const std::vector<RasterHandle*>& handles);

}  // namespace nds
