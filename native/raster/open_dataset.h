// Opening a raster for reading, and closing it on every path out of a scope. Pure C++, any
// thread; a handle is used by one thread at a time (GDAL 3.6 has no thread-safe datasets).
#pragma once
#include <gdal.h>

#include <cstdint>
#include <string>

namespace nds {

// Opens `path` read-only as a raster on the calling thread (EnsureGdal and CheckSourceFile
// first; then CheckDatasetFiles, so no file GDAL opens later is a FIFO or device); GDAL's
// failure becomes ERR_GDAL_OPEN. Stores the total size of the dataset's files in `fileBytes`
// when given. The caller owns the handle.
GDALDatasetH OpenForRead(const std::string& path, int64_t* fileBytes = nullptr);

// Closes `h` (when not null) under its own error scope: errors while closing a dataset we only
// read, or gave up on, are of no use to anyone.
void CloseQuietly(GDALDatasetH h);

// Closes a dataset with CloseQuietly when the scope ends.
class ScopedDataset {
 public:
  explicit ScopedDataset(GDALDatasetH h) : h_(h) {}
  ~ScopedDataset() { CloseQuietly(h_); }
  ScopedDataset(const ScopedDataset&) = delete;
  ScopedDataset& operator=(const ScopedDataset&) = delete;
  GDALDatasetH get() const { return h_; }

 private:
  GDALDatasetH h_;
};

}  // namespace nds
