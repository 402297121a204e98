// Writing .npy files: WriteNpyFile (pure C++, any thread; also used by raster/npy_conversion)
// and the binding's writeNpy (JS thread).
#pragma once
#include <napi.h>

#include <cstdint>
#include <functional>
#include <string>

#include "core/dtype.h"

namespace nds {

// Writes a v1.0 C-order little-endian npy file at `path` through WriteFileAtomic
// (core/atomic_file.h): the temp file is created, sized, mapped and filled by
// `fill(dataPtr)` (C-order HWC, little-endian, product(shape)*itemsize bytes), then published.
// `path` is never left half-written. Throws CodedError: ERR_UNSUPPORTED for a shape too large
// for an npy file, file errors (ERR_IO, ...) with path and errno.
void WriteNpyFile(const std::string& path, DType dtype, int ndim, const int64_t shape[3],
                  const std::function<void(uint8_t*)>& fill);

// writeNpy(path, data, desc {shape, strides, offset, dtype, ndim}): writes the array desc
// describes over data as an npy file. JS thread, synchronous.
Napi::Value WriteNpyJs(const Napi::CallbackInfo& info);

}  // namespace nds
