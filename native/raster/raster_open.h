// Opening raster readers off the JS thread (lib/readers-async.ts): openRasterAsync opens any
// GDAL-readable path, remote ones included, on the libuv pool; openPublishedAsync opens a
// published cache object in place through /vsindspub/ (raster/published_vsi.h): one GET for its
// header, then GDAL reads it from memory. Both resolve with a RasterReader (the same JS class as
// `new RasterReader(path)`), built on the JS thread from the source the pool thread opened.
// RasterReader.prefetchAsync fetches the remote bytes of many windows at once (published objects).
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "raster/published_vsi.h"
#include "raster/raster_source.h"

namespace nds {

// What an open job hands to the RasterReader constructor (as a type-tagged External).
struct OpenedRaster {
  std::shared_ptr<RasterSource> source;
  std::shared_ptr<PublishedFile> published;  // null unless opened by openPublishedAsync
  std::string path;
};

// JS thread: the OpenedRaster behind `v` when it is one of ours (type tag), else null.
OpenedRaster* OpenedRasterFrom(Napi::Env env, const Napi::Value& v);

// Any thread: fetches the bytes of the full-resolution tiles `win` needs that are not decoded
// yet, for a published source (no-op otherwise).
void PrefetchWindows(const std::shared_ptr<RasterSource>& source, const std::shared_ptr<PublishedFile>& file,
                     const std::vector<Window>& windows, const CancelFlag& cancel);

// Any thread: where the header of the local (Cloud-Optimized) GeoTIFF `path` ends: the offset
// of its first tile's data (every IFD and tile index lies before it in a COG), less the 4-byte
// block leader. 0 when `path` is not a tiled GeoTIFF.
int64_t CogHeaderLength(const std::string& path);
// cogHeaderLengthAsync(path): CogHeaderLength on the libuv pool. JS thread.
Napi::Value CogHeaderLengthAsyncJs(const Napi::CallbackInfo& info);

// openRasterAsync(path, {maxHandles}, token?) and openPublishedAsync({vsiPath, name, size, head,
// maxHandles}, token?): Promise<RasterReader>. JS thread.
Napi::Value OpenRasterAsyncJs(const Napi::CallbackInfo& info);
Napi::Value OpenPublishedAsyncJs(const Napi::CallbackInfo& info);
// openPublished(spec): the same on the calling thread (synchronous reads; blocks for the server).
Napi::Value OpenPublishedJs(const Napi::CallbackInfo& info);

}  // namespace nds
