// The .npy header format: a strict parser and the header the writer emits. Pure C++, any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace nds {

struct NpyHeader {
  int version = 1;  // 1, 2 or 3
  DType dtype = DType::U8;
  bool bigEndian = false;  // the data's byte order is big-endian ('>')
  bool fortranOrder = false;
  int ndim = 3;  // 2 or 3; a 2-D array is served as H x W x 1
  int64_t shape[3] = {0, 0, 1};
  size_t dataOffset = 0;  // bytes from the start of the file to the first element
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

// The data size product(shape) * itemsize in bytes; false when it exceeds 2^53 - 1.
bool NpyDataBytes(DType dtype, const int64_t shape[3], uint64_t* bytes);

}  // namespace nds
