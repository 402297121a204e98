// The .npy format: a strict header parser and an atomic writer. Pure C++, any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common.h"

namespace nds {

struct NpyHeader {
  int version = 1;            // 1, 2 or 3
  DType dtype = DType::U8;
  bool bigEndian = false;     // the data's byte order is big-endian ('>')
  bool fortranOrder = false;
  int ndim = 3;               // 2 or 3; a 2-D array is served as H x W x 1
  int64_t shape[3] = {0, 0, 1};
  size_t dataOffset = 0;      // bytes from the start of the file to the first element
  size_t dataBytes = 0;       // product(shape) * itemsize
};

// Parses the header at the start of a file of `fileSize` bytes whose first `avail` bytes are at
// `data`. Throws CodedError ERR_NPY_HEADER (with `path`) for anything that is not a 2-D or 3-D
// array of one of the eight dtypes, or whose data section is shorter than the header claims.
NpyHeader ParseNpyHeader(const uint8_t* data, size_t avail, uint64_t fileSize, const std::string& path);

// Element strides, in bytes, of (row, column, channel) for a parsed header.
void NpyStrides(const NpyHeader& h, int64_t* sy, int64_t* sx, int64_t* sc);

// The v1.0 header (magic, version, length, dict, padding) for a C-order little-endian array,
// padded so the data starts at a multiple of 64 bytes.
std::string BuildNpyHeader(DType dtype, int ndim, const int64_t shape[3]);

// Writes an npy file atomically: a temporary file in the same directory is sized, filled by
// `fill(dataPtr)` (C-order HWC, little-endian, product(shape)*itemsize bytes), fsync'ed and
// renamed onto `path`. On any failure the temporary file is removed and CodedError is thrown;
// `path` is never left half-written.
void WriteNpyAtomic(const std::string& path, DType dtype, int ndim, const int64_t shape[3],
                    const std::function<void(uint8_t*)>& fill);

}  // namespace nds
