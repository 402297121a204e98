// EncodeImage and its binding functions. EncodeImage: any thread; the Js functions: JS thread.
#include "raster/encoder.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>

#include "core/args.h"
#include "core/async_job.h"
#include "core/copy_kernel.h"
#include "core/errors.h"
#include "raster/gdal_error_scope.h"
#include "raster/gdal_setup.h"
#include "raster/open_dataset.h"

namespace nds {

namespace {

std::atomic<uint64_t> g_encodeSeq{0};

// A unique /vsimem/ directory for one call, removed with everything in it when the scope ends.
class VsimemDir {
 public:
  VsimemDir() {
    dir_ = "/vsimem/ndsampler-encode/" + std::to_string(static_cast<long>(::getpid())) + "-" +
           std::to_string(g_encodeSeq.fetch_add(1));
  }
  ~VsimemDir() {
    GdalErrorScope scope;
    VSIRmdirRecursive(dir_.c_str());
  }
  VsimemDir(const VsimemDir&) = delete;
  VsimemDir& operator=(const VsimemDir&) = delete;
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

// GDAL_PAM_ENABLED=NO on this thread while alive: no .aux.xml side file for the encoded image.
class NoPamScope {
 public:
  NoPamScope() { CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO"); }
  ~NoPamScope() { CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", nullptr); }
  NoPamScope(const NoPamScope&) = delete;
  NoPamScope& operator=(const NoPamScope&) = delete;
};

const char* Extension(const std::string& driver) {
  if (driver == "PNG") return "png";
  if (driver == "JPEG") return "jpg";
  if (driver == "WEBP") return "webp";
  return "tif";
}

GDALDataType GdalType(DType d) {
  static const GDALDataType gdts[kNumDTypes] = {GDT_Byte,   GDT_Byte,  GDT_UInt16,  GDT_Int16,
                                                GDT_UInt32, GDT_Int32, GDT_Float32, GDT_Float64};
  return gdts[static_cast<int>(d)];
}

// Checks `driver` and the numbers: a direct call of the binding with bad values throws.
EncodeOptions ParseOptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EncodeOptions o;
  o.driver = StringArg(info, 2, "driver");
  if (o.driver != "PNG" && o.driver != "JPEG" && o.driver != "WEBP" && o.driver != "GTiff") {
    ThrowArg(env, "encode: driver must be PNG, JPEG, WEBP or GTiff");
  }
  o.quality = static_cast<int>(IntValue(env, info[3], -1, 100, "encode: quality"));
  o.level = static_cast<int>(IntValue(env, info[4], -1, 9, "encode: level"));
  return o;
}

const ShapeLimits kLimits{1, {INT32_MAX, INT32_MAX, 65535}};

EncodeInput InputOf(const ArrayDesc& a) {
  const int is = ItemSize(a.dtype);
  EncodeInput in;
  in.first = a.first();
  in.dtype = a.dtype;
  in.H = a.shape[0], in.W = a.shape[1], in.C = a.shape[2];
  in.sy = a.strides[0] * is, in.sx = a.strides[1] * is, in.sc = a.strides[2] * is;
  return in;
}

}  // namespace

std::vector<uint8_t> EncodeImage(const EncodeInput& in, const EncodeOptions& o) {
  EnsureGdal();
  GdalErrorScope scope;
  GDALDriverH drv = GDALGetDriverByName(o.driver.c_str());
  if (drv == nullptr) {
    throw CodedError("ERR_GDAL_UNSUPPORTED", "this GDAL has no " + o.driver + " driver: it cannot encode " + o.driver);
  }
  const GDALDataType gdt = GdalType(in.dtype);
  const int W = static_cast<int>(in.W), H = static_cast<int>(in.H), C = static_cast<int>(in.C);
  ScopedDataset mem(GDALCreate(GDALGetDriverByName("MEM"), "", W, H, C, gdt, nullptr));
  if (mem.get() == nullptr) scope.Throw("ERR_NO_MEMORY", "cannot allocate an in-memory raster to encode", "");
  if (GDALDatasetRasterIO(mem.get(), GF_Write, 0, 0, W, H, const_cast<uint8_t*>(in.first), W, H, gdt, C, nullptr, in.sx,
                          in.sy, in.sc) != CE_None) {
    scope.Throw("ERR_GDAL_WRITE", "cannot fill the in-memory raster to encode", "");
  }
  CPLStringList co;
  if (o.quality >= 0 && (o.driver == "JPEG" || o.driver == "WEBP"))
    co.SetNameValue("QUALITY", std::to_string(o.quality).c_str());
  if (o.driver == "GTiff") {
    co.SetNameValue("COMPRESS", "DEFLATE");
    co.SetNameValue("BIGTIFF", "IF_SAFER");
    if (in.dtype == DType::I8) {
      co.SetNameValue("PIXELTYPE", "SIGNEDBYTE");
      for (int b = 1; b <= C; ++b) {
        GDALSetMetadataItem(GDALGetRasterBand(mem.get(), b), "PIXELTYPE", "SIGNEDBYTE", "IMAGE_STRUCTURE");
      }
    }
  }
  if (o.level >= 0 && (o.driver == "PNG" || o.driver == "GTiff"))
    co.SetNameValue("ZLEVEL", std::to_string(o.level).c_str());

  VsimemDir dir;
  const std::string file = dir.path() + "/image." + Extension(o.driver);
  {
    NoPamScope noPam;
    GDALDatasetH out = GDALCreateCopy(drv, file.c_str(), mem.get(), TRUE, co.List(), nullptr, nullptr);
    if (out != nullptr) GDALClose(out);  // writes the file; errors land in `scope`
    if (out == nullptr || scope.failed()) {
      if (!scope.failed()) scope.Fail(CPLE_AppDefined, "the driver gave no dataset");
      scope.Throw("ERR_GDAL_WRITE", ("cannot encode as " + o.driver).c_str(), "");
    }
  }
  vsi_l_offset length = 0;
  GByte* bytes = VSIGetMemFileBuffer(file.c_str(), &length, FALSE);
  if (bytes == nullptr) throw CodedError("ERR_GDAL_WRITE", "the " + o.driver + " driver wrote no file");
  return std::vector<uint8_t>(bytes, bytes + length);  // `dir` then removes the file
}

Napi::Value EncodeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsTypedArray() || !info[1].IsObject()) {
    ThrowArg(env, "encode(data, desc, driver, quality, level) takes a typed array and an object");
  }
  const EncodeOptions opts = ParseOptions(info);
  const ArrayDesc a = ParseArrayDesc(env, info[0], info[1].As<Napi::Object>(), kLimits, "encode");
  // No JS runs from here on: a.data stays valid.
  std::vector<uint8_t> bytes = Guard(env, [&] { return EncodeImage(InputOf(a), opts); });
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

Napi::Value EncodeAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsTypedArray() || !info[1].IsObject()) {
    ThrowArg(env, "encodeAsync(data, desc, driver, quality, level) takes a typed array and an object");
  }
  const EncodeOptions opts = ParseOptions(info);
  const ArrayDesc a = ParseArrayDesc(env, info[0], info[1].As<Napi::Object>(), kLimits, "encodeAsync");
  // The job never reads JS memory: the pixels are copied, contiguous HWC, on this thread.
  const int is = ItemSize(a.dtype);
  auto pixels = std::make_shared<std::vector<uint8_t>>();
  Guard(env, [&] {
    pixels->resize(static_cast<size_t>(a.shape[0] * a.shape[1] * a.shape[2] * is));
    const SrcLayout from{a.first(), a.strides[0] * is, a.strides[1] * is, a.strides[2] * is, is, false};
    CopyWindow(from, 0, 0, 0, a.shape[0], a.shape[1], a.shape[2], pixels->data(), a.shape[1] * a.shape[2] * is,
               a.shape[2] * is, is);
  });
  EncodeInput in;
  in.dtype = a.dtype;
  in.H = a.shape[0], in.W = a.shape[1], in.C = a.shape[2];
  in.sy = in.W * in.C * is, in.sx = in.C * is, in.sc = is;
  auto result = std::make_shared<std::vector<uint8_t>>();
  EnsureGdal();
  return AsyncJob::Run(
      env, "ndsampler.encodeAsync",
      [pixels, in, opts, result]() mutable {
        in.first = pixels->data();
        *result = EncodeImage(in, opts);
        std::vector<uint8_t>().swap(*pixels);  // the pixels are no longer needed
      },
      [result](napi_env e, const std::vector<napi_value>&) -> napi_value {
        napi_value buf = nullptr;
        void* data = nullptr;
        if (napi_create_buffer_copy(e, result->size(), result->data(), &data, &buf) != napi_ok) {
          throw CodedError("ERR_NO_MEMORY", "cannot create the encoded Buffer");
        }
        return buf;
      });
}

Napi::Value VsimemUnlinkJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  if (path.rfind("/vsimem/", 0) != 0) ThrowArg(env, "vsimemUnlink: path must start with /vsimem/");
  EnsureGdal();
  GdalErrorScope scope;
  // A /vsimem/ directory may exist only through the files under it (no stat of its own).
  auto exists = [&] {
    VSIStatBufL st;
    if (VSIStatL(path.c_str(), &st) == 0) return true;
    char** names = VSIReadDir(path.c_str());
    const bool any = names != nullptr && names[0] != nullptr;
    CSLDestroy(names);
    return any;
  };
  if (!exists()) return Napi::Boolean::New(env, false);
  if (VSIUnlink(path.c_str()) != 0) VSIRmdirRecursive(path.c_str());
  return Napi::Boolean::New(env, !exists());
}

}  // namespace nds
