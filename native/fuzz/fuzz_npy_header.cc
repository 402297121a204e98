// libFuzzer target: the .npy header parser (npy/npy_header.cc) on arbitrary bytes.
// Built only by CMake with -DNDS_FUZZ=ON (scripts/fuzz.sh); see native/fuzz/README.md.
//
// The addon builds leave native/fuzz/ out (CMakeLists.txt, binding.gyp); the NDS_FUZZ_TARGET
// guard keeps this file an empty translation unit in any other build all the same.
#ifdef NDS_FUZZ_TARGET
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/errors.h"
#include "npy/npy_header.h"

namespace {

// The parser's documented post-conditions (npy_header.cc, "Parser invariants"); a violation is a
// bug, reported as a crash.
void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void ParseAndCheck(const uint8_t* data, size_t avail, uint64_t fileSize) {
  nds::NpyHeader h;
  try {
    h = nds::ParseNpyHeader(data, avail, fileSize, "fuzz.npy");
  } catch (const nds::CodedError& e) {
    Check(e.info().code == "ERR_NPY_HEADER");
    return;
  }
  Check(h.version >= 1 && h.version <= 3);
  Check(h.ndim == 2 || h.ndim == 3);
  Check(h.dataOffset <= avail);
  uint64_t bytes = 0;
  Check(nds::NpyDataBytes(h.dtype, h.shape, &bytes));
  Check(h.dataOffset + bytes == fileSize);
  int64_t sy, sx, sc;
  nds::NpyStrides(h, &sy, &sx, &sc);
  Check(sy >= 0 && sx >= 0 && sc >= 0 && sy <= nds::kMaxSafeInteger && sx <= nds::kMaxSafeInteger &&
        sc <= nds::kMaxSafeInteger);
  // The last element lies inside the data section.
  if (h.shape[0] > 0 && h.shape[1] > 0 && h.shape[2] > 0) {
    const uint64_t last = static_cast<uint64_t>((h.shape[0] - 1) * sy + (h.shape[1] - 1) * sx + (h.shape[2] - 1) * sc);
    Check(last + nds::ItemSize(h.dtype) <= bytes);
  }
  // The writer's header for the same shape parses back to the same shape (C order, little-endian).
  uint64_t wbytes = 0;
  if (h.dataOffset < 4096 && nds::NpyDataBytes(h.dtype, h.shape, &wbytes) && wbytes < (1u << 16)) {
    const std::string hdr = nds::BuildNpyHeader(h.dtype, h.ndim, h.shape);
    Check(hdr.size() % 64 == 0);
    std::vector<uint8_t> file(hdr.begin(), hdr.end());
    file.resize(hdr.size() + wbytes);
    const nds::NpyHeader back = nds::ParseNpyHeader(file.data(), file.size(), file.size(), "round-trip.npy");
    Check(back.dtype == h.dtype && back.ndim == h.ndim && !back.fortranOrder && back.dataOffset == hdr.size());
    Check(back.shape[0] == h.shape[0] && back.shape[1] == h.shape[1] && back.shape[2] == h.shape[2]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The bytes live in a buffer of exactly `size` bytes (libFuzzer's own copy), so reading one byte
  // past `avail` is an ASan report. The parser is called as NpyReader does (the whole file mapped)
  // and as a short first read of a larger file (avail < fileSize).
  ParseAndCheck(data, size, size);
  if (size > 0) {
    const size_t head = size / 2;
    std::vector<uint8_t> prefix(data, data + head);
    ParseAndCheck(prefix.data(), prefix.size(), size + (data[0] & 0x3f));
  }
  return 0;
}
#endif  // NDS_FUZZ_TARGET
