// ThreadPool (see thread_pool.h).
#include "batch/thread_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>
#include <utility>

namespace nds {

namespace {

// Pool thread, once at its start: `nice` levels below the level it inherited from the JS thread
// that spawned it. Best effort (see thread_pool.h).
void LowerOwnPriority(int nice) {
  if (nice <= 0) return;
#if defined(__linux__)
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int inherited = getpriority(PRIO_PROCESS, tid);
  if (errno != 0) return;
  setpriority(PRIO_PROCESS, tid, std::min(19, inherited + nice));
#endif
}

}  // namespace

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

int ThreadPool::Nice() {
  std::lock_guard<std::mutex> lock(mu_);
  return nice_;
}

void ThreadPool::SetNice(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  n = std::clamp(n, 0, 19);
  if (n == nice_) return;
  nice_ = n;
  ++generation_;
  alive_ = 0;  // the running threads belong to the old generation and leave by themselves
  if (started_) SpawnLocked();
  cv_.notify_all();
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
    std::thread(&ThreadPool::Loop, this, generation_, nice_).detach();
    ++alive_;
  }
}

void ThreadPool::Loop(uint64_t generation, int nice) {
  LowerOwnPriority(nice);
#if defined(__linux__)
  // What top -H, ps -L and /proc/<pid>/task/*/comm show; named once its priority is final.
  pthread_setname_np(pthread_self(), "nds-pool");
#endif
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (generation != generation_) return;  // replaced by SetNice (not counted in alive_)
    if (alive_ > target_) {                 // the pool shrank: this thread leaves
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
