// VSI stat, read, upload and config options for remote paths. See remote_io.h for the threads.
#include "raster/remote_io.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_time.h>
#include <cpl_vsi.h>
#include <cpl_vsi_error.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/args.h"
#include "core/async_job.h"
#include "core/errors.h"
#include "raster/gdal_setup.h"
#include "raster/path_checks.h"
#include "raster/range_fetch.h"
#include "raster/remote_error.h"

namespace nds {

namespace {

// Captures every message GDAL raises on this thread while alive (warnings too: GDAL reports the
// HTTP status of a failed request as a warning), and keeps GDAL from printing them.
class VsiCapture {
 public:
  VsiCapture() {
    CPLErrorReset();
    CPLPushErrorHandlerEx(Handler, this);
  }
  ~VsiCapture() {
    CPLPopErrorHandler();
    CPLErrorReset();
  }
  VsiCapture(const VsiCapture&) = delete;
  VsiCapture& operator=(const VsiCapture&) = delete;

  // The diagnosis so far (raster/remote_error.h classifies each message).
  VsiDiagnosis Result() const { return d_; }

 private:
  static void CPL_STDCALL Handler(CPLErr eclass, CPLErrorNum errnum, const char* msg) {
    auto* self = static_cast<VsiCapture*>(CPLGetErrorHandlerUserData());
    if (self == nullptr || msg == nullptr) return;
    if (eclass == CE_Debug) return;
    if (!self->d_.messages.empty()) self->d_.messages += "; ";
    self->d_.messages += msg;
    if (eclass != CE_Warning || self->d_.errnum == 0) self->d_.errnum = static_cast<int>(errnum);
    const RemoteFailure f = ClassifyRemoteMessage(msg, static_cast<int>(errnum));
    if (f.status != 0) self->d_.status = f.status;
    if (f.any() && (self->d_.reason.empty() || f.status != 0)) self->d_.reason = f.reason;
  }
  VsiDiagnosis d_;
};

[[noreturn]] void ThrowRemote(const std::string& what, const std::string& path, const VsiDiagnosis& d) {
  RemoteFailure f;
  f.status = d.status;
  f.reason = d.reason;
  throw CodedError(RemoteErrorInfo(what, path, f, d.messages));
}

struct VsiFile {
  VSILFILE* f = nullptr;
  ~VsiFile() {
    if (f != nullptr) VSIFCloseL(f);
  }
};

// A failed VSIFOpenExL(..., TRUE) reports through VSI's error state, not CPLError.
void AddVsiError(VsiDiagnosis* d) {
  const char* msg = VSIGetLastErrorMsg();
  if (msg == nullptr || *msg == '\0') return;
  if (!d->messages.empty()) d->messages += "; ";
  d->messages += msg;
  const RemoteFailure f = ClassifyRemoteMessage(msg, 0);
  if (f.status != 0) d->status = f.status;
  if (f.any() && (d->reason.empty() || f.status != 0)) d->reason = f.reason;
  if (d->errnum == 0) d->errnum = CPLE_FileIO;
}

// Opens `path` (a VSI path) for reading, or throws its precise error: GDAL says nothing (or only
// CPLE_FileIO) for a plain "no such file", which is then 404.
VSILFILE* OpenRemoteOrThrow(const std::string& path, const VsiCapture& capture, const char* what) {
  VSIErrorReset();
  VSILFILE* f = VSIFOpenExL(path.c_str(), "rb", TRUE);
  if (f != nullptr) return f;
  VsiDiagnosis d = capture.Result();
  AddVsiError(&d);
  if (d.status == 0 && d.reason.empty() && (d.errnum == 0 || d.errnum == CPLE_FileIO)) {
    d.status = 404;
    d.reason = "http";
  }
  ThrowRemote(what, path, d);
}

// Seconds since the epoch of an HTTP date (Last-Modified), or 0.
double HttpDate(const std::string& s) {
  int y, mo, d, h, mi, sec, tz, dow;
  if (s.empty() || !CPLParseRFC822DateTime(s.c_str(), &y, &mo, &d, &h, &mi, &sec, &tz, &dow)) return 0;
  struct tm t = {};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = sec < 0 ? 0 : sec;
  return static_cast<double>(CPLYMDHMSToUnixTime(&t));
}

std::string HeaderValue(CSLConstList headers, const char* key) {
  const char* v = CSLFetchNameValue(headers, key);
  return v != nullptr ? v : "";
}

}  // namespace

void ForgetCached(const std::string& path) {
  // GDAL answers a stat from a cached listing of the parent "directory" too (an object written by
  // another process since would look missing, or keep its old size): forget the parent's entries.
  const size_t slash = path.find_last_of('/');
  VSICurlPartialClearCache(slash != std::string::npos && slash > 0 ? path.substr(0, slash).c_str() : path.c_str());
}

void UploadFile(const std::string& src, const std::string& dst) {
  EnsureGdal();
  RemoteOpenScope remoteIn(src);
  RemoteOpenScope remoteOut(dst);
  VsiCapture capture;
  VsiFile in;
  if (IsRemotePath(src)) {
    in.f = OpenRemoteOrThrow(src, capture, "cannot download");
  } else if ((in.f = VSIFOpenL(src.c_str(), "rb")) == nullptr) {
    ErrorInfo info{"ERR_SOURCE_MISSING", "cannot open '" + src + "' to upload it", src, 0, "open"};
    throw CodedError(std::move(info));
  }
  VSILFILE* out = VSIFOpenL(dst.c_str(), "wb");
  if (out == nullptr) {
    if (!IsVirtualPath(dst)) ThrowErrno("open", dst, errno);  // a local destination (a download)
    ThrowRemote("cannot start the upload to", dst, capture.Result());
  }
  std::vector<char> buf(4 << 20);
  bool ok = true;
  for (;;) {
    const size_t n = VSIFReadL(buf.data(), 1, buf.size(), in.f);
    if (n > 0 && VSIFWriteL(buf.data(), 1, n, out) != n) {
      ok = false;
      break;
    }
    if (n < buf.size()) break;
  }
  // Closing sends the object (single PUT) or completes the multipart upload; a failed write
  // makes GDAL abort a multipart upload instead of completing it.
  if (VSIFCloseL(out) != 0) ok = false;
  if (!ok) {
    const VsiDiagnosis d = capture.Result();
    if (!IsVirtualPath(dst) && d.reason.empty()) ThrowErrno("write", dst, errno != 0 ? errno : EIO);
    ThrowRemote(IsVirtualPath(dst) ? "upload failed to" : "download failed from", IsVirtualPath(dst) ? dst : src, d);
  }
}

RemoteStat StatRemote(const std::string& path, bool fresh) {
  EnsureGdal();
  if (fresh && IsRemotePath(path)) ForgetCached(path);
  if (IsRemotePath(path)) {
    // Asked directly (one GET of the first byte): exact status codes and timeouts, the ETag and
    // Last-Modified of the answer. GDAL's VSI stat below is the fallback.
    RemoteObject object(path, path, -1);
    if (object.Direct()) {
      RemoteStat r;
      try {
        const RemoteObject::Facts f = object.Probe(nullptr);
        r.exists = true;
        r.isFile = true;
        r.size = static_cast<double>(f.size);
        r.etag = f.etag;
        r.lastModified = f.lastModified;
        r.mtime = HttpDate(f.lastModified);
        return r;
      } catch (const CodedError& e) {
        if (e.info().code != "ERR_REMOTE" || e.info().status != 200) {
          r.diagnosis.status = e.info().status;
          r.diagnosis.reason = e.info().reason;
          r.diagnosis.errnum = CPLE_HttpResponse;
          r.diagnosis.messages = e.info().message;
          return r;
        }
        // a server without byte ranges: ask GDAL (HEAD)
      }
    }
  }
  RemoteOpenScope remote(path);  // no listing of the parent "directory" to answer a stat
  VsiCapture capture;
  VSIStatBufL st;
  RemoteStat r;
  r.exists =
      VSIStatExL(path.c_str(), &st,
                 VSI_STAT_EXISTS_FLAG | VSI_STAT_NATURE_FLAG | VSI_STAT_SIZE_FLAG | VSI_STAT_SET_ERROR_FLAG) == 0;
  if (r.exists) {
    r.isFile = VSI_ISREG(st.st_mode) != 0;
    r.size = static_cast<double>(st.st_size);
    r.mtime = static_cast<double>(st.st_mtime);
    char** headers = VSIGetFileMetadata(path.c_str(), "HEADERS", nullptr);
    r.etag = HeaderValue(headers, "ETag");
    r.lastModified = HeaderValue(headers, "Last-Modified");
    CSLDestroy(headers);
  }
  r.diagnosis = capture.Result();
  return r;
}

std::vector<char> ReadVsiFile(const std::string& path, int64_t maxBytes) {
  EnsureGdal();
  if (IsRemotePath(path)) {
    RemoteObject object(path, path, -1);
    if (object.Direct()) {  // one GET, never GDAL's cache
      std::vector<uint8_t> data = object.GetAll(maxBytes, nullptr);
      return std::vector<char>(data.begin(), data.end());
    }
    ForgetCached(path);  // small files read whole: always from the server
  }
  RemoteOpenScope remote(path);
  VsiCapture capture;
  VsiFile f;
  f.f = OpenRemoteOrThrow(path, capture, "cannot read");
  std::vector<char> data;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const size_t n = VSIFReadL(buf.data(), 1, buf.size(), f.f);
    data.insert(data.end(), buf.data(), buf.data() + n);
    if (static_cast<int64_t>(data.size()) > maxBytes) {
      throw CodedError("ERR_TOO_LARGE", "'" + path + "' is larger than " + std::to_string(maxBytes) + " bytes", path);
    }
    if (n < buf.size()) break;
  }
  const VsiDiagnosis d = capture.Result();
  if (d.errnum != 0 && (d.status >= 400 || d.reason == "timeout" || d.reason == "connection")) {
    ThrowRemote("cannot read", path, d);
  }
  return data;
}

namespace {

napi_value StatObject(napi_env env, const RemoteStat& r) {
  Napi::Env e(env);
  Napi::Object o = Napi::Object::New(e);
  o.Set("exists", r.exists);
  if (r.exists) {
    o.Set("isFile", r.isFile);
    o.Set("size", r.size);
    o.Set("mtime", r.mtime);
    o.Set("etag", r.etag);
    o.Set("lastModified", r.lastModified);
  }
  o.Set("status", r.diagnosis.status);
  o.Set("errnum", r.diagnosis.errnum);
  o.Set("reason", r.diagnosis.reason);
  o.Set("message", r.diagnosis.messages);
  return o;
}

napi_value BufferOf(napi_env env, const std::vector<char>& data) {
  return Napi::Buffer<char>::Copy(Napi::Env(env), data.data(), data.size());
}

}  // namespace

Napi::Value StatRemoteJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const bool fresh = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  return Guard(env, [&]() -> Napi::Value { return Napi::Value(env, StatObject(env, StatRemote(path, fresh))); });
}

Napi::Value StatRemoteAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const bool fresh = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  EnsureGdal();
  auto result = std::make_shared<RemoteStat>();
  return AsyncJob::Run(
      env, "ndsampler.statRemoteAsync", [path, fresh, result] { *result = StatRemote(path, fresh); },
      [result](napi_env e, const std::vector<napi_value>&) { return StatObject(e, *result); });
}

Napi::Value ReadVsiFileJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const int64_t maxBytes = IntValue(env, info[1], 0, int64_t{1} << 40, "maxBytes");
  return Guard(env, [&]() -> Napi::Value { return Napi::Value(env, BufferOf(env, ReadVsiFile(path, maxBytes))); });
}

Napi::Value ReadVsiFileAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const int64_t maxBytes = IntValue(env, info[1], 0, int64_t{1} << 40, "maxBytes");
  EnsureGdal();
  auto data = std::make_shared<std::vector<char>>();
  return AsyncJob::Run(
      env, "ndsampler.readVsiFileAsync", [path, maxBytes, data] { *data = ReadVsiFile(path, maxBytes); },
      [data](napi_env e, const std::vector<napi_value>&) { return BufferOf(e, *data); });
}

Napi::Value UploadFileJs(const Napi::CallbackInfo& info) {
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  return Guard(info.Env(), [&]() -> Napi::Value {
    UploadFile(src, dst);
    return info.Env().Undefined();
  });
}

Napi::Value UploadFileAsyncJs(const Napi::CallbackInfo& info) {
  const std::string src = StringArg(info, 0, "src");
  const std::string dst = StringArg(info, 1, "dst");
  EnsureGdal();
  return AsyncJob::Run(info.Env(), "ndsampler.uploadFileAsync", [src, dst] { UploadFile(src, dst); });
}

Napi::Value SetConfigOptionsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object opts = ObjectValue(env, info[0], "options");
  const std::string prefix = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  EnsureGdal();
  const Napi::Array keys = opts.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    const Napi::Value v = opts.Get(key);
    const bool unset = v.IsNull() || v.IsUndefined();
    const std::string value = unset ? "" : StringValue(env, v, "options." + key);
    if (!prefix.empty()) {
      VSISetPathSpecificOption(prefix.c_str(), key.c_str(), unset ? nullptr : value.c_str());
    } else {
      CPLSetConfigOption(key.c_str(), unset ? nullptr : value.c_str());
    }
  }
  return env.Undefined();
}

Napi::Value GetConfigOptionJs(const Napi::CallbackInfo& info) {
  const std::string key = StringArg(info, 0, "key");
  EnsureGdal();
  const char* v = CPLGetConfigOption(key.c_str(), nullptr);
  return v == nullptr ? info.Env().Null() : Napi::String::New(info.Env(), v);
}

Napi::Value ListDirJs(const Napi::CallbackInfo& info) {
  const std::string path = StringArg(info, 0, "path");
  EnsureGdal();
  VsiCapture capture;
  char** names = VSIReadDir(path.c_str());
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (char** p = names; p != nullptr && *p != nullptr; ++p) {
    if (std::strcmp(*p, ".") != 0 && std::strcmp(*p, "..") != 0) out.Set(n++, Napi::String::New(info.Env(), *p));
  }
  CSLDestroy(names);
  return out;
}

Napi::Value ClearRemoteCacheJs(const Napi::CallbackInfo& info) {
  const std::string prefix = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  EnsureGdal();
  if (prefix.empty()) {
    VSICurlClearCache();
  } else {
    VSICurlPartialClearCache(prefix.c_str());
  }
  return info.Env().Undefined();
}

}  // namespace nds
