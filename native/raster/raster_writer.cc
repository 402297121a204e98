// writeRaster. JS thread.
#include "raster/raster_writer.h"

#include <cpl_string.h>
#include <gdal.h>

#include <cstdint>
#include <string>

#include "core/args.h"
#include "core/errors.h"
#include "raster/gdal_error_scope.h"
#include "raster/gdal_output.h"
#include "raster/gdal_setup.h"
#include "raster/open_dataset.h"
#include "raster/path_checks.h"

namespace nds {

Napi::Value WriteRasterJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  if (info.Length() < 5 || !info[1].IsTypedArray() || !info[2].IsObject() || !info[3].IsString() ||
      !info[4].IsArray()) {
    ThrowArg(env,
             "writeRaster(path, data, desc, driver, creationOptions) takes a typed array, an object, a string and an "
             "array");
  }
  const std::string driverName = StringArg(info, 3, "driver");
  Napi::Array coArr = info[4].As<Napi::Array>();
  CPLStringList co;
  for (uint32_t k = 0; k < coArr.Length(); ++k) {
    co.AddString(StringValue(env, coArr.Get(k), "creationOptions[" + std::to_string(k) + "]").c_str());
  }
  // GDAL sizes are ints; bands are capped well below that.
  const ShapeLimits limits{1, {INT32_MAX, INT32_MAX, 65535}};
  const ArrayDesc a = ParseArrayDesc(env, info[1], info[2].As<Napi::Object>(), limits, "writeRaster");
  // No JS runs from here on: a.data stays valid.
  Guard(env, [&] {
    EnsureGdal();
    CheckDestination(path);
    GDALDriverH drv = GDALGetDriverByName(driverName.c_str());
    GDALDriverH mem = GDALGetDriverByName("MEM");
    if (drv == nullptr) throw CodedError("ERR_GDAL_UNSUPPORTED", "GDAL has no driver '" + driverName + "'", path);
    static const GDALDataType gdts[kNumDTypes] = {GDT_Byte,   GDT_Byte,  GDT_UInt16,  GDT_Int16,
                                                  GDT_UInt32, GDT_Int32, GDT_Float32, GDT_Float64};
    const GDALDataType gdt = gdts[static_cast<int>(a.dtype)];
    const int is = ItemSize(a.dtype);
    const int H = static_cast<int>(a.shape[0]), W = static_cast<int>(a.shape[1]), C = static_cast<int>(a.shape[2]);
    GdalErrorScope scope;
    ScopedDataset ds(GDALCreate(mem, "", W, H, C, gdt, nullptr));
    if (ds.get() == nullptr) scope.Throw("ERR_NO_MEMORY", "cannot allocate an in-memory raster for", path);
    const CPLErr err = GDALDatasetRasterIO(ds.get(), GF_Write, 0, 0, W, H, const_cast<uint8_t*>(a.first()), W, H, gdt,
                                           C, nullptr, a.strides[1] * is, a.strides[0] * is, a.strides[2] * is);
    if (err != CE_None) scope.Throw("ERR_GDAL_WRITE", "cannot fill the in-memory raster for", path);
    if (a.dtype == DType::I8) {
      for (int b = 1; b <= C; ++b) {
        GDALSetMetadataItem(GDALGetRasterBand(ds.get(), b), "PIXELTYPE", "SIGNEDBYTE", "IMAGE_STRUCTURE");
      }
      if (driverName == "GTiff" && co.FetchNameValue("PIXELTYPE") == nullptr)
        co.SetNameValue("PIXELTYPE", "SIGNEDBYTE");
    }
    WriteWithGdal(path, "cannot write", [&](const std::string& tmp) {
      return GDALCreateCopy(drv, tmp.c_str(), ds.get(), TRUE, co.List(), nullptr, nullptr);
    });
  });
  return env.Undefined();
}

}  // namespace nds
