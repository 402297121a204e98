// RasterReader: the JS class over a RasterSource (one raster file, windowed reads).
// Constructed, queried and closed on the JS thread; readIntoAsync runs the read on the libuv
// pool with a shared_ptr to the source, so close() never frees anything under a running read.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "core/errors.h"
#include "core/js_class.h"
#include "raster/published_vsi.h"
#include "raster/raster_source.h"

namespace nds {

class RasterReader {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit RasterReader(const Napi::CallbackInfo& info);
  ~RasterReader();
  // JS thread: the open source (null after close()), for loadBatch (batch/batch_job.cc).
  std::shared_ptr<RasterSource> source() const { return source_; }

 private:
  friend class JsClass<RasterReader>;
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value ReadInto(const Napi::CallbackInfo& info);
  Napi::Value ReadIntoAsync(const Napi::CallbackInfo& info);
  // prefetchAsync(windows: Float64Array [y0, y1, x0, x1] per window, token?): fetches the remote
  // bytes those windows need at once (published objects: raster/raster_open.h); a no-op for
  // other sources.
  Napi::Value PrefetchAsync(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // Main thread: the open source, or a thrown ERR_CLOSED.
  RasterSource& Source(Napi::Env env);
  // JS thread: the open source, with (info[0], info[1]) parsed into win/dst against it, or a
  // thrown error (`usage` when an argument is missing). `allowNew`: a null info[0] means a new array.
  RasterSource& ParseRead(const Napi::CallbackInfo& info, const char* usage, Window* win, Destination* dst,
                          bool allowNew = false);

  std::shared_ptr<RasterSource> source_;      // null after close()
  std::shared_ptr<PublishedFile> published_;  // set when opened by openPublishedAsync
  std::string path_;
};

}  // namespace nds
