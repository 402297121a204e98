// BatchSource parsing (see batch_source.h).
#include "batch/batch_source.h"

#include <utility>

#include "core/addon_data.h"
#include "core/args.h"
#include "core/js_class.h"
#include "npy/npy_reader.h"
#include "raster/raster_reader.h"

namespace nds {

BatchSource ParseSource(Napi::Env env, const Napi::Value& v, int rasterHandles) {
  AddonData* ad = GetData(env);
  BatchSource s;
  if (!v.IsObject()) ThrowArg(env, "loadBatch: each source must be an npy or raster reader");
  Napi::Object o = v.As<Napi::Object>();
  if (o.InstanceOf(ad->npyReaderClass.Value())) {
    NpyReader* r = JsClass<NpyReader>::Unwrap(env, o);
    if (r == nullptr || !r->state()->map) throw CodedError("ERR_CLOSED", "an npy reader of the batch is closed");
    std::shared_ptr<NpyState> st = r->state();
    s.kind = SrcKind::kNpy;
    s.path = st->path;
    s.map = st->map;
    s.layout = st->layout;
    s.dtype = st->header.dtype;
    s.H = st->header.shape[0], s.W = st->header.shape[1], s.C = st->header.shape[2];
    return s;
  }
  if (o.InstanceOf(ad->rasterReaderClass.Value())) {
    RasterReader* r = JsClass<RasterReader>::Unwrap(env, o);
    std::shared_ptr<RasterSource> src = r == nullptr ? nullptr : r->source();
    if (!src) throw CodedError("ERR_CLOSED", "a raster reader of the batch is closed");
    src->ReserveHandles(rasterHandles);
    const RasterMeta& m = src->meta();
    s.kind = SrcKind::kRaster;
    s.raster = std::move(src);
    s.dtype = m.dtype;
    s.H = m.H, s.W = m.W, s.C = m.C;
    return s;
  }
  ThrowArg(env, "loadBatch: each source must be an npy or raster reader");
}

CodedError SourceCutError(const BatchSource& s) {
  return CodedError("ERR_SOURCE_CHANGED", "'" + s.path + "' changed on disk (it was cut under its mapping)", s.path);
}

void ReadRasterBlock(const BatchSource& s, const Window& win, int64_t oh, int64_t ow, uint8_t* dst) {
  Destination d;
  d.data = dst;
  d.length = oh * ow * win.c();
  d.sy = ow * win.c(), d.sx = win.c(), d.sc = 1, d.outH = oh, d.outW = ow;
  s.raster->Read(win, d);
}

}  // namespace nds
