// openRasterAsync / openPublishedAsync and the prefetch of published tiles. The JS entry points
// run on the JS thread; the lambdas AsyncJob runs, and PrefetchWindows, on the libuv pool.
#include "raster/raster_open.h"

#include <gdal.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "core/addon_data.h"
#include "core/args.h"
#include "core/async_job.h"
#include "core/errors.h"
#include "raster/gdal_error_scope.h"
#include "raster/gdal_setup.h"
#include "raster/open_dataset.h"
#include "raster/raster_env.h"

namespace nds {

namespace {

constexpr napi_type_tag kOpenedTag = {0x6e64736f70656e65ULL, 0x6452617374657231ULL};

int MaxHandles(Napi::Env env, const Napi::Value& opts) {
  if (opts.IsUndefined()) return 4;
  Napi::Value mh = ObjectValue(env, opts, "options").Get("maxHandles");
  return mh.IsUndefined() ? 4 : static_cast<int>(IntValue(env, mh, 1, 64, "options.maxHandles"));
}

// JS thread (a job's finish): new RasterReader(External<OpenedRaster>).
napi_value NewReader(napi_env env, OpenedRaster opened) {
  AddonData* data = GetData(Napi::Env(env));
  if (data == nullptr || data->rasterReaderClass.IsEmpty()) {
    throw CodedError("ERR_INTERNAL", "the RasterReader class is not registered in this environment");
  }
  auto* heap = new OpenedRaster(std::move(opened));
  napi_value ext = nullptr, reader = nullptr;
  if (napi_create_external(
          env, heap, [](napi_env, void* p, void*) { delete static_cast<OpenedRaster*>(p); }, nullptr, &ext) !=
      napi_ok) {
    delete heap;
    throw CodedError("ERR_INTERNAL", "cannot hand the opened reader over");
  }
  if (napi_type_tag_object(env, ext, &kOpenedTag) != napi_ok ||
      napi_new_instance(env, data->rasterReaderClass.Value(), 1, &ext, &reader) != napi_ok) {
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    heap->source->Close();
    throw CodedError("ERR_INTERNAL", "cannot make the RasterReader of '" + heap->path + "'");
  }
  return reader;
}

// Pool thread: the tile index and the prefetch hook of a published source.
void WirePublished(const std::shared_ptr<RasterSource>& source, const std::shared_ptr<PublishedFile>& file) {
  source->KeepAlive(file);
  const RasterMeta& m = source->meta();
  if (m.tiled && m.blockW > 0 && m.blockH > 0) {
    ScopedDataset ds(OpenForRead(file->path()));  // from the header in memory: no request
    GdalErrorScope scope;
    file->IndexTiles(ds.get(), static_cast<int>((m.W + m.blockW - 1) / m.blockW),
                     static_cast<int>((m.H + m.blockH - 1) / m.blockH), m.bands);
  }
  std::weak_ptr<PublishedFile> weak = file;
  source->SetPrefetch([weak](const std::vector<std::pair<int, int>>& tiles) {
    if (std::shared_ptr<PublishedFile> f = weak.lock()) f->Prefetch(f->TileRanges(tiles), nullptr);
  });
}

}  // namespace

OpenedRaster* OpenedRasterFrom(Napi::Env env, const Napi::Value& v) {
  bool tagged = false;
  if (!v.IsExternal() || napi_check_object_type_tag(env, v, &kOpenedTag, &tagged) != napi_ok || !tagged) {
    return nullptr;
  }
  return static_cast<OpenedRaster*>(v.As<Napi::External<void>>().Data());
}

void PrefetchWindows(const std::shared_ptr<RasterSource>& source, const std::shared_ptr<PublishedFile>& file,
                     const std::vector<Window>& windows, const CancelFlag& cancel) {
  if (!file) return;
  std::set<std::pair<int, int>> tiles;
  for (const Window& w : windows) {
    for (const auto& t : source->MissingTiles(w)) tiles.insert(t);
  }
  if (tiles.empty()) return;
  file->Prefetch(file->TileRanges(std::vector<std::pair<int, int>>(tiles.begin(), tiles.end())), cancel);
}

int64_t CogHeaderLength(const std::string& path) {
  ScopedDataset ds(OpenForRead(path));
  GdalErrorScope scope;
  if (std::string(GDALGetDriverShortName(GDALGetDatasetDriver(ds.get()))) != "GTiff") return 0;
  int64_t first = -1;
  auto consider = [&](GDALRasterBandH b) {
    const char* v = GDALGetMetadataItem(b, "BLOCK_OFFSET_0_0", "TIFF");
    const int64_t off = v == nullptr ? 0 : std::strtoll(v, nullptr, 10);
    if (off > 0 && (first < 0 || off < first)) first = off;
  };
  for (int i = 1; i <= GDALGetRasterCount(ds.get()); ++i) {
    GDALRasterBandH band = GDALGetRasterBand(ds.get(), i);
    consider(band);
    for (int k = 0; k < GDALGetOverviewCount(band); ++k) consider(GDALGetOverview(band, k));
  }
  return first > 8 ? first - 4 : 0;
}

Napi::Value CogHeaderLengthAsyncJs(const Napi::CallbackInfo& info) {
  const std::string path = StringArg(info, 0, "path");
  EnsureGdal();
  auto out = std::make_shared<int64_t>(0);
  return AsyncJob::Run(
      info.Env(), "ndsampler.cogHeaderLengthAsync", [path, out] { *out = CogHeaderLength(path); },
      [out](napi_env e, const std::vector<napi_value>&) {
        napi_value n = nullptr;
        napi_create_double(e, static_cast<double>(*out), &n);
        return n;
      });
}

Napi::Value OpenRasterAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const int maxHandles = MaxHandles(env, info[1]);
  const CancelFlag cancel = CancelFlagFrom(env, info[2]);
  const RasterEnv renv = GetRasterEnv(env);  // a copy: the job keeps the cache and LRU it started with
  EnsureGdal();
  auto opened = std::make_shared<OpenedRaster>();
  opened->path = path;
  return AsyncJob::Run(
      env, "ndsampler.openRasterAsync",
      [opened, maxHandles, cancel, renv] {
        ThrowIfCancelled(cancel, opened->path);
        opened->source = std::make_shared<RasterSource>(opened->path, maxHandles, renv);
      },
      [opened, cancel](napi_env e, const std::vector<napi_value>&) {
        if (cancel && cancel->load()) {
          opened->source->Close();
          ThrowIfCancelled(cancel, opened->path);
        }
        return NewReader(e, std::move(*opened));
      });
}

namespace {

struct PublishedSpec {
  std::string vsiPath, name;
  int64_t size = 0, head = 0;
  int maxHandles = 4;
};

PublishedSpec ParseSpec(Napi::Env env, const Napi::Value& v) {
  Napi::Object spec = ObjectValue(env, v, "spec");
  PublishedSpec s;
  s.vsiPath = StringValue(env, spec.Get("vsiPath"), "spec.vsiPath");
  s.name = StringValue(env, spec.Get("name"), "spec.name");
  s.size = IntValue(env, spec.Get("size"), 1, int64_t{1} << 53, "spec.size");
  s.head = IntValue(env, spec.Get("head"), 1, int64_t{1} << 53, "spec.head");
  s.maxHandles = MaxHandles(env, spec);
  return s;
}

// Any thread: the header GET, then GDAL's open from memory.
void OpenPublished(const PublishedSpec& s, const CancelFlag& cancel, const RasterEnv& renv, OpenedRaster* out) {
  std::shared_ptr<PublishedFile> file = PublishedFile::Open(s.vsiPath, s.name, s.size, s.head, cancel);
  ScopedReadCancel scoped(cancel);
  auto source = std::make_shared<RasterSource>(file->path(), s.maxHandles, renv);
  WirePublished(source, file);
  out->source = std::move(source);
  out->published = std::move(file);
}

}  // namespace

Napi::Value OpenPublishedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PublishedSpec spec = ParseSpec(env, info[0]);
  const RasterEnv& renv = GetRasterEnv(env);
  return Guard(env, [&]() -> Napi::Value {
    OpenedRaster opened;
    opened.path = spec.name;
    OpenPublished(spec, nullptr, renv, &opened);
    return Napi::Value(env, NewReader(env, std::move(opened)));
  });
}

Napi::Value OpenPublishedAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PublishedSpec spec = ParseSpec(env, info[0]);
  const CancelFlag cancel = CancelFlagFrom(env, info[1]);
  const RasterEnv renv = GetRasterEnv(env);
  EnsureGdal();
  auto opened = std::make_shared<OpenedRaster>();
  opened->path = spec.name;
  return AsyncJob::Run(
      env, "ndsampler.openPublishedAsync",
      [opened, spec, cancel, renv] { OpenPublished(spec, cancel, renv, opened.get()); },
      [opened, cancel](napi_env e, const std::vector<napi_value>&) {
        if (cancel && cancel->load()) {
          opened->source->Close();
          ThrowIfCancelled(cancel, opened->path);
        }
        return NewReader(e, std::move(*opened));
      });
}

}  // namespace nds
