// The process-wide SIGBUS handler, the registry of mapped ranges and GuardedCopy. See
// sigbus_guard.h for the threads each function runs on.
#include "npy/sigbus_guard.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <vector>

namespace nds {

namespace {

// One registered range. Written under Registry::mu as a seqlock (seq odd while being written), so
// the handler, which takes no lock, never pairs one range's start with another's end.
struct Slot {
  std::atomic<uint32_t> seq{0};
  std::atomic<uintptr_t> start{0};  // 0: free
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> damaged{false};
};

constexpr int kChunkBits = 12;
constexpr int kChunk = 1 << kChunkBits;
constexpr int kMaxChunks = 64;  // 262,144 ranges: well above the kernel's default 65,530 mappings

// Chunks are allocated on demand and never freed, so a pointer the handler loaded stays valid.
std::atomic<Slot*> gChunks[kMaxChunks];
std::atomic<int> gHigh{0};  // slots [0, gHigh) may be in use
struct sigaction gPrev;
long gPage = 4096;

struct Registry {
  std::mutex mu;
  std::vector<int> freeSlots;
};
// Never destroyed: mappings may be released by other threads during static destruction.
Registry& Reg() {
  static Registry* r = new Registry();
  return *r;
}

Slot* At(int i) {
  Slot* c = gChunks[i >> kChunkBits].load(std::memory_order_acquire);
  return c == nullptr ? nullptr : &c[i & (kChunk - 1)];
}

// Writer side of the seqlock, under Reg().mu.
void WriteSlot(Slot& s, uintptr_t start, uintptr_t end) {
  const uint32_t q = s.seq.load(std::memory_order_relaxed);
  s.seq.store(q + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.damaged.store(false, std::memory_order_relaxed);
  s.end.store(end, std::memory_order_relaxed);
  s.start.store(start, std::memory_order_relaxed);
  s.seq.store(q + 2, std::memory_order_release);
}

// The armed copy of this thread, if any. initial-exec: reading it in the handler is a plain
// load (no lazy TLS allocation, which would not be async-signal-safe).
struct Armed {
  sigjmp_buf env;
};
thread_local Armed* tArmed __attribute__((tls_model("initial-exec"))) = nullptr;

// Async-signal-safe: the slot whose range holds `a` (and its end), or -1.
int FindSlot(uintptr_t a, uintptr_t* endOut) {
  const int high = gHigh.load(std::memory_order_acquire);
  for (int i = 0; i < high; ++i) {
    Slot* s = At(i);
    if (s == nullptr) continue;
    for (int tries = 0; tries < 8; ++tries) {
      const uint32_t q = s->seq.load(std::memory_order_acquire);
      if (q & 1u) continue;
      const uintptr_t start = s->start.load(std::memory_order_relaxed);
      const uintptr_t end = s->end.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s->seq.load(std::memory_order_relaxed) != q) continue;
      if (start != 0 && a >= start && a < end) {
        *endOut = end;
        return i;
      }
      break;
    }
  }
  return -1;
}

// A fault that is not ours: the handler installed before ours, or the default action, which ends
// the process with SIGBUS as it would have without us (raised again, so a SIGBUS sent by kill()
// ends it too, not only a faulting access that would run again).
void Chain(int sig, siginfo_t* si, void* uc) {
  if ((gPrev.sa_flags & SA_SIGINFO) != 0 && gPrev.sa_sigaction != nullptr) {
    gPrev.sa_sigaction(sig, si, uc);
    return;
  }
  if (gPrev.sa_handler != SIG_DFL && gPrev.sa_handler != SIG_IGN && gPrev.sa_handler != nullptr) {
    gPrev.sa_handler(sig);
    return;
  }
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  raise(sig);
}

void OnSigbus(int sig, siginfo_t* si, void* uc) {
  const int saved = errno;
  const uintptr_t a = reinterpret_cast<uintptr_t>(si->si_addr);
  uintptr_t end = 0;
  const int slot = FindSlot(a, &end);
  if (slot >= 0) {
    At(slot)->damaged.store(true, std::memory_order_release);
    if (Armed* armed = tArmed) {
      tArmed = nullptr;
      errno = saved;
      siglongjmp(armed->env, 1);
    }
    // An unarmed access (JavaScript reading a zero-copy view): zero pages from the faulting page
    // to the end of the range, so it and every later access past the cut complete.
    const uintptr_t page = a & ~static_cast<uintptr_t>(gPage - 1);
    void* p = mmap(reinterpret_cast<void*>(page), end - page, PROT_READ | PROT_WRITE,
                   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      errno = saved;
      return;
    }
  }
  errno = saved;
  Chain(sig, si, uc);
}

}  // namespace

void InstallSigbusHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    const long page = sysconf(_SC_PAGESIZE);
    if (page > 0) gPage = page;
    struct sigaction sa = {};
    sa.sa_sigaction = OnSigbus;
    sigemptyset(&sa.sa_mask);
    // SA_NODEFER: SIGBUS is not blocked in the handler, so leaving it by siglongjmp needs no
    // mask restore (GuardedCopy's sigsetjmp saves no mask: no system call per copy).
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigaction(SIGBUS, &sa, &gPrev);
  });
}

int RegisterRange(const void* addr, size_t len) {
  if (addr == nullptr || len == 0) return -1;
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  int i;
  if (!r.freeSlots.empty()) {
    i = r.freeSlots.back();
    r.freeSlots.pop_back();
  } else {
    i = gHigh.load(std::memory_order_relaxed);
    if (i >= kMaxChunks * kChunk) return -1;
    if (gChunks[i >> kChunkBits].load(std::memory_order_relaxed) == nullptr) {
      gChunks[i >> kChunkBits].store(new Slot[kChunk], std::memory_order_release);
    }
  }
  const uintptr_t start = reinterpret_cast<uintptr_t>(addr);
  WriteSlot(*At(i), start, start + len);
  if (i >= gHigh.load(std::memory_order_relaxed)) gHigh.store(i + 1, std::memory_order_release);
  return i;
}

void UnregisterRange(int slot) {
  if (slot < 0) return;
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  WriteSlot(*At(slot), 0, 0);
  r.freeSlots.push_back(slot);
}

bool RangeDamaged(int slot) { return slot >= 0 && At(slot)->damaged.load(std::memory_order_acquire); }

bool GuardedCopy(void (*fn)(void*), void* ctx) {
  Armed armed;
  Armed* const prev = tArmed;
  if (sigsetjmp(armed.env, 0) != 0) {
    tArmed = prev;
    return false;
  }
  tArmed = &armed;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  fn(ctx);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  tArmed = prev;
  return true;
}

}  // namespace nds
