// ReadSourceFacts. Any thread.
#include "raster/source_facts.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

namespace nds {

namespace {

[[noreturn]] void Unsupported(const std::string& path, const std::string& why) {
  throw CodedError("ERR_GDAL_UNSUPPORTED", "cannot read '" + path + "': " + why, path);
}

}  // namespace

SourceFacts ReadSourceFacts(GDALDatasetH ds, const std::string& path) {
  SourceFacts m;
  m.W = GDALGetRasterXSize(ds);
  m.H = GDALGetRasterYSize(ds);
  m.bands = GDALGetRasterCount(ds);
  GDALDriverH drv = GDALGetDatasetDriver(ds);
  m.driver = drv != nullptr ? GDALGetDriverShortName(drv) : "";
  if (m.bands < 1) Unsupported(path, "it has no raster bands");
  GDALRasterBandH b1 = GDALGetRasterBand(ds, 1);
  m.gdt = GDALGetRasterDataType(b1);
  for (int b = 2; b <= m.bands; ++b) {
    if (GDALGetRasterDataType(GDALGetRasterBand(ds, b)) != m.gdt) {
      Unsupported(path, "its bands have different data types (" + std::string(GDALGetDataTypeName(m.gdt)) + " and " +
                            GDALGetDataTypeName(GDALGetRasterDataType(GDALGetRasterBand(ds, b))) + ")");
    }
  }
  switch (m.gdt) {
    case GDT_Byte: {
      const char* pt = GDALGetMetadataItem(b1, "PIXELTYPE", "IMAGE_STRUCTURE");
      m.dtype = pt != nullptr && std::strcmp(pt, "SIGNEDBYTE") == 0 ? DType::I8 : DType::U8;
      break;
    }
#if GDAL_VERSION_NUM >= GDAL_COMPUTE_VERSION(3, 7, 0)
    case GDT_Int8:
      m.dtype = DType::I8;
      break;
#endif
    case GDT_UInt16:
      m.dtype = DType::U16;
      break;
    case GDT_Int16:
      m.dtype = DType::I16;
      break;
    case GDT_UInt32:
      m.dtype = DType::U32;
      break;
    case GDT_Int32:
      m.dtype = DType::I32;
      break;
    case GDT_Float32:
      m.dtype = DType::F32;
      break;
    case GDT_Float64:
      m.dtype = DType::F64;
      break;
    default:
      Unsupported(path, std::string("data type ") + GDALGetDataTypeName(m.gdt) +
                            " is not one of uint8, int8, uint16, int16, uint32, int32, float32, float64");
  }
  m.C = m.bands;
  GDALColorTableH ct = GDALGetRasterColorTable(b1);
  if (m.bands == 1 && ct != nullptr && GDALGetRasterColorInterpretation(b1) == GCI_PaletteIndex) {
    if (m.gdt != GDT_Byte && m.gdt != GDT_UInt16) Unsupported(path, "palette indices must be Byte or UInt16");
    const GDALPaletteInterp interp = GDALGetPaletteInterpretation(ct);
    const int n = GDALGetColorEntryCount(ct);
    if (interp != GPI_RGB && interp != GPI_Gray) Unsupported(path, "only RGB and gray palettes can be expanded");
    bool alpha = false;
    for (int i = 0; i < n && interp == GPI_RGB; ++i) alpha = alpha || GDALGetColorEntry(ct, i)->c4 != 255;
    m.palette = true;
    m.dtype = DType::U8;
    m.C = interp == GPI_Gray ? 1 : (alpha ? 4 : 3);
    m.lutEntries = n;
    m.lut.assign(static_cast<size_t>(n) * m.C, 0);
    for (int i = 0; i < n; ++i) {
      const GDALColorEntry* e = GDALGetColorEntry(ct, i);
      const short v[4] = {e->c1, e->c2, e->c3, e->c4};
      for (int k = 0; k < m.C; ++k)
        m.lut[static_cast<size_t>(i) * m.C + k] = static_cast<uint8_t>(std::clamp<short>(v[k], 0, 255));
    }
  }
  GDALGetBlockSize(b1, &m.blockW, &m.blockH);
  m.tiled = m.driver == "GTiff" && m.blockW > 0 && m.blockH > 0 && m.blockW != m.W;
  for (int i = 0, n = GDALGetOverviewCount(b1); i < n; ++i) {
    GDALRasterBandH ov = GDALGetOverview(b1, i);
    if (ov != nullptr) m.overviews.emplace_back(GDALGetRasterBandYSize(ov), GDALGetRasterBandXSize(ov));
  }
  const char* comp = GDALGetMetadataItem(ds, "COMPRESSION", "IMAGE_STRUCTURE");
  m.compression = comp != nullptr ? comp : "";
  const char* pred = GDALGetMetadataItem(ds, "PREDICTOR", "IMAGE_STRUCTURE");
  m.predictor = pred != nullptr ? std::atoi(pred) : 0;
  return m;
}

}  // namespace nds
