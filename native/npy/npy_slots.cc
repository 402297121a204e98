// NpySlots (see npy_slots.h). JS thread only.
#include "npy/npy_slots.h"

#include <utility>

#include "core/addon_data.h"
#include "npy/npy_reader.h"

namespace nds {

std::shared_ptr<NpySlots> NpySlots::Of(Napi::Env env) {
  AddonData* data = GetData(env);
  if (data->npySlots == nullptr) data->npySlots = std::make_shared<NpySlots>();
  return std::static_pointer_cast<NpySlots>(data->npySlots);
}

NpySlots* NpySlots::In(Napi::Env env) { return static_cast<NpySlots*>(GetData(env)->npySlots.get()); }

uint32_t NpySlots::Take(std::shared_ptr<NpyState> st, uint32_t* gen) {
  uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    i = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[i].st = std::move(st);
  *gen = slots_[i].gen;
  return i;
}

void NpySlots::Release(uint32_t i, uint32_t gen) {
  if (i >= slots_.size() || slots_[i].gen != gen) return;  // (a release bumps gen: never twice)
  slots_[i].st.reset();
  slots_[i].gen = (gen + 1) & 0x7fffffffu;  // stays an exact JS number and a valid uint32 argument
  free_.push_back(i);                       // (may throw bad_alloc: the slot is then never reused)
}

}  // namespace nds
