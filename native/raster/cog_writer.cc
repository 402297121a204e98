// writeCog / writeCogAsync: any GDAL-readable raster to a Cloud-Optimized GeoTIFF. The JS entry
// points run on the JS thread and build a CogOptions; WriteCog is pure C++ and runs on the JS
// thread (sync) or a libuv pool thread (async).
#include "raster/cog_writer.h"

#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal_utils.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

#include "core/args.h"
#include "core/async_job.h"
#include "core/errors.h"
#include "raster/gdal_error_scope.h"
#include "raster/gdal_output.h"
#include "raster/gdal_setup.h"
#include "raster/open_dataset.h"
#include "raster/path_checks.h"
#include "raster/raster_env.h"
#include "raster/source_facts.h"
#include "raster/source_limits.h"

namespace nds {

namespace {

// 'auto' lossless codec and its levels (see cog_writer.h and docs/cache-format.md).
constexpr const char* kAutoLossless = "ZSTD";
constexpr int kLevelContinuous = 1;
constexpr int kLevelPiecewise = 9;
constexpr double kPiecewiseThreshold = 0.5;

bool IsFloat(GDALDataType t) { return t == GDT_Float32 || t == GDT_Float64; }

std::string Upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// The fraction of horizontally adjacent pixels (all bands) that are equal, in up to 16 rows:
// spread over the image for GeoTIFFs (random access), within the first 256 rows otherwise
// (sequential formats such as PNG would decode everything above a low row).
double EqualNeighbourFraction(GDALDatasetH ds, const SourceFacts& f, const std::string& path) {
  const int W = static_cast<int>(f.W), H = static_cast<int>(f.H);
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
  const int outBands = static_cast<int>(f.C);        // palettes: the expanded channels
  if (compress == "AUTO") compress = kAutoLossless;  // exact for every source, JPEGs included
  // Only compress 'auto' picks a predictor and level from the data; a codec named explicitly
  // gets exactly what was asked (no predictor unless requested), as gdal_translate would.
  const bool autoLossless = o.compress == "AUTO" && compress == kAutoLossless;
  bool piecewise = false;
  if (autoLossless && (level < 0 || o.predictor == "AUTO")) {
    piecewise = EqualNeighbourFraction(ds, f, src) >= kPiecewiseThreshold;
  }
  if (autoLossless && level < 0) level = piecewise ? kLevelPiecewise : kLevelContinuous;
  if ((compress == "JPEG" || compress == "WEBP") && !outByte) {
    throw CodedError("ERR_GDAL_UNSUPPORTED",
                     "cannot write COG '" + dst + "': " + compress + " compression needs 8-bit data, the source is " +
                         GDALGetDataTypeName(f.gdt),
                     dst);
  }
  if (compress == "WEBP" && outBands != 3 && outBands != 4) {
    throw CodedError("ERR_GDAL_UNSUPPORTED",
                     "cannot write COG '" + dst + "': WEBP compression needs 3 or 4 bands, the source has " +
                         std::to_string(outBands),
                     dst);
  }
  std::string predictor = o.predictor;
  if (predictor == "AUTO") {
    predictor = !autoLossless || piecewise ? "" : (IsFloat(f.gdt) && !f.palette ? "FLOATING_POINT" : "STANDARD");
  }
  std::string resampling = o.resampling;
  if (resampling == "AUTO") resampling = IsFloat(f.gdt) && !f.palette ? "AVERAGE" : "NEAREST";

  std::vector<std::string> a{"-of", "COG",
                             "-co", "COMPRESS=" + compress,
                             "-co", "BLOCKSIZE=" + std::to_string(o.blocksize),
                             "-co", "RESAMPLING=" + resampling};
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
  a.insert(a.end(),
           {"-co", "NUM_THREADS=" + (o.numThreads <= 0 ? std::string("ALL_CPUS") : std::to_string(o.numThreads))});
  if (f.palette) a.insert(a.end(), {"-expand", f.C == 1 ? "gray" : (f.C == 4 ? "rgba" : "rgb")});
  for (const auto& [key, value] : o.metadata) a.insert(a.end(), {"-mo", key + "=" + value});
  return a;
}

using TranslateOptions = std::unique_ptr<GDALTranslateOptions, decltype(&GDALTranslateOptionsFree)>;

TranslateOptions MakeTranslateOptions(const std::vector<std::string>& args, const std::string& dst) {
  CPLStringList argv;
  for (const std::string& s : args) argv.AddString(s.c_str());
  GdalErrorScope scope;
  TranslateOptions topts(GDALTranslateOptionsNew(argv.List(), nullptr), GDALTranslateOptionsFree);
  if (topts == nullptr) scope.Throw("ERR_BACKEND_CONFIG", "invalid COG options for", dst);
  return topts;
}

}  // namespace

void WriteCog(const std::string& src, const std::string& dst, const CogOptions& opts, int64_t pixelLimit) {
  int64_t fileBytes = 0;
  ScopedDataset in(OpenForRead(src, &fileBytes));
  CheckDestination(dst);
  const SourceFacts facts = ReadSourceFacts(in.get(), src);
  CheckDecodeCost(in.get(), src, facts, fileBytes, pixelLimit);
  TranslateOptions topts = MakeTranslateOptions(CogArgs(in.get(), facts, opts, src, dst), dst);
  WriteWithGdal(dst, "cannot write COG", [&](const std::string& tmp) {
    int usageError = FALSE;
    return GDALTranslate(tmp.c_str(), in.get(), topts.get(), &usageError);
  });
}

namespace {

// ---- JS entry points (JS thread) ---------------------------------------------------------

std::string StrField(Napi::Env env, const Napi::Object& o, const char* key) {
  return Upper(StringValue(env, o.Get(key), std::string("options.") + key));
}

int IntField(Napi::Env env, const Napi::Object& o, const char* key, int lo, int hi) {
  return static_cast<int>(IntValue(env, o.Get(key), lo, hi, std::string("options.") + key));
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
  Napi::Object o = ObjectValue(env, info[i], "options");
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
  const Napi::Value md = o.Get("metadata");
  if (!md.IsUndefined() && !md.IsNull()) {
    Napi::Object m = ObjectValue(env, md, "options.metadata");
    Napi::Array keys = m.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      const std::string value = StringValue(env, m.Get(key), "options.metadata." + key);
      if (!IsName(key) || value.find('\0') != std::string::npos)
        ThrowArg(env, "options.metadata keys must be plain names");
      c.metadata.emplace_back(key, value);
    }
  }
  return c;
}

}  // namespace

Napi::Value WriteCogJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  const CogOptions opts = ParseCogOptions(info, 2);
  const int64_t limit = GetRasterEnv(env).pixelLimit;
  Guard(env, [&] { WriteCog(src, dst, opts, limit); });
  return env.Undefined();
}

Napi::Value WriteCogAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  const CogOptions opts = ParseCogOptions(info, 2);
  const int64_t limit = GetRasterEnv(env).pixelLimit;
  EnsureGdal();
  return AsyncJob::Run(env, "ndsampler.writeCogAsync", [src, dst, opts, limit] { WriteCog(src, dst, opts, limit); });
}

}  // namespace nds
