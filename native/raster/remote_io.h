// Remote (and other GDAL virtual) files through GDAL's VSI layer: stat with the server's
// identity (size, ETag, Last-Modified), whole-file reads of small objects (manifests), uploads of
// a local file with one VSI write (one PUT on S3-like stores for files up to the chunk size, an
// atomic multipart upload above it), GDAL config options (process-wide or path-specific) and the
// VSI curl cache. Errors are reported with the HTTP status GDAL saw when there was one.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nds {

// What one VSI operation saw: every GDAL message (warnings included, in order), the last CPLE
// number, and the HTTP status found in them (0: none, e.g. connection refused).
struct VsiDiagnosis {
  std::string messages;
  int errnum = 0;
  int status = 0;
  std::string reason;  // raster/remote_error.h: 'http', 'timeout', 'connection' or ''
};

// What StatRemote saw; `diagnosis` classifies a failure (the caller decides what it means).
struct RemoteStat {
  bool exists = false;
  bool isFile = false;
  double size = 0;
  double mtime = 0;
  std::string etag, lastModified;
  VsiDiagnosis diagnosis;
};

// Any thread. VSIStatExL of `path` and its HTTP headers (ETag, Last-Modified); `fresh` drops
// GDAL's cached facts first. Never throws for a remote failure.
RemoteStat StatRemote(const std::string& path, bool fresh);

// Any thread. The whole file (asked of the server, not GDAL's cache); ERR_SOURCE_MISSING (404),
// ERR_REMOTE (status, reason), ERR_TOO_LARGE past maxBytes.
std::vector<char> ReadVsiFile(const std::string& path, int64_t maxBytes);

// Any thread. Drops what GDAL's curl cache knows of `path` and of the other entries of its parent
// "directory" (a cached listing would answer a stat), so the next stat or read asks the server.
void ForgetCached(const std::string& path);

// Any thread. Copies the local (or VSI) file `src` to the VSI path `dst` with VSIFOpenL(dst, "wb")
// + writes + VSIFCloseL (an S3 object appears only when the upload completed). Throws ERR_REMOTE
// naming the remote side with `status`/`reason`; a local destination (a download) that cannot be
// written is ERR_IO.
void UploadFile(const std::string& src, const std::string& dst);

// statRemote(path, fresh) / statRemoteAsync (libuv pool): {exists, isFile, size, mtime, etag,
// lastModified, status, errnum, reason, message} (StatRemote). JS thread.
Napi::Value StatRemoteJs(const Napi::CallbackInfo& info);
Napi::Value StatRemoteAsyncJs(const Napi::CallbackInfo& info);
// readVsiFile(path, maxBytes) / readVsiFileAsync (libuv pool): a Buffer (ReadVsiFile). JS thread.
Napi::Value ReadVsiFileJs(const Napi::CallbackInfo& info);
Napi::Value ReadVsiFileAsyncJs(const Napi::CallbackInfo& info);
// uploadFile(src, dst) and uploadFileAsync(src, dst) (libuv pool). JS thread.
Napi::Value UploadFileJs(const Napi::CallbackInfo& info);
Napi::Value UploadFileAsyncJs(const Napi::CallbackInfo& info);
// setConfigOptions({KEY: value|null}, prefix): CPLSetConfigOption for each (process-wide), or
// VSISetPathSpecificOption(prefix, ...) when `prefix` is a non-empty string. JS thread.
Napi::Value SetConfigOptionsJs(const Napi::CallbackInfo& info);
// getConfigOption(key): the value GDAL would use (config option, else environment), or null.
Napi::Value GetConfigOptionJs(const Napi::CallbackInfo& info);
// listDir(path): the names in a (remote) directory, [] when there is none. JS thread.
Napi::Value ListDirJs(const Napi::CallbackInfo& info);
// clearRemoteCache(prefix): VSICurlPartialClearCache(prefix), or the whole cache for ''.
Napi::Value ClearRemoteCacheJs(const Napi::CallbackInfo& info);

}  // namespace nds
