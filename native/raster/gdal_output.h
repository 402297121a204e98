// Publishing a file that a GDAL driver writes (COG writer, raster writer). Pure C++, any
// thread; the datasets involved are used by the calling thread only.
#pragma once
#include <gdal.h>

#include <functional>
#include <string>

namespace nds {

// A GDAL virtual path (/vsimem/, ...) is written by GDAL in place (no temp file, rename or fsync).
// Otherwise publishes `dst` through WriteFileAtomic (core/atomic_file.h): `create(tmp)` makes the output
// dataset at the temp path and returns it (null on failure); it is closed (which writes it) under
// one GdalErrorScope, and any GDAL failure becomes ERR_GDAL_WRITE "<what> '<dst>': <message>"
// (the temp file and its side files removed). An .aux.xml side file GDAL wrote next to the temp
// file follows it to `<dst>.aux.xml`.
void WriteWithGdal(const std::string& dst, const char* what,
                   const std::function<GDALDatasetH(const std::string& tmp)>& create);

}  // namespace nds
