// Per-env raster state: this env's decoded-tile cache and dataset-handle LRU, and the binding's
// functions that report and tune them.
#pragma once
#include <napi.h>

#include <memory>

#include "raster/dataset_pool.h"
#include "raster/source_limits.h"
#include "raster/tile_cache.h"

namespace nds {

// Hung off AddonData::raster. Jobs hold shared_ptr copies, so the env going away never frees a
// cache or an LRU under a pool thread.
struct RasterEnv {
  std::shared_ptr<TileCache> tiles = std::make_shared<TileCache>();
  std::shared_ptr<DatasetLru> handles = std::make_shared<DatasetLru>();
  int64_t pixelLimit = kDefaultPixelLimit;  // setPixelLimit(); a job keeps the value it started with
};

// JS thread: this env's raster state, created on first use.
RasterEnv& GetRasterEnv(Napi::Env env);

// JS thread: tileCacheStats(), setTileCacheBudget(bytes), setMaxOpenDatasets(n), datasetStats(),
// setPixelLimit(n) (returns the previous limit).
Napi::Value TileCacheStatsJs(const Napi::CallbackInfo& info);
Napi::Value SetTileCacheBudgetJs(const Napi::CallbackInfo& info);
Napi::Value SetMaxOpenDatasetsJs(const Napi::CallbackInfo& info);
Napi::Value DatasetStatsJs(const Napi::CallbackInfo& info);
Napi::Value SetPixelLimitJs(const Napi::CallbackInfo& info);

}  // namespace nds
