// NpySlots: the per-env table through which npyReadInto(slot, gen, dst, req) finds an open
// reader's state. A synchronous read then needs neither a receiver to unwrap (napi_unwrap, a third
// of an empty read) nor a JS function per reader: such a function's finalizer, which Node 20 runs
// only on an event-loop turn, kept ~0.7 KB per reader alive in a synchronous loop of opens.
//
// A slot is taken when a reader opens and released when it closes or is collected; its
// generation changes on release, so a stale (slot, gen) pair finds nothing (ERR_CLOSED) and a
// forged pair finds at most another open reader of the same env, never freed memory.
//
// Threads: JS thread of the env that owns the table (readers are created, read synchronously,
// closed and finalized there).
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace nds {

struct NpyState;

class NpySlots {
 public:
  // The table of `env`, created on first use and held by the env's AddonData.
  static std::shared_ptr<NpySlots> Of(Napi::Env env);
  // The table of `env` without taking a reference (the read path), or null before any reader.
  static NpySlots* In(Napi::Env env);

  // Puts `st` in a free slot: its index, and its generation in *gen.
  uint32_t Take(std::shared_ptr<NpyState> st, uint32_t* gen);
  // Frees slot `i` if it still holds generation `gen` (a second release is a no-op).
  void Release(uint32_t i, uint32_t gen);
  // The state in slot `i` at generation `gen`, or null.
  NpyState* Find(uint32_t i, uint32_t gen) const {
    if (i >= slots_.size() || slots_[i].gen != gen) return nullptr;
    return slots_[i].st.get();
  }

 private:
  struct Slot {
    std::shared_ptr<NpyState> st;  // null when free
    uint32_t gen = 0;
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace nds
