// HandlePool / DatasetLru: leased GDAL handles with a per-reader and a per-env bound.
#include "raster/dataset_pool.h"

#include <algorithm>

#include "core/errors.h"
#include "raster/open_dataset.h"
#include "raster/tiff_tiles.h"

namespace nds {

RasterHandle::~RasterHandle() { CloseQuietly(ds); }

void CloseHandles(const std::vector<RasterHandle*>& handles) {
  for (RasterHandle* h : handles) delete h;
}

std::vector<RasterHandle*> DatasetLru::TrimLocked() {
  std::vector<RasterHandle*> out;
  while (open_ > cap_ && !idle_.empty()) {
    auto it = std::prev(idle_.end());
    HandlePool* owner = it->owner;
    auto& mine = owner->mine_;
    mine.erase(std::find(mine.begin(), mine.end(), it));
    --owner->open_count_;
    --open_;
    out.push_back(it->handle);
    idle_.erase(it);
    owner->cv_.notify_one();  // a waiter of that pool may now open a handle of its own
  }
  return out;
}

void DatasetLru::SetCap(size_t cap) {
  std::vector<RasterHandle*> toClose;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cap_ = cap;
    toClose = TrimLocked();
  }
  CloseHandles(toClose);
}

DatasetLruStats DatasetLru::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return DatasetLruStats{open_, idle_.size(), cap_};
}

HandlePool::HandlePool(std::shared_ptr<DatasetLru> lru, int maxHandles, std::function<RasterHandle*()> open)
    : lru_(std::move(lru)), maxHandles_(std::max(1, maxHandles)), open_(std::move(open)) {}

HandlePool::~HandlePool() { Close(); }

HandlePool::Lease& HandlePool::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    Release();
    pool_ = o.pool_;
    h_ = o.h_;
    discard_ = o.discard_;
    o.pool_ = nullptr;
  }
  return *this;
}

void HandlePool::Lease::Release() {
  if (pool_ == nullptr) return;
  HandlePool* p = pool_;
  pool_ = nullptr;
  p->Return(h_, discard_);
}

void HandlePool::Reserve(int n) {
  std::lock_guard<std::mutex> lock(lru_->mu_);
  if (n > maxHandles_) {
    maxHandles_ = n;
    cv_.notify_all();
  }
}

HandlePool::Lease HandlePool::Acquire() {
  std::unique_lock<std::mutex> lock(lru_->mu_);
  for (;;) {
    if (closed_) throw CodedError("ERR_CLOSED", "the reader is closed");
    if (!mine_.empty()) {
      auto it = mine_.back();
      mine_.pop_back();
      RasterHandle* h = it->handle;
      lru_->idle_.erase(it);
      return Lease(this, h);
    }
    if (open_count_ < maxHandles_) break;
    cv_.wait(lock);
  }
  ++open_count_;
  ++lru_->open_;
  std::vector<RasterHandle*> toClose = lru_->TrimLocked();
  lock.unlock();
  CloseHandles(toClose);
  RasterHandle* h = nullptr;
  try {
    h = open_();
  } catch (...) {
    lock.lock();
    --open_count_;
    --lru_->open_;
    cv_.notify_one();
    throw;
  }
  return Lease(this, h);
}

void HandlePool::Return(RasterHandle* h, bool discard) {
  std::vector<RasterHandle*> toClose;
  {
    std::lock_guard<std::mutex> lock(lru_->mu_);
    if (closed_ || discard) {
      --open_count_;
      --lru_->open_;
      toClose.push_back(h);
    } else {
      lru_->idle_.push_front(DatasetLru::Idle{this, h});
      mine_.push_back(lru_->idle_.begin());
      toClose = lru_->TrimLocked();
    }
    cv_.notify_one();
  }
  CloseHandles(toClose);
}

void HandlePool::Close() {
  std::vector<RasterHandle*> toClose;
  {
    std::lock_guard<std::mutex> lock(lru_->mu_);
    closed_ = true;
    for (auto it : mine_) {
      toClose.push_back(it->handle);
      lru_->idle_.erase(it);
    }
    open_count_ -= static_cast<int>(mine_.size());
    lru_->open_ -= mine_.size();
    mine_.clear();
    cv_.notify_all();
  }
  CloseHandles(toClose);
}

}  // namespace nds
