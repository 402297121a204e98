// WriteNpyFile and writeNpy. See npy_writer.h for threads.
#include "npy/npy_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/args.h"
#include "core/atomic_file.h"
#include "core/copy_kernel.h"
#include "core/errors.h"
#include "npy/npy_header.h"

namespace nds {

namespace {

// The descriptor and mapping of the temp file being filled; the destructor releases whatever is
// still held when a step throws (WriteFileAtomic then unlinks the file).
class TempWriter {
 public:
  ~TempWriter() {
    if (map_ != nullptr) munmap(map_, len_);
    if (fd_ >= 0) close(fd_);
  }

  // Creates `tmp` (never an existing file), reserves `len` bytes on disk (so filling the
  // mapping cannot fault on a full disk) and maps them. Errors name the target `path`.
  uint8_t* Open(const std::string& tmp, const std::string& path, size_t len) {
    fd_ = open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) ThrowErrno("open", path, errno);
    const int err = posix_fallocate(fd_, 0, static_cast<off_t>(len));
    if (err != 0) ThrowErrno("fallocate", path, err);
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) ThrowErrno("mmap", path, errno);
    map_ = p;
    len_ = len;
    return static_cast<uint8_t*>(p);
  }

  // Unmaps and closes; the written pages stay in the page cache for WriteFileAtomic's fsync.
  void Close(const std::string& path) {
    munmap(map_, len_);
    map_ = nullptr;
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) ThrowErrno("close", path, errno);
  }

 private:
  int fd_ = -1;
  void* map_ = nullptr;
  size_t len_ = 0;
};

}  // namespace

void WriteNpyFile(const std::string& path, DType dtype, int ndim, const int64_t shape[3],
                  const std::function<void(uint8_t*)>& fill) {
  if (ndim != 2 && ndim != 3) throw CodedError("ERR_INTERNAL", "WriteNpyFile: ndim must be 2 or 3", path);
  if (ndim == 2 && shape[2] != 1) throw CodedError("ERR_INTERNAL", "WriteNpyFile: a 2-D array has one channel", path);
  uint64_t bytes = 0;
  if (!NpyDataBytes(dtype, shape, &bytes)) {
    throw CodedError("ERR_UNSUPPORTED", "cannot write an array of this shape as .npy (too large)", path);
  }
  const std::string header = BuildNpyHeader(dtype, ndim, shape);
  WriteFileAtomic(path, [&](const std::string& tmp) {
    TempWriter w;
    uint8_t* map = w.Open(tmp, path, header.size() + static_cast<size_t>(bytes));
    std::memcpy(map, header.data(), header.size());
    if (bytes > 0) {
      fill(map + header.size());
    } else {
      uint8_t none = 0;  // a valid address for a fill that writes nothing
      fill(&none);
    }
    w.Close(path);
  });
}

Napi::Value WriteNpyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsObject()) {
    ThrowArg(env, "writeNpy(path, data, desc) takes a string, a typed array and an object");
  }
  const std::string path = StringArg(info, 0, "writeNpy: path");
  Napi::Object desc = info[2].As<Napi::Object>();
  // Read before the array description: its getters may run JS. Zero-size dimensions are fine.
  const int64_t ndim = IntValue(env, desc.Get("ndim"), 2, 3, "writeNpy: desc.ndim");
  const ShapeLimits limits{0, {kMaxSafeInteger, kMaxSafeInteger, kMaxSafeInteger}};
  const ArrayDesc a = ParseArrayDesc(env, info[1], desc, limits, "writeNpy");
  if (ndim == 2 && a.shape[2] != 1) ThrowArg(env, "writeNpy: a 2-D array (desc.ndim 2) has shape [H, W, 1]");
  // No JS runs from here on: a.data stays valid.
  const int n = ItemSize(a.dtype);
  const SrcLayout src{
      a.empty() ? a.data : a.first(), a.strides[0] * n, a.strides[1] * n, a.strides[2] * n, n, HostIsBigEndian()};
  const int64_t* shape = a.shape;
  Guard(env, [&] {
    WriteNpyFile(path, a.dtype, static_cast<int>(ndim), shape, [&](uint8_t* dst) {
      CopyWindow(src, 0, 0, 0, shape[0], shape[1], shape[2], dst, shape[1] * shape[2] * n, shape[2] * n, n);
    });
  });
  return env.Undefined();
}

}  // namespace nds
