// RasterReader (JS class). Everything here runs on the JS thread of its env except the lambda
// an AsyncJob runs on the pool.
#include "raster/raster_reader.h"

#include <algorithm>
#include <vector>

#include "core/args.h"
#include "core/async_job.h"
#include "core/errors.h"
#include "core/staged_read.h"
#include "raster/raster_env.h"
#include "raster/raster_open.h"
#include "raster/remote_cancel.h"

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
                                        JsClass<RasterReader>::Def<&RasterReader::PrefetchAsync>("prefetchAsync"),
                                        JsClass<RasterReader>::Def<&RasterReader::Close>("close")});
}

RasterReader::RasterReader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (OpenedRaster* opened = info.Length() > 0 ? OpenedRasterFrom(env, info[0]) : nullptr) {
    // made by openRasterAsync / openPublishedAsync: the source is already open
    if (!opened->source) ThrowArg(env, "this opened reader was already used");
    source_ = std::move(opened->source);
    published_ = std::move(opened->published);
    path_ = opened->path;
    return;
  }
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
  if (m.identEntry.empty() && m.identSrc.empty()) {
    o.Set("identity", env.Null());
  } else {
    Napi::Object id = Napi::Object::New(env);
    id.Set("entry", m.identEntry);
    id.Set("src", m.identSrc);
    o.Set("identity", id);
  }
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

Napi::Value RasterReader::PrefetchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RasterSource& src = Source(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowArg(env, "prefetchAsync(windows: Float64Array, token?)");
  }
  Napi::Float64Array w = info[0].As<Napi::Float64Array>();
  const CancelFlag cancel = CancelFlagFrom(env, info[1]);
  const RasterMeta& m = src.meta();
  std::vector<Window> windows;
  for (size_t i = 0; i + 3 < w.ElementLength(); i += 4) {
    Window win{static_cast<int64_t>(w[i]),
               static_cast<int64_t>(w[i + 1]),
               static_cast<int64_t>(w[i + 2]),
               static_cast<int64_t>(w[i + 3]),
               0,
               m.C};
    win.y0 = std::max<int64_t>(0, win.y0);
    win.x0 = std::max<int64_t>(0, win.x0);
    win.y1 = std::min(m.H, win.y1);
    win.x1 = std::min(m.W, win.x1);
    if (win.y1 > win.y0 && win.x1 > win.x0) windows.push_back(win);
  }
  std::shared_ptr<RasterSource> keep = source_;
  std::shared_ptr<PublishedFile> file = published_;
  return AsyncJob::Run(env, "ndsampler.RasterReader.prefetchAsync",
                       [keep, file, windows, cancel] { PrefetchWindows(keep, file, windows, cancel); });
}

Napi::Value RasterReader::Close(const Napi::CallbackInfo& info) {
  if (source_) {
    source_->Close();
    source_.reset();
  }
  published_.reset();
  return info.Env().Undefined();
}

}  // namespace nds
