// OpenForRead and CloseQuietly. Any thread.
#include "raster/open_dataset.h"

#include <cpl_error.h>

#include "raster/gdal_error_scope.h"
#include "raster/gdal_setup.h"
#include "raster/path_checks.h"
#include "raster/remote_io.h"
#include "raster/source_limits.h"

namespace nds {

namespace {

GDALDatasetH Open(const std::string& path) {
  return GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, nullptr, nullptr, nullptr);
}

}  // namespace

GDALDatasetH OpenForRead(const std::string& path, int64_t* fileBytes) {
  EnsureGdal();
  CheckSourceFile(path);
  RemoteOpenScope remote(path);
  GDALDatasetH ds;
  {
    GdalErrorScope scope;
    ds = Open(path);
    if (ds == nullptr && (!IsRemotePath(path) || scope.remote())) {
      if (!scope.failed()) scope.Fail(CPLE_OpenFailed, "not recognized as a supported raster format");
      scope.Throw("ERR_GDAL_OPEN", "cannot open", path);
    }
  }
  if (ds == nullptr) {
    // A remote path GDAL refused without saying why: it answered from what it cached of an earlier
    // failure. Ask the server again, so the error says what the server says (403, 500, a timeout).
    ForgetCached(path);
    GdalErrorScope scope;
    ds = Open(path);
    if (ds == nullptr) {
      if (!scope.failed()) scope.Fail(CPLE_OpenFailed, "not recognized as a supported raster format");
      scope.Throw("ERR_GDAL_OPEN", "cannot open", path);
    }
  }
  try {
    const int64_t bytes = CheckDatasetFiles(ds, path);
    if (fileBytes != nullptr) *fileBytes = bytes;
  } catch (...) {
    CloseQuietly(ds);
    throw;
  }
  return ds;
}

void CloseQuietly(GDALDatasetH h) {
  if (h == nullptr) return;
  GdalErrorScope scope;
  GDALClose(h);
}

}  // namespace nds
