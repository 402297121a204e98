// Per-env raster state and its binding functions. JS thread.
#include "raster/raster_env.h"

#include "core/addon_data.h"
#include "core/args.h"

namespace nds {

namespace {

void FreeRasterEnv(void* p) { delete static_cast<RasterEnv*>(p); }

}  // namespace

RasterEnv& GetRasterEnv(Napi::Env env) {
  AddonData* data = GetData(env);
  if (data->raster == nullptr) {
    data->raster = new RasterEnv();
    data->freeRaster = FreeRasterEnv;
  }
  return *static_cast<RasterEnv*>(data->raster);
}

Napi::Value TileCacheStatsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const TileCacheStats s = GetRasterEnv(env).tiles->Stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("hits", static_cast<double>(s.hits));
  o.Set("misses", static_cast<double>(s.misses));
  o.Set("bytes", static_cast<double>(s.bytes));
  o.Set("budget", static_cast<double>(s.budget));
  o.Set("entries", static_cast<double>(s.entries));
  return o;
}

Napi::Value SetTileCacheBudgetJs(const Napi::CallbackInfo& info) {
  const int64_t v = IntValue(info.Env(), info[0], 0, kMaxSafeInteger, "setTileCacheBudget(bytes): bytes");
  GetRasterEnv(info.Env()).tiles->SetBudget(static_cast<size_t>(v));
  return info.Env().Undefined();
}

Napi::Value SetMaxOpenDatasetsJs(const Napi::CallbackInfo& info) {
  const int64_t v = IntValue(info.Env(), info[0], 1, kMaxSafeInteger, "setMaxOpenDatasets(n): n");
  GetRasterEnv(info.Env()).handles->SetCap(static_cast<size_t>(v));
  return info.Env().Undefined();
}

Napi::Value DatasetStatsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const DatasetLruStats s = GetRasterEnv(env).handles->Stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("open", static_cast<double>(s.open));
  o.Set("idle", static_cast<double>(s.idle));
  o.Set("cap", static_cast<double>(s.cap));
  return o;
}

Napi::Value SetPixelLimitJs(const Napi::CallbackInfo& info) {
  const int64_t v = IntValue(info.Env(), info[0], 1, kMaxSafeInteger, "setPixelLimit(n): n");
  RasterEnv& r = GetRasterEnv(info.Env());
  const int64_t previous = r.pixelLimit;
  r.pixelLimit = v;
  return Napi::Number::New(info.Env(), static_cast<double>(previous));
}

}  // namespace nds
