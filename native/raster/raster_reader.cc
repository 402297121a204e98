// RasterReader (JS class). Everything here runs on the JS thread of its env except the lambda
// an AsyncJob runs on the pool.
#include "raster/raster_reader.h"

#include "core/args.h"
#include "core/errors.h"
#include "core/staged_read.h"
#include "raster/raster_env.h"

namespace nds {

namespace {

Napi::Array Pair(Napi::Env env, int64_t a, int64_t b) {
  Napi::Array arr = Napi::Array::New(env, 2);
  arr.Set(0u, Napi::Number::New(env, static_cast<double>(a)));
  arr.Set(1u, Napi::Number::New(env, static_cast<double>(b)));
  return arr;
}

}  // namespace

Napi::Function RasterReader::Define(Napi::Env env) {
  return JsClass<RasterReader>::Define(env, "RasterReader",
                                       {JsClass<RasterReader>::Def<&RasterReader::Info>("info"),
                                        JsClass<RasterReader>::Def<&RasterReader::ReadInto>("readInto"),
                                        JsClass<RasterReader>::Def<&RasterReader::ReadIntoAsync>("readIntoAsync"),
                                        JsClass<RasterReader>::Def<&RasterReader::Close>("close")});
}

RasterReader::RasterReader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  path_ = StringArg(info, 0, "path");
  int maxHandles = 4;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    Napi::Value mh = ObjectValue(env, info[1], "options").Get("maxHandles");
    if (!mh.IsUndefined()) maxHandles = static_cast<int>(IntValue(env, mh, 1, 64, "options.maxHandles"));
  }
  RasterEnv& renv = GetRasterEnv(env);
  Guard(env, [&] { source_ = std::make_shared<RasterSource>(path_, maxHandles, renv); });
}

// Runs in the finalizer (GC or env teardown): nothing may escape it.
RasterReader::~RasterReader() {
  try {
    if (source_) source_->Close();
  } catch (...) {
  }
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

RasterSource& RasterReader::ParseRead(const Napi::CallbackInfo& info, const char* usage, Window* win, Destination* dst,
                                      bool allowNew) {
  Napi::Env env = info.Env();
  RasterSource& src = Source(env);
  const RasterMeta& m = src.meta();
  if (info.Length() < 2) ThrowArg(env, usage);
  ParseRequest(env, info[0], info[1], m.H, m.W, m.C, m.dtype, win, dst, true, allowNew);
  return src;
}

// Sync read: runs on the JS thread with a handle leased from the pool (only on a tile-cache
// miss for tiled files).
Napi::Value RasterReader::ReadInto(const Napi::CallbackInfo& info) {
  Window win;
  Destination dst;
  RasterSource& src = ParseRead(info, "readInto(dst, req) takes two arguments", &win, &dst);
  Guard(info.Env(), [&] { src.Read(win, dst); });
  return info.Env().Undefined();
}

// Async read: into the caller's typed array, or (dst null) a new ArrayBuffer. The request is
// parsed into structs here; the pool thread gets the structs, a shared_ptr to the source and a
// staging buffer the job owns (core/staged_read.h), never JS memory.
Napi::Value RasterReader::ReadIntoAsync(const Napi::CallbackInfo& info) {
  Window win;
  Destination dst;
  const DType dtype = ParseRead(info, "readIntoAsync(dst, req) takes two arguments", &win, &dst, true).meta().dtype;
  std::shared_ptr<RasterSource> keep = source_;
  return RunStagedRead(info.Env(), "ndsampler.RasterReader.readAsync", info[0], dtype, win, dst,
                       [keep, win](const Destination& d) { keep->Read(win, d); });
}

Napi::Value RasterReader::Close(const Napi::CallbackInfo& info) {
  if (source_) {
    source_->Close();
    source_.reset();
  }
  return info.Env().Undefined();
}

}  // namespace nds
