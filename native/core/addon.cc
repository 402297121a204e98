// Module entry: per-env instance data and the whole exported surface of the addon, at a glance
// (lib/native.ts `NativeBinding` types exactly this list). Runs on the JS thread of the
// environment that loads the addon (the main thread or a worker thread), once per environment.
#include <napi.h>

#include "batch/batch_job.h"
#include "core/addon_data.h"
#include "core/errors.h"
#include "core/file_lock.h"
#include "npy/npy_reader.h"
#include "npy/npy_writer.h"
#include "raster/cog_codecs.h"
#include "raster/cog_detect.h"
#include "raster/cog_writer.h"
#include "raster/gdal_setup.h"
#include "raster/npy_conversion.h"
#include "raster/raster_env.h"
#include "raster/raster_reader.h"
#include "raster/raster_writer.h"
#include "raster/remote_io.h"

namespace {

// setErrorFactory(fn): lib/errors.ts registers the function that builds NdsamplerErrors.
Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) nds::ThrowArg(env, "setErrorFactory(fn) takes a function");
  nds::GetData(env)->errorFactory = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

void Export(Napi::Env env, Napi::Object exports, const char* name, Napi::Function::Callback fn) {
  exports.Set(name, Napi::Function::New(env, fn, name));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<nds::AddonData>(new nds::AddonData());  // deleted by node-addon-api at env teardown
  nds::EnsureGdal();
  nds::GetRasterEnv(env);

  Export(env, exports, "setErrorFactory", SetErrorFactory);
  // cache-entry locks
  Export(env, exports, "lockFile", nds::LockFileJs);
  Export(env, exports, "unlockFile", nds::UnlockFileJs);
  // npy
  Napi::Function npyClass = nds::NpyReader::Define(env);
  nds::GetData(env)->npyReaderClass = Napi::Persistent(npyClass);
  exports.Set("NpyReader", npyClass);
  Export(env, exports, "writeNpy", nds::WriteNpyJs);
  // raster reading
  Napi::Function rasterClass = nds::RasterReader::Define(env);
  nds::GetData(env)->rasterReaderClass = Napi::Persistent(rasterClass);
  exports.Set("RasterReader", rasterClass);
  Export(env, exports, "tileCacheStats", nds::TileCacheStatsJs);
  Export(env, exports, "setTileCacheBudget", nds::SetTileCacheBudgetJs);
  Export(env, exports, "setMaxOpenDatasets", nds::SetMaxOpenDatasetsJs);
  Export(env, exports, "datasetStats", nds::DatasetStatsJs);
  Export(env, exports, "setPixelLimit", nds::SetPixelLimitJs);
  Export(env, exports, "gdalVersion", nds::GdalVersionJs);
  Export(env, exports, "hasDriver", nds::HasDriverJs);
  // COG and other writers
  Export(env, exports, "writeCog", nds::WriteCogJs);
  Export(env, exports, "writeCogAsync", nds::WriteCogAsyncJs);
  Export(env, exports, "convertToNpy", nds::ConvertToNpyJs);
  Export(env, exports, "convertToNpyAsync", nds::ConvertToNpyAsyncJs);
  Export(env, exports, "isCog", nds::IsCogJs);
  Export(env, exports, "cogCompressions", nds::CogCompressionsJs);
  Export(env, exports, "writeRaster", nds::WriteRasterJs);
  // remote files (GDAL's VSI layer)
  Export(env, exports, "statRemote", nds::StatRemoteJs);
  Export(env, exports, "readVsiFile", nds::ReadVsiFileJs);
  Export(env, exports, "uploadFile", nds::UploadFileJs);
  Export(env, exports, "uploadFileAsync", nds::UploadFileAsyncJs);
  Export(env, exports, "setConfigOptions", nds::SetConfigOptionsJs);
  Export(env, exports, "getConfigOption", nds::GetConfigOptionJs);
  Export(env, exports, "listDir", nds::ListDirJs);
  Export(env, exports, "clearRemoteCache", nds::ClearRemoteCacheJs);
  // batches on the addon's thread pool
  Export(env, exports, "loadBatch", nds::LoadBatchJs);
  Export(env, exports, "cancelBatch", nds::CancelBatchJs);
  Export(env, exports, "setThreadPoolSize", nds::SetThreadPoolSizeJs);
  Export(env, exports, "threadPoolSize", nds::ThreadPoolSizeJs);
  return exports;
}

}  // namespace

NODE_API_MODULE(ndsampler, Init)
