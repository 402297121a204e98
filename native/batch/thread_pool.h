// ThreadPool: the addon's own worker threads for loadBatch (not libuv's pool, which fs, DNS,
// crypto and zlib share, 4 threads by default). One pool per process: threads are a process
// resource, and every env (the main thread, each worker thread) queues into the same FIFO.
// Tasks are pure C++ (they never touch a JS value) and must not throw.
//
// Lifetime: the pool object is created on first use and never destroyed (it is leaked on
// purpose), so process exit never joins or destroys a running std::thread; idle threads sit on a
// condition variable and end with the process. Threads are started lazily, on the first Submit.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace nds {

class ThreadPool {
 public:
  // Any thread. The process's pool.
  static ThreadPool& Get();

  // Any thread. Queues `task` (FIFO) and starts the threads if none run yet.
  void Submit(std::function<void()> task);
  // Any thread. Sets the number of threads (>= 1). Extra threads end after their current task.
  void SetSize(int n);
  // Any thread. The number of threads the pool runs (or will run, before the first Submit).
  int Size();

 private:
  ThreadPool();
  void Loop();
  void SpawnLocked();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int target_;     // threads wanted
  int alive_ = 0;  // threads running Loop
  bool started_ = false;
};

}  // namespace nds
