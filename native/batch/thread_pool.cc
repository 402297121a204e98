// ThreadPool (see thread_pool.h).
#include "batch/thread_pool.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace nds {

ThreadPool& ThreadPool::Get() {
  static ThreadPool* pool = new ThreadPool();  // never deleted: see thread_pool.h
  return *pool;
}

ThreadPool::ThreadPool() : target_(std::max(1u, std::thread::hardware_concurrency())) {}

int ThreadPool::Size() {
  std::lock_guard<std::mutex> lock(mu_);
  return target_;
}

void ThreadPool::SetSize(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  target_ = std::max(1, n);
  if (started_) SpawnLocked();
  cv_.notify_all();  // extra threads wake up and leave
}

void ThreadPool::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
    if (!started_) {
      started_ = true;
      SpawnLocked();
    }
  }
  cv_.notify_one();
}

// Mutex held. Starts threads until target_ run; they are detached (see thread_pool.h).
void ThreadPool::SpawnLocked() {
  while (alive_ < target_) {
    std::thread(&ThreadPool::Loop, this).detach();
    ++alive_;
  }
}

void ThreadPool::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (alive_ > target_) {  // the pool shrank: this thread leaves
      --alive_;
      return;
    }
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();          // noexcept by contract
    task = nullptr;  // drop what it captured before taking the lock again
    lock.lock();
  }
}

}  // namespace nds
