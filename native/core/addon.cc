// Module entry: per-env instance data and the whole exported surface of the addon, at a glance
// (lib/native.ts `NativeBinding` types exactly this list). Runs on the JS thread of the
// environment that loads the addon (the main thread or a worker thread), once per environment.
#include <napi.h>

#include "batch/batch_buffer.h"
#include "batch/batch_job.h"
#include "batch/pool_js.h"
#include "core/addon_data.h"
#include "core/args.h"
#include "core/errors.h"
#include "core/file_lock.h"
#include "hash/xxh128.h"
#include "labels/mask_job.h"
#include "npy/npy_reader.h"
#include "npy/npy_writer.h"
#include "raster/cog_codecs.h"
#include "raster/cog_detect.h"
#include "raster/cog_writer.h"
#include "raster/encoder.h"
#include "raster/gdal_setup.h"
#include "raster/npy_conversion.h"
#include "raster/raster_env.h"
#include "raster/raster_open.h"
#include "raster/raster_reader.h"
#include "raster/raster_writer.h"
#include "raster/remote_cancel.h"
#include "raster/remote_io.h"

namespace {

// setErrorFactory(fn): lib/errors.ts registers the function that builds NdsamplerErrors.
Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) nds::ThrowArg(env, "setErrorFactory(fn) takes a function");
  nds::GetData(env)->errorFactory = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

// trackTemp(path) / untrackTemp(path): lib/atomic.ts's temporary files, removed at env teardown.
Napi::Value TrackTemp(const Napi::CallbackInfo& info) {
  nds::GetData(info.Env())->temps.insert(nds::StringArg(info, 0, "trackTemp(path): path"));
  return info.Env().Undefined();
}
Napi::Value UntrackTemp(const Napi::CallbackInfo& info) {
  nds::GetData(info.Env())->temps.erase(nds::StringArg(info, 0, "untrackTemp(path): path"));
  return info.Env().Undefined();
}

// Every exported function runs inside nds::Shielded (core/errors.h): no C++ exception ever
// leaves the addon, even in a worker thread that is being terminated.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New<nds::ShieldedFn<F>>(env, name));
}

void DefineExports(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<nds::AddonData>(new nds::AddonData());  // deleted by node-addon-api at env teardown
  nds::EnsureGdal();
  nds::GetRasterEnv(env);

  Export<SetErrorFactory>(env, exports, "setErrorFactory");
  Export<TrackTemp>(env, exports, "trackTemp");
  Export<UntrackTemp>(env, exports, "untrackTemp");
  // cache-entry locks
  Export<nds::LockFileJs>(env, exports, "lockFile");
  Export<nds::UnlockFileJs>(env, exports, "unlockFile");
  // XXH3-128 of cache keys and files
  exports.Set("Xxh128", nds::Xxh128::Define(env));
  Export<nds::Xxh128Js>(env, exports, "xxh128");
  // npy
  Napi::Function npyClass = nds::NpyReader::Define(env);
  nds::GetData(env)->npyReaderClass = Napi::Persistent(npyClass);  // loadBatch checks what it unwraps
  exports.Set("NpyReader", npyClass);
  Export<nds::NpyReadIntoJs>(env, exports, "npyReadInto");
  Export<nds::WriteNpyJs>(env, exports, "writeNpy");
  Export<nds::MappingStatsJs>(env, exports, "mappingStats");
  Export<nds::SetMappingBudgetJs>(env, exports, "setMappingBudget");
  // raster reading
  Napi::Function rasterClass = nds::RasterReader::Define(env);
  nds::GetData(env)->rasterReaderClass = Napi::Persistent(rasterClass);
  exports.Set("RasterReader", rasterClass);
  Export<nds::TileCacheStatsJs>(env, exports, "tileCacheStats");
  Export<nds::SetTileCacheBudgetJs>(env, exports, "setTileCacheBudget");
  Export<nds::SetMaxOpenDatasetsJs>(env, exports, "setMaxOpenDatasets");
  Export<nds::DatasetStatsJs>(env, exports, "datasetStats");
  Export<nds::SetPixelLimitJs>(env, exports, "setPixelLimit");
  Export<nds::GdalVersionJs>(env, exports, "gdalVersion");
  Export<nds::HasDriverJs>(env, exports, "hasDriver");
  // COG and other writers
  Export<nds::WriteCogJs>(env, exports, "writeCog");
  Export<nds::WriteCogAsyncJs>(env, exports, "writeCogAsync");
  Export<nds::ConvertToNpyJs>(env, exports, "convertToNpy");
  Export<nds::ConvertToNpyAsyncJs>(env, exports, "convertToNpyAsync");
  Export<nds::IsCogJs>(env, exports, "isCog");
  Export<nds::CogCompressionsJs>(env, exports, "cogCompressions");
  Export<nds::WriteRasterJs>(env, exports, "writeRaster");
  Export<nds::EncodeJs>(env, exports, "encode");
  Export<nds::EncodeAsyncJs>(env, exports, "encodeAsync");
  Export<nds::VsimemUnlinkJs>(env, exports, "vsimemUnlink");
  // remote files (GDAL's VSI layer)
  Export<nds::StatRemoteJs>(env, exports, "statRemote");
  Export<nds::StatRemoteAsyncJs>(env, exports, "statRemoteAsync");
  Export<nds::ReadVsiFileJs>(env, exports, "readVsiFile");
  Export<nds::ReadVsiFileAsyncJs>(env, exports, "readVsiFileAsync");
  Export<nds::OpenRasterAsyncJs>(env, exports, "openRasterAsync");
  Export<nds::OpenPublishedAsyncJs>(env, exports, "openPublishedAsync");
  Export<nds::OpenPublishedJs>(env, exports, "openPublished");
  Export<nds::CogHeaderLengthAsyncJs>(env, exports, "cogHeaderLengthAsync");
  Export<nds::NewCancelTokenJs>(env, exports, "newCancelToken");
  Export<nds::CancelTokenJs>(env, exports, "cancelToken");
  Export<nds::UploadFileJs>(env, exports, "uploadFile");
  Export<nds::UploadFileAsyncJs>(env, exports, "uploadFileAsync");
  Export<nds::SetConfigOptionsJs>(env, exports, "setConfigOptions");
  Export<nds::GetConfigOptionJs>(env, exports, "getConfigOption");
  Export<nds::ListDirJs>(env, exports, "listDir");
  Export<nds::ClearRemoteCacheJs>(env, exports, "clearRemoteCache");
  // batches on the addon's thread pool
  Export<nds::LoadBatchJs>(env, exports, "loadBatch");
  Export<nds::LoadBatchSyncJs>(env, exports, "loadBatchSync");
  Export<nds::CancelBatchJs>(env, exports, "cancelBatch");
  Export<nds::BatchMemoryStatsJs>(env, exports, "batchMemoryStats");
  Export<nds::SetThreadPoolSizeJs>(env, exports, "setThreadPoolSize");
  Export<nds::ThreadPoolSizeJs>(env, exports, "threadPoolSize");
  Export<nds::SetThreadPoolNiceJs>(env, exports, "setThreadPoolNice");
  Export<nds::ThreadPoolNiceJs>(env, exports, "threadPoolNice");
  // masks of labeled batches, on the same pool
  Export<nds::RasterizeMasksJs>(env, exports, "rasterizeMasks");
}

// JS thread, once per environment (main thread or worker). A worker terminated while it loads
// the addon makes these N-API calls fail; node-addon-api's module wrapper would rethrow that
// Napi::Error into V8's frames and end the process, so everything runs inside Shielded and a
// failure leaves a pending JS exception (the require() fails in that worker only).
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Value done = nds::Shielded(env, [&] {
    DefineExports(env, exports);
    return Napi::Value(exports);
  });
  return done.IsEmpty() ? Napi::Object() : exports;
}

}  // namespace

NODE_API_MODULE(ndsampler, Init)
