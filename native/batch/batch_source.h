// The files of a batch: each distinct reader of a loadBatch call becomes one BatchSource, pinned
// for the batch's lifetime (an npy mapping or a RasterSource, by shared_ptr: closing the JS reader
// meanwhile does not unmap or free what a crop reads). Parsed on the JS thread, then immutable;
// read by pool threads.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "core/copy_kernel.h"
#include "core/dtype.h"
#include "core/errors.h"
#include "core/request.h"
#include "npy/mapping.h"
#include "npy/sigbus_guard.h"
#include "raster/raster_source.h"

namespace nds {

enum class SrcKind { kNpy, kRaster };

struct BatchSource {
  SrcKind kind = SrcKind::kNpy;
  std::shared_ptr<const Mapping> map;    // kNpy: pinned mapping
  SrcLayout layout{};                    // kNpy: element (0, 0, 0) and byte strides
  std::shared_ptr<RasterSource> raster;  // kRaster
  std::string path;
  DType dtype = DType::U8;
  int64_t H = 0, W = 0, C = 0;
};

// JS thread. A source from an npy or raster reader of this env (InstanceOf-checked); ERR_CLOSED
// when the reader is closed. A raster source may open up to `rasterHandles` GDAL handles at once.
BatchSource ParseSource(Napi::Env env, const Napi::Value& v, int rasterHandles);

// Any thread. The error of a crop whose npy file was cut or rewritten under its mapping.
CodedError SourceCutError(const BatchSource& s);

// Any thread. Runs `fn` (a plain copy out of the source's memory: no locks, no allocation) armed
// against SIGBUS when the source is an npy mapping: a file cut under it is ERR_SOURCE_CHANGED, not
// a dead process. Raster sources run it as it is.
template <typename F>
void ReadArmed(const BatchSource& s, F&& fn) {
  if (s.kind != SrcKind::kNpy) {
    fn();
    return;
  }
  if (s.map->damaged() || !GuardedCopy(fn)) throw SourceCutError(s);
}

// Any thread. Reads window `win` of a raster source at out x ow into `dst` (h x w x c contiguous,
// the source's dtype). ERR_GDAL_READ, ERR_CLOSED, ...
void ReadRasterBlock(const BatchSource& s, const Window& win, int64_t oh, int64_t ow, uint8_t* dst);

}  // namespace nds
