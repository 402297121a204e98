// OpenForRead and CloseQuietly. Any thread.
#include "raster/open_dataset.h"

#include <cpl_error.h>

#include "raster/gdal_error_scope.h"
#include "raster/gdal_setup.h"
#include "raster/path_checks.h"
#include "raster/source_limits.h"

namespace nds {

GDALDatasetH OpenForRead(const std::string& path, int64_t* fileBytes) {
  EnsureGdal();
  CheckSourceFile(path);
  RemoteOpenScope remote(path);
  GdalErrorScope scope;
  GDALDatasetH ds =
      GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, nullptr, nullptr, nullptr);
  if (ds == nullptr) {
    if (!scope.failed()) scope.Fail(CPLE_OpenFailed, "not recognized as a supported raster format");
    scope.Throw("ERR_GDAL_OPEN", "cannot open", path);
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
