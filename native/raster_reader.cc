// RasterReader (JS class) and the raster module's registration (InitRaster).
// Everything here runs on the JS thread of its env except the lambda a AsyncJob runs on the pool.
#include "raster_reader.h"

#include <gdal.h>

#include <cmath>

#include "cog_writer.h"
#include "gdal_errors.h"
#include "async_job.h"
#include "modules.h"

namespace nds {

namespace {

Napi::Array Pair(Napi::Env env, int64_t a, int64_t b) {
  Napi::Array arr = Napi::Array::New(env, 2);
  arr.Set(0u, Napi::Number::New(env, static_cast<double>(a)));
  arr.Set(1u, Napi::Number::New(env, static_cast<double>(b)));
  return arr;
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

double NonNegativeInt(const Napi::CallbackInfo& info, const char* what) {
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowArg(info.Env(), std::string(what) + " takes a number");
  const double v = info[0].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v < 0 || v != std::floor(v) || v > 9007199254740991.0) {
    ThrowArg(info.Env(), std::string(what) + " takes a non-negative integer");
  }
  return v;
}

Napi::Value SetTileCacheBudget(const Napi::CallbackInfo& info) {
  const double v = NonNegativeInt(info, "setTileCacheBudget(bytes)");
  GetRasterEnv(info.Env()).tiles->SetBudget(static_cast<size_t>(v));
  return info.Env().Undefined();
}

Napi::Value SetMaxOpenDatasets(const Napi::CallbackInfo& info) {
  const double v = NonNegativeInt(info, "setMaxOpenDatasets(n)");
  if (v < 1) ThrowArg(info.Env(), "setMaxOpenDatasets(n) takes an integer >= 1");
  GetRasterEnv(info.Env()).handles->SetCap(static_cast<size_t>(v));
  return info.Env().Undefined();
}

Napi::Value DatasetStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const DatasetLruStats s = GetRasterEnv(env).handles->Stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("open", static_cast<double>(s.open));
  o.Set("idle", static_cast<double>(s.idle));
  o.Set("cap", static_cast<double>(s.cap));
  return o;
}

Napi::Value GdalVersion(const Napi::CallbackInfo& info) {
  EnsureGdal();
  return Napi::String::New(info.Env(), GDALVersionInfo("RELEASE_NAME"));
}

Napi::Value HasDriver(const Napi::CallbackInfo& info) {
  const std::string name = StringArg(info, 0, "driver name");
  EnsureGdal();
  return Napi::Boolean::New(info.Env(), GDALGetDriverByName(name.c_str()) != nullptr);
}

}  // namespace

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) ThrowArg(info.Env(), std::string(name) + " must be a string");
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s.empty() || s.find('\0') != std::string::npos) {
    ThrowArg(info.Env(), std::string(name) + " must be a non-empty string without NUL characters");
  }
  return s;
}

Napi::Function RasterReader::Init(Napi::Env env) {
  return DefineClass(env, "RasterReader",
                     {InstanceMethod<&RasterReader::Info>("info"),
                      InstanceMethod<&RasterReader::ReadInto>("readInto"),
                      InstanceMethod<&RasterReader::ReadIntoAsync>("readIntoAsync"),
                      InstanceMethod<&RasterReader::Close>("close")});
}

RasterReader::RasterReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RasterReader>(info) {
  Napi::Env env = info.Env();
  path_ = StringArg(info, 0, "path");
  int maxHandles = 4;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) ThrowArg(env, "options must be an object");
    Napi::Value mh = info[1].As<Napi::Object>().Get("maxHandles");
    if (!mh.IsUndefined()) {
      const double v = mh.IsNumber() ? mh.As<Napi::Number>().DoubleValue() : -1;
      if (!(v >= 1 && v <= 64 && v == std::floor(v))) ThrowArg(env, "options.maxHandles must be an integer in [1, 64]");
      maxHandles = static_cast<int>(v);
    }
  }
  RasterEnv& renv = GetRasterEnv(env);
  Guard(env, [&] { source_ = std::make_shared<RasterSource>(path_, maxHandles, renv); });
}

RasterReader::~RasterReader() {
  if (source_) source_->Close();
}

RasterSource& RasterReader::Source(Napi::Env env) {
  if (!source_) ThrowJs(env, ErrorInfo{"ERR_CLOSED", "reader for '" + path_ + "' is closed", path_, 0, ""});
  return *source_;
}

Napi::Value RasterReader::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const RasterMeta& m = Source(env).meta();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array shape = Napi::Array::New(env, 3);
  shape.Set(0u, static_cast<double>(m.H));
  shape.Set(1u, static_cast<double>(m.W));
  shape.Set(2u, static_cast<double>(m.C));
  o.Set("shape", shape);
  o.Set("dtype", DTypeName(m.dtype));
  o.Set("driver", m.driver);
  o.Set("isCog", m.isCog);
  o.Set("blockSize", Pair(env, m.blockH, m.blockW));
  Napi::Array ovr = Napi::Array::New(env, m.overviews.size());
  for (size_t i = 0; i < m.overviews.size(); ++i) ovr.Set(i, Pair(env, m.overviews[i].first, m.overviews[i].second));
  o.Set("overviews", ovr);
  o.Set("palette", m.palette);
  o.Set("tiled", m.tiled);
  o.Set("tileDecoder", !m.tiled ? env.Null() : Napi::String::New(env, m.libtiff ? "libtiff" : "gdal"));
  o.Set("compression", m.compression.empty() ? env.Null() : Napi::String::New(env, m.compression));
  o.Set("predictor", static_cast<double>(m.predictor));
  return o;
}

// Sync read: runs on the JS thread with a handle leased from the pool (only on a tile-cache
// miss for tiled files).
Napi::Value RasterReader::ReadInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RasterSource& src = Source(env);
  const RasterMeta& m = src.meta();
  if (info.Length() < 2) ThrowArg(env, "readInto(dst, req) takes two arguments");
  Window win;
  Destination dst;
  ParseRequest(env, info[0], info[1], m.H, m.W, m.C, m.dtype, &win, &dst, true);
  Guard(env, [&] { src.Read(win, dst); });
  return env.Undefined();
}

// Async read: the request is parsed into structs here; the pool thread gets the structs, a
// shared_ptr to the source and a raw pointer into dst, which stays pinned until the job ends.
Napi::Value RasterReader::ReadIntoAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RasterSource& src = Source(env);
  const RasterMeta& m = src.meta();
  if (info.Length() < 2) ThrowArg(env, "readIntoAsync(dst, req) takes two arguments");
  Window win;
  Destination dst;
  ParseRequest(env, info[0], info[1], m.H, m.W, m.C, m.dtype, &win, &dst, true);
  std::shared_ptr<RasterSource> keep = source_;
  return AsyncJob::Run(env, "ndsampler.RasterReader.readAsync", [keep, win, dst] { keep->Read(win, dst); },
                      {info[0].As<Napi::Object>()});
}

Napi::Value RasterReader::Close(const Napi::CallbackInfo& info) {
  if (source_) {
    source_->Close();
    source_.reset();
  }
  return info.Env().Undefined();
}

void InitRaster(Napi::Env env, Napi::Object exports) {
  EnsureGdal();
  GetRasterEnv(env);
  Napi::Function ctor = RasterReader::Init(env);
  GetData(env)->rasterReaderCtor = Napi::Persistent(ctor);
  exports.Set("RasterReader", ctor);
  exports.Set("tileCacheStats", Napi::Function::New(env, TileCacheStatsJs, "tileCacheStats"));
  exports.Set("setTileCacheBudget", Napi::Function::New(env, SetTileCacheBudget, "setTileCacheBudget"));
  exports.Set("setMaxOpenDatasets", Napi::Function::New(env, SetMaxOpenDatasets, "setMaxOpenDatasets"));
  exports.Set("datasetStats", Napi::Function::New(env, DatasetStats, "datasetStats"));
  exports.Set("gdalVersion", Napi::Function::New(env, GdalVersion, "gdalVersion"));
  exports.Set("hasDriver", Napi::Function::New(env, HasDriver, "hasDriver"));
  InitCog(env, exports);
}

}  // namespace nds
