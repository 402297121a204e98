// ThreadPool: the addon's own worker threads for loadBatch (not libuv's pool, which fs, DNS,
// crypto and zlib share, 4 threads by default). One pool per process: threads are a process
// resource, and every env (the main thread, each worker thread) queues into the same FIFO.
// Tasks are pure C++ (they never touch a JS value) and must not throw.
//
// Priority: the threads run at a nice level above (a priority below) the JS thread that started
// them, kDefaultNice unless SetNice says otherwise (Linux: per-thread nice, setpriority on the
// thread id). A JS thread that wakes up (a timer, a finished batch) then takes a core from a pool
// thread at once, so decoding on every core never makes the event loop wait; with nothing else
// to run the pool threads still get every core. Raising one's own nice needs no privilege;
// lowering it would, so SetNice replaces the threads (new ones start from the caller's level).
// Where setpriority fails (a sandbox), the threads keep the caller's level. The threads are named
// "nds-pool" (top -H, ps -L).
//
// Lifetime: the pool object is created on first use and never destroyed (it is leaked on
// purpose), so process exit never joins or destroys a running std::thread; idle threads sit on a
// condition variable and end with the process. Threads are started lazily, on the first Submit.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace nds {

class ThreadPool {
 public:
  static constexpr int kDefaultNice = 10;

  // Any thread. The process's pool.
  static ThreadPool& Get();

  // Any thread. Queues `task` (FIFO) and starts the threads if none run yet.
  void Submit(std::function<void()> task);
  // Any thread. Sets the number of threads (>= 1). Extra threads end after their current task.
  void SetSize(int n);
  // Any thread. The number of threads the pool runs (or will run, before the first Submit).
  int Size();
  // JS thread (new threads inherit the calling thread's level). Sets how many nice levels the
  // threads run below the thread that starts them (0..19): the running threads end after their
  // current task and new ones take the queue.
  void SetNice(int n);
  // Any thread. The current setting.
  int Nice();

 private:
  ThreadPool();
  void Loop(uint64_t generation, int nice);
  void SpawnLocked();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int target_;               // threads wanted
  int alive_ = 0;            // threads of the current generation running Loop
  uint64_t generation_ = 0;  // bumped by SetNice: threads of an older one leave
  int nice_ = kDefaultNice;
  bool started_ = false;
};

}  // namespace nds
