// Per-env addon data: one AddonData per Node environment (the main thread and each worker
// thread), created in core/addon.cc and deleted by node-addon-api at env teardown. Touched only
// on the JS thread of its env. Nothing in the addon keeps process-wide JS state.
#pragma once
#include <napi.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>

namespace nds {

struct AddonData {
  Napi::FunctionReference errorFactory;  // (code, message, props) => NdsamplerError
  bool externalBuffersAllowed = true;    // cleared the first time the runtime refuses one
  // Raster state of this env (raster/raster_env.h RasterEnv*: the tile cache and the
  // dataset-handle LRU), owned by raster code and freed at env cleanup through freeRaster.
  void* raster = nullptr;
  void (*freeRaster)(void*) = nullptr;
  // The reader classes of this env, so loadBatch can check (InstanceOf) what it unwraps.
  Napi::FunctionReference npyReaderClass, rasterReaderClass;
  // Batch state of this env (batch/batch_env.h BatchEnv), shared with the jobs in flight.
  std::shared_ptr<void> batch;
  // Mask-job state of this env (labels/mask_job.cc LabelsEnv), shared with the jobs in flight.
  std::shared_ptr<void> labels;
  // The npy readers' slot table of this env (npy/npy_slots.h NpySlots), shared with the readers.
  std::shared_ptr<void> npySlots;
  // Descriptors holding cache-entry locks (core/file_lock.h); closed here at env teardown.
  std::set<int> lockFds;
  // Temporary files lib/atomic.ts is writing in this env (trackTemp/untrackTemp): a worker thread
  // terminated between creating one and renaming it cannot run JS to remove it, so teardown does.
  std::set<std::string> temps;
  ~AddonData() {
    for (const std::string& t : temps) ::unlink(t.c_str());
    for (int fd : lockFds) ::close(fd);
    if (raster != nullptr && freeRaster != nullptr) freeRaster(raster);
  }
};
inline AddonData* GetData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

}  // namespace nds
