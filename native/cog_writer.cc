// writeCog / writeCogAsync, convertToNpy / convertToNpyAsync, isCog, writeRaster,
// cogCompressions. The JS entry points run on the JS thread and build plain structs; the
// work functions are pure C++ and run on the JS thread (sync) or a libuv pool thread (async).
#include "cog_writer.h"

#include <cpl_minixml.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <fcntl.h>
#include <gdal_utils.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "cog_detect.h"
#include "gdal_errors.h"
#include "async_job.h"
#include "npy_format.h"
#include "raster_reader.h"

namespace nds {

namespace {

// 'auto' lossless codec and its levels (see cog_writer.h and docs/cache-format.md).
constexpr const char* kAutoLossless = "ZSTD";
constexpr int kLevelContinuous = 1;
constexpr int kLevelPiecewise = 9;
constexpr double kPiecewiseThreshold = 0.5;

std::atomic<uint64_t> tempCounter{0};

// A temporary name in the directory of `dst`, unique within this process and hidden.
std::string TempNameFor(const std::string& dst) {
  const size_t slash = dst.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : dst.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? dst : dst.substr(slash + 1);
  return dir + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(tempCounter.fetch_add(1));
}

// Removes a temporary output and the side files GDAL may have left next to it.
void RemoveTemp(const std::string& tmp) {
  for (const char* ext : {"", ".ovr.tmp", ".msk.ovr.tmp", ".msk", ".aux.xml"}) {
    VSIUnlink((tmp + ext).c_str());
  }
}

// fsync(tmp), then rename(tmp, dst). Throws ERR_IO (removing tmp) on failure.
void CommitTemp(const std::string& tmp, const std::string& dst) {
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    RemoveTemp(tmp);
    ThrowErrno("fsync", tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    const int err = errno;
    RemoveTemp(tmp);
    ThrowErrno("rename", dst, err);
  }
  VSIStatBufL st;
  if (VSIStatL((tmp + ".aux.xml").c_str(), &st) == 0) {
    if (::rename((tmp + ".aux.xml").c_str(), (dst + ".aux.xml").c_str()) != 0) VSIUnlink((tmp + ".aux.xml").c_str());
  }
}

bool IsFloat(GDALDataType t) { return t == GDT_Float32 || t == GDT_Float64; }

std::string Upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

struct SourceFacts {
  GDALDataType gdt = GDT_Byte;
  int bands = 0;
  bool signedByte = false;
  bool palette = false;
  bool paletteAlpha = false;
  bool paletteGray = false;
  std::string driver;
};

SourceFacts Inspect(GDALDatasetH ds, const std::string& path) {
  SourceFacts f;
  f.bands = GDALGetRasterCount(ds);
  if (f.bands < 1) throw CodedError("ERR_GDAL_UNSUPPORTED", "'" + path + "' has no raster bands", path);
  GDALRasterBandH b1 = GDALGetRasterBand(ds, 1);
  f.gdt = GDALGetRasterDataType(b1);
  for (int b = 2; b <= f.bands; ++b) {
    if (GDALGetRasterDataType(GDALGetRasterBand(ds, b)) != f.gdt) {
      throw CodedError("ERR_GDAL_UNSUPPORTED", "'" + path + "' has bands of different data types", path);
    }
  }
  switch (f.gdt) {
    case GDT_Byte: case GDT_UInt16: case GDT_Int16: case GDT_UInt32: case GDT_Int32:
    case GDT_Float32: case GDT_Float64:
      break;
    default:
      throw CodedError("ERR_GDAL_UNSUPPORTED", "'" + path + "' has data type " + GDALGetDataTypeName(f.gdt) +
                                                   ", which is not supported", path);
  }
  const char* pt = GDALGetMetadataItem(b1, "PIXELTYPE", "IMAGE_STRUCTURE");
  f.signedByte = f.gdt == GDT_Byte && pt != nullptr && std::strcmp(pt, "SIGNEDBYTE") == 0;
  GDALColorTableH ct = GDALGetRasterColorTable(b1);
  if (f.bands == 1 && ct != nullptr && GDALGetRasterColorInterpretation(b1) == GCI_PaletteIndex) {
    f.palette = true;
    f.paletteGray = GDALGetPaletteInterpretation(ct) == GPI_Gray;
    for (int i = 0, n = GDALGetColorEntryCount(ct); i < n; ++i) {
      f.paletteAlpha = f.paletteAlpha || GDALGetColorEntry(ct, i)->c4 != 255;
    }
  }
  GDALDriverH drv = GDALGetDatasetDriver(ds);
  f.driver = drv != nullptr ? GDALGetDriverShortName(drv) : "";
  return f;
}

// The fraction of horizontally adjacent pixels (all bands) that are equal, in up to 16 rows:
// spread over the image for GeoTIFFs (random access), within the first 256 rows otherwise
// (sequential formats such as PNG would decode everything above a low row).
double EqualNeighbourFraction(GDALDatasetH ds, const SourceFacts& f, const std::string& path) {
  const int W = GDALGetRasterXSize(ds), H = GDALGetRasterYSize(ds);
  if (W < 2 || H < 1) return 0;
  const int span = f.driver == "GTiff" ? H : std::min(H, 256);
  const int rows = std::min(span, 16);
  const int bands = f.palette ? 1 : f.bands;
  const int is = GDALGetDataTypeSizeBytes(f.gdt);
  const int px = bands * is;
  std::vector<uint8_t> row(static_cast<size_t>(W) * px);
  int64_t equal = 0, pairs = 0;
  GdalErrorScope scope;
  for (int i = 0; i < rows; ++i) {
    const int y = static_cast<int>((static_cast<int64_t>(2 * i + 1) * span) / (2 * rows));
    if (GDALDatasetRasterIO(ds, GF_Read, 0, y, W, 1, row.data(), W, 1, f.gdt, bands, nullptr, px, 0, is) != CE_None) {
      scope.Throw("ERR_GDAL_READ", "cannot read", path);
    }
    for (int x = 0; x + 1 < W; ++x) equal += std::memcmp(&row[x * px], &row[(x + 1) * px], px) == 0;
    pairs += W - 1;
  }
  return pairs > 0 ? static_cast<double>(equal) / static_cast<double>(pairs) : 0;
}

// gdal_translate arguments for the COG driver (the 'auto' rules: cog_writer.h).
std::vector<std::string> CogArgs(GDALDatasetH ds, const SourceFacts& f, const CogOptions& o, const std::string& src,
                                 const std::string& dst) {
  std::string compress = o.compress;
  int quality = o.quality;
  int level = o.level;
  const bool outByte = f.gdt == GDT_Byte || f.palette;
  const int outBands = f.palette ? (f.paletteGray ? 1 : (f.paletteAlpha ? 4 : 3)) : f.bands;
  if (compress == "AUTO") {
    if (f.driver == "JPEG" && outByte && !f.signedByte && (outBands == 1 || outBands == 3)) {
      compress = "JPEG";  // the source is already lossy; keep its codec
      if (quality < 0) quality = 90;
    } else {
      compress = kAutoLossless;
    }
  }
  // Only compress 'auto' picks a predictor and level from the data; a codec named explicitly
  // gets exactly what was asked (no predictor unless requested), as gdal_translate would.
  const bool autoLossless = o.compress == "AUTO" && compress == kAutoLossless;
  bool piecewise = false;
  if (autoLossless && (level < 0 || o.predictor == "AUTO")) {
    piecewise = EqualNeighbourFraction(ds, f, src) >= kPiecewiseThreshold;
  }
  if (autoLossless && level < 0) level = piecewise ? kLevelPiecewise : kLevelContinuous;
  if ((compress == "JPEG" || compress == "WEBP") && !outByte) {
    throw CodedError("ERR_GDAL_UNSUPPORTED", "cannot write COG '" + dst + "': " + compress +
                                                 " compression needs 8-bit data, the source is " + GDALGetDataTypeName(f.gdt),
                     dst);
  }
  if (compress == "WEBP" && outBands != 3 && outBands != 4) {
    throw CodedError("ERR_GDAL_UNSUPPORTED", "cannot write COG '" + dst + "': WEBP compression needs 3 or 4 bands, the source has " +
                                                 std::to_string(outBands), dst);
  }
  std::string predictor = o.predictor;
  if (predictor == "AUTO") {
    predictor = !autoLossless || piecewise ? "" : (IsFloat(f.gdt) && !f.palette ? "FLOATING_POINT" : "STANDARD");
  }
  std::string resampling = o.resampling;
  if (resampling == "AUTO") resampling = IsFloat(f.gdt) && !f.palette ? "AVERAGE" : "NEAREST";

  std::vector<std::string> a{"-of", "COG", "-co", "COMPRESS=" + compress, "-co",
                             "BLOCKSIZE=" + std::to_string(o.blocksize), "-co", "RESAMPLING=" + resampling};
  if (!o.overviews) {
    a.insert(a.end(), {"-co", "OVERVIEWS=NONE"});
  } else {
    a.insert(a.end(), {"-co", "OVERVIEWS=IGNORE_EXISTING"});
    if (o.overviewCount > 0) a.insert(a.end(), {"-co", "OVERVIEW_COUNT=" + std::to_string(o.overviewCount)});
  }
  if (level >= 0 && (compress == "DEFLATE" || compress == "ZSTD" || compress == "LZMA" || compress == "LERC_DEFLATE" ||
                     compress == "LERC_ZSTD")) {
    a.insert(a.end(), {"-co", "LEVEL=" + std::to_string(level)});
  }
  if (quality >= 0 && (compress == "JPEG" || compress == "WEBP")) {
    a.insert(a.end(), {"-co", "QUALITY=" + std::to_string(quality)});
  }
  if (!predictor.empty() && predictor != "NO") a.insert(a.end(), {"-co", "PREDICTOR=" + predictor});
  a.insert(a.end(), {"-co", "NUM_THREADS=" + (o.numThreads <= 0 ? std::string("ALL_CPUS") : std::to_string(o.numThreads))});
  if (f.palette) a.insert(a.end(), {"-expand", f.paletteGray ? "gray" : (f.paletteAlpha ? "rgba" : "rgb")});
  return a;
}

struct DatasetCloser {
  GDALDatasetH h;
  ~DatasetCloser() {
    if (h != nullptr) {
      GdalErrorScope scope;
      GDALClose(h);
    }
  }
};

}  // namespace

void WriteCog(const std::string& src, const std::string& dst, const CogOptions& opts) {
  GDALDatasetH in = OpenForRead(src);
  DatasetCloser closeIn{in};
  CheckDestination(dst);
  const SourceFacts facts = Inspect(in, src);
  const std::vector<std::string> args = CogArgs(in, facts, opts, src, dst);
  CPLStringList argv;
  for (const std::string& s : args) argv.AddString(s.c_str());
  const std::string tmp = TempNameFor(dst);
  {
    GdalErrorScope scope;
    GDALTranslateOptions* topts = GDALTranslateOptionsNew(argv.List(), nullptr);
    if (topts == nullptr) scope.Throw("ERR_BACKEND_CONFIG", "invalid COG options for", dst);
    int usageError = FALSE;
    GDALDatasetH out = GDALTranslate(tmp.c_str(), in, topts, &usageError);
    GDALTranslateOptionsFree(topts);
    if (out != nullptr) GDALClose(out);  // writes the file; errors land in `scope`
    if (out == nullptr || scope.failed()) {
      RemoveTemp(tmp);
      if (!scope.failed()) scope.Fail(CPLE_AppDefined, "the COG driver gave no dataset");
      scope.Throw("ERR_GDAL_WRITE", "cannot write COG", dst);
    }
  }
  CommitTemp(tmp, dst);
}

void ConvertToNpy(const std::string& src, const std::string& dst, const RasterEnv& env) {
  RasterSource source(src, 1, env);
  CheckDestination(dst);
  const RasterMeta& m = source.meta();
  const int64_t shape[3] = {m.H, m.W, m.C};
  const Window win{0, m.H, 0, m.W, 0, m.C};
  WriteNpyAtomic(dst, m.dtype, 3, shape, [&](uint8_t* data) {
    Destination d;
    d.data = data;
    d.length = m.H * m.W * m.C;
    d.offset = 0;
    d.sy = m.W * m.C;
    d.sx = m.C;
    d.sc = 1;
    d.outH = m.H;
    d.outW = m.W;
    source.ReadDirect(win, d);
  });
}

bool IsCogFile(const std::string& path) {
  EnsureGdal();
  CheckSourceFile(path);
  GdalErrorScope scope;
  const char* const drivers[] = {"GTiff", nullptr};
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, nullptr, nullptr);
  if (ds == nullptr) return false;
  DatasetCloser close{ds};
  return IsCogDataset(ds, path);
}

std::vector<std::string> CogCompressions() {
  EnsureGdal();
  std::vector<std::string> out;
  GDALDriverH drv = GDALGetDriverByName("COG");
  if (drv == nullptr) return out;
  const char* xml = GDALGetMetadataItem(drv, GDAL_DMD_CREATIONOPTIONLIST, nullptr);
  if (xml == nullptr) return out;
  GdalErrorScope scope;
  CPLXMLNode* root = CPLParseXMLString(xml);
  if (root == nullptr) return out;
  for (CPLXMLNode* opt = CPLGetXMLNode(root, "=CreationOptionList")->psChild; opt != nullptr; opt = opt->psNext) {
    if (opt->eType != CXT_Element || !EQUAL(CPLGetXMLValue(opt, "name", ""), "COMPRESS")) continue;
    for (CPLXMLNode* v = opt->psChild; v != nullptr; v = v->psNext) {
      if (v->eType == CXT_Element && EQUAL(v->pszValue, "Value")) out.emplace_back(CPLGetXMLValue(v, "", ""));
    }
  }
  CPLDestroyXMLNode(root);
  return out;
}

namespace {

// ---- JS entry points (JS thread) ---------------------------------------------------------

std::string StrField(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) ThrowArg(env, std::string("options.") + key + " must be a string");
  return Upper(v.As<Napi::String>().Utf8Value());
}

int IntField(Napi::Env env, Napi::Object o, const char* key, int lo, int hi) {
  Napi::Value v = o.Get(key);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= lo && d <= hi && d == std::floor(d))) {
    ThrowArg(env, std::string("options.") + key + " must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
  }
  return static_cast<int>(d);
}

bool IsName(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char ch : s) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  }
  return true;
}

// Builds the struct from a NativeCogOptions object (lib/native.ts), re-checking types so a
// wrong direct call throws instead of reaching GDAL.
CogOptions ParseCogOptions(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsObject()) ThrowArg(env, "options must be an object");
  Napi::Object o = info[i].As<Napi::Object>();
  CogOptions c;
  c.compress = StrField(env, o, "compress");
  c.blocksize = IntField(env, o, "blocksize", 16, 4096);
  c.overviews = StrField(env, o, "overviews") != "NONE";
  c.overviewCount = IntField(env, o, "overviewCount", 0, 64);
  c.resampling = StrField(env, o, "resampling");
  c.level = IntField(env, o, "level", -1, 22);
  c.quality = IntField(env, o, "quality", -1, 100);
  c.predictor = StrField(env, o, "predictor");
  c.numThreads = IntField(env, o, "numThreads", 0, 1024);
  if (!IsName(c.compress) || !IsName(c.resampling) || !IsName(c.predictor)) {
    ThrowArg(env, "options.compress, resampling and predictor must be plain names");
  }
  return c;
}

Napi::Value WriteCogJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  const CogOptions opts = ParseCogOptions(info, 2);
  Guard(env, [&] { WriteCog(src, dst, opts); });
  return env.Undefined();
}

Napi::Value WriteCogAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  const CogOptions opts = ParseCogOptions(info, 2);
  EnsureGdal();
  return AsyncJob::Run(env, "ndsampler.writeCogAsync", [src, dst, opts] { WriteCog(src, dst, opts); });
}

Napi::Value ConvertToNpyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  const RasterEnv& renv = GetRasterEnv(env);
  Guard(env, [&] { ConvertToNpy(src, dst, renv); });
  return env.Undefined();
}

Napi::Value ConvertToNpyAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  const RasterEnv renv = GetRasterEnv(env);  // a copy: the job holds its own references
  EnsureGdal();
  return AsyncJob::Run(env, "ndsampler.convertToNpyAsync", [src, dst, renv] { ConvertToNpy(src, dst, renv); });
}

Napi::Value IsCogJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  bool result = false;
  Guard(env, [&] { result = IsCogFile(path); });
  return Napi::Boolean::New(env, result);
}

Napi::Value CogCompressionsJs(const Napi::CallbackInfo& info) {
  const std::vector<std::string> names = CogCompressions();
  Napi::Array arr = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) arr.Set(i, names[i]);
  return arr;
}

// writeRaster(path, data, desc {shape, strides, offset, dtype}, driver, creationOptions[]):
// JS thread, synchronous. Copies the strided array into a MEM dataset, CreateCopy's it with
// `driver` into a temporary file next to `path`, fsyncs and renames.
Napi::Value WriteRasterJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  if (info.Length() < 5 || !info[1].IsTypedArray() || !info[2].IsObject() || !info[3].IsString() || !info[4].IsArray()) {
    ThrowArg(env, "writeRaster(path, data, desc, driver, creationOptions) takes a typed array, an object, a string and an array");
  }
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  Napi::Object desc = info[2].As<Napi::Object>();
  const std::string driverName = info[3].As<Napi::String>().Utf8Value();
  Napi::Array coArr = info[4].As<Napi::Array>();
  DType dtype;
  Napi::Value dtv = desc.Get("dtype");
  if (!dtv.IsString() || !ParseDTypeName(dtv.As<Napi::String>().Utf8Value(), &dtype)) ThrowArg(env, "desc.dtype must be a dtype name");
  if (ta.TypedArrayType() != TypedArrayType(dtype)) ThrowArg(env, "data does not match desc.dtype");
  auto triple = [&](const char* key, int64_t out[3]) {
    Napi::Value v = desc.Get(key);
    if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) ThrowArg(env, std::string("desc.") + key + " must be an array of 3 integers");
    for (uint32_t k = 0; k < 3; ++k) {
      Napi::Value e = v.As<Napi::Array>().Get(k);
      const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 0 && d <= 9007199254740991.0 && d == std::floor(d))) ThrowArg(env, std::string("desc.") + key + " must hold non-negative integers");
      out[k] = static_cast<int64_t>(d);
    }
  };
  int64_t shape[3], strides[3];
  triple("shape", shape);
  triple("strides", strides);
  Napi::Value offv = desc.Get("offset");
  const double offd = offv.IsNumber() ? offv.As<Napi::Number>().DoubleValue() : -1;
  if (!(offd >= 0 && offd == std::floor(offd))) ThrowArg(env, "desc.offset must be a non-negative integer");
  const int64_t offset = static_cast<int64_t>(offd);
  if (shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || shape[0] > INT32_MAX || shape[1] > INT32_MAX || shape[2] > 65535) {
    ThrowArg(env, "desc.shape must be positive (and fit GDAL's int sizes)");
  }
  const double last = static_cast<double>(offset) + static_cast<double>(shape[0] - 1) * strides[0] +
                      static_cast<double>(shape[1] - 1) * strides[1] + static_cast<double>(shape[2] - 1) * strides[2];
  if (last >= static_cast<double>(ta.ElementLength())) {
    ThrowJs(env, ErrorInfo{"ERR_OUT_BUFFER", "data is too small for desc's shape and strides", "", 0, ""});
  }
  CPLStringList co;
  for (uint32_t k = 0; k < coArr.Length(); ++k) {
    Napi::Value e = coArr.Get(k);
    if (!e.IsString()) ThrowArg(env, "creationOptions must be strings NAME=VALUE");
    co.AddString(e.As<Napi::String>().Utf8Value().c_str());
  }
  const uint8_t* data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  Guard(env, [&] {
    EnsureGdal();
    CheckDestination(path);
    GDALDriverH drv = GDALGetDriverByName(driverName.c_str());
    GDALDriverH mem = GDALGetDriverByName("MEM");
    if (drv == nullptr) throw CodedError("ERR_GDAL_UNSUPPORTED", "GDAL has no driver '" + driverName + "'", path);
    static const GDALDataType gdts[kNumDTypes] = {GDT_Byte, GDT_Byte, GDT_UInt16, GDT_Int16,
                                                  GDT_UInt32, GDT_Int32, GDT_Float32, GDT_Float64};
    const GDALDataType gdt = gdts[static_cast<int>(dtype)];
    const int is = ItemSize(dtype);
    const std::string tmp = TempNameFor(path);
    GdalErrorScope scope;
    GDALDatasetH ds = GDALCreate(mem, "", static_cast<int>(shape[1]), static_cast<int>(shape[0]),
                                 static_cast<int>(shape[2]), gdt, nullptr);
    if (ds == nullptr) scope.Throw("ERR_NO_MEMORY", "cannot allocate an in-memory raster for", path);
    DatasetCloser closeMem{ds};
    CPLErr err = GDALDatasetRasterIO(ds, GF_Write, 0, 0, static_cast<int>(shape[1]), static_cast<int>(shape[0]),
                                     const_cast<uint8_t*>(data) + offset * is, static_cast<int>(shape[1]),
                                     static_cast<int>(shape[0]), gdt, static_cast<int>(shape[2]), nullptr,
                                     strides[1] * is, strides[0] * is, strides[2] * is);
    if (err != CE_None) scope.Throw("ERR_GDAL_WRITE", "cannot fill the in-memory raster for", path);
    if (dtype == DType::I8) {
      for (int b = 1; b <= shape[2]; ++b) GDALSetMetadataItem(GDALGetRasterBand(ds, b), "PIXELTYPE", "SIGNEDBYTE", "IMAGE_STRUCTURE");
      if (driverName == "GTiff" && co.FetchNameValue("PIXELTYPE") == nullptr) co.SetNameValue("PIXELTYPE", "SIGNEDBYTE");
    }
    // Strict: a driver that cannot hold the data type fails instead of converting it.
    GDALDatasetH out = GDALCreateCopy(drv, tmp.c_str(), ds, TRUE, co.List(), nullptr, nullptr);
    if (out != nullptr) GDALClose(out);
    if (out == nullptr || scope.failed()) {
      RemoveTemp(tmp);
      if (!scope.failed()) scope.Fail(CPLE_AppDefined, "the driver gave no dataset");
      scope.Throw("ERR_GDAL_WRITE", "cannot write", path);
    }
    CommitTemp(tmp, path);
  });
  return env.Undefined();
}

}  // namespace

void InitCog(Napi::Env env, Napi::Object exports) {
  exports.Set("writeCog", Napi::Function::New(env, WriteCogJs, "writeCog"));
  exports.Set("writeCogAsync", Napi::Function::New(env, WriteCogAsyncJs, "writeCogAsync"));
  exports.Set("convertToNpy", Napi::Function::New(env, ConvertToNpyJs, "convertToNpy"));
  exports.Set("convertToNpyAsync", Napi::Function::New(env, ConvertToNpyAsyncJs, "convertToNpyAsync"));
  exports.Set("isCog", Napi::Function::New(env, IsCogJs, "isCog"));
  exports.Set("cogCompressions", Napi::Function::New(env, CogCompressionsJs, "cogCompressions"));
  exports.Set("writeRaster", Napi::Function::New(env, WriteRasterJs, "writeRaster"));
}

}  // namespace nds
