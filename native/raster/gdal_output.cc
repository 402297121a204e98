// WriteWithGdal. Any thread.
#include "raster/gdal_output.h"

#include <cpl_error.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "raster/gdal_error_scope.h"
#include "raster/path_checks.h"

namespace nds {

namespace {

// True when a failed write most likely ran out of space: GDAL's message says so, or the target's
// file system has less than 1 MiB left now (libtiff often reports ENOSPC as "IO error writing tag
// data" or a seek error, without the errno).
bool OutOfSpace(const std::string& dst, const std::string& message) {
  if (message.find("No space left on device") != std::string::npos) return true;
  const size_t slash = dst.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dst.substr(0, slash));
  struct statvfs fs {};
  return ::statvfs(dir.c_str(), &fs) == 0 && static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize < (1u << 20);
}

}  // namespace

void WriteWithGdal(const std::string& dst, const char* what,
                   const std::function<GDALDatasetH(const std::string& tmp)>& create) {
  if (IsVirtualPath(dst)) {
    // A GDAL virtual file (/vsimem/, ...) has no directory to fsync nor rename: GDAL writes it
    // whole, and a reader of it is in this process.
    GdalErrorScope scope;
    GDALDatasetH out = create(dst);
    if (out != nullptr) GDALClose(out);
    if (out == nullptr || scope.failed()) {
      if (!scope.failed()) scope.Fail(CPLE_AppDefined, "the driver gave no dataset");
      scope.Throw("ERR_GDAL_WRITE", what, dst);
    }
    return;
  }
  const std::string tmp = WriteFileAtomic(dst, [&](const std::string& path) {
    GdalErrorScope scope;
    GDALDatasetH out = create(path);
    if (out != nullptr) GDALClose(out);  // writes the file; errors land in `scope`
    if (out == nullptr || scope.failed()) {
      if (!scope.failed()) scope.Fail(CPLE_AppDefined, "the driver gave no dataset");
      if (OutOfSpace(path, scope.message())) ThrowErrno("write", dst, ENOSPC);
      scope.Throw("ERR_GDAL_WRITE", what, dst);
    }
  });
  const std::string aux = tmp + ".aux.xml";
  if (std::rename(aux.c_str(), (dst + ".aux.xml").c_str()) != 0 && errno != ENOENT) ::unlink(aux.c_str());
}

}  // namespace nds
