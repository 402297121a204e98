// ConvertToNpy and its binding functions.
#include "raster/npy_conversion.h"

#include "core/args.h"
#include "core/async_job.h"
#include "core/errors.h"
#include "npy/npy_writer.h"
#include "raster/gdal_setup.h"
#include "raster/path_checks.h"
#include "raster/raster_source.h"

namespace nds {

void ConvertToNpy(const std::string& src, const std::string& dst, const RasterEnv& env) {
  RasterSource source(src, 1, env);
  CheckDestination(dst);
  const RasterMeta& m = source.meta();
  const int64_t shape[3] = {m.H, m.W, m.C};
  const Window win{0, m.H, 0, m.W, 0, m.C};
  WriteNpyFile(dst, m.dtype, 3, shape, [&](uint8_t* data) {
    Destination d;
    d.data = data;
    d.length = m.H * m.W * m.C;
    d.offset = 0;
    d.sy = m.W * m.C;
    d.sx = m.C;
    d.sc = 1;
    d.outH = m.H;
    d.outW = m.W;
    source.ReadDirect(win, d);
  });
}

Napi::Value ConvertToNpyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  const RasterEnv& renv = GetRasterEnv(env);
  Guard(env, [&] { ConvertToNpy(src, dst, renv); });
  return env.Undefined();
}

Napi::Value ConvertToNpyAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  const RasterEnv renv = GetRasterEnv(env);  // a copy: the job holds its own references
  EnsureGdal();
  return AsyncJob::Run(env, "ndsampler.convertToNpyAsync", [src, dst, renv] { ConvertToNpy(src, dst, renv); });
}

}  // namespace nds
