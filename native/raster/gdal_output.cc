// WriteWithGdal. Any thread.
#include "raster/gdal_output.h"

#include <cpl_error.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "core/atomic_file.h"
#include "raster/gdal_error_scope.h"

namespace nds {

void WriteWithGdal(const std::string& dst, const char* what,
                   const std::function<GDALDatasetH(const std::string& tmp)>& create) {
  const std::string tmp = WriteFileAtomic(dst, [&](const std::string& path) {
    GdalErrorScope scope;
    GDALDatasetH out = create(path);
    if (out != nullptr) GDALClose(out);  // writes the file; errors land in `scope`
    if (out == nullptr || scope.failed()) {
      if (!scope.failed()) scope.Fail(CPLE_AppDefined, "the driver gave no dataset");
      scope.Throw("ERR_GDAL_WRITE", what, dst);
    }
  });
  const std::string aux = tmp + ".aux.xml";
  if (std::rename(aux.c_str(), (dst + ".aux.xml").c_str()) != 0 && errno != ENOENT) ::unlink(aux.c_str());
}

}  // namespace nds
