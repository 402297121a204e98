// Remote (and other GDAL virtual) files through GDAL's VSI layer: stat with the server's
// identity (size, ETag, Last-Modified), whole-file reads of small objects (manifests), uploads of
// a local file with one VSI write (one PUT on S3-like stores for files up to the chunk size, an
// atomic multipart upload above it), GDAL config options (process-wide or path-specific) and the
// VSI curl cache. Errors are reported with the HTTP status GDAL saw when there was one.
#pragma once
#include <napi.h>

#include <string>

namespace nds {

// What one VSI operation saw: every GDAL message (warnings included, in order), the last CPLE
// number, and the HTTP status found in them (0: none, e.g. connection refused).
struct VsiDiagnosis {
  std::string messages;
  int errnum = 0;
  int status = 0;
};

// Any thread. Drops what GDAL's curl cache knows of `path` and of the other entries of its parent
// "directory" (a cached listing would answer a stat), so the next stat or read asks the server.
void ForgetCached(const std::string& path);

// Any thread. Copies the local (or VSI) file `src` to the VSI path `dst` with VSIFOpenL(dst, "wb")
// + writes + VSIFCloseL (an S3 object appears only when the upload completed). Throws ERR_REMOTE
// naming `dst` with "(HTTP <status>)" in the message when the server answered with one.
void UploadFile(const std::string& src, const std::string& dst);

// statRemote(path, fresh): {exists, size, mtime, etag, lastModified, status, errnum, message}.
// `fresh` drops GDAL's cached facts of `path` first. Never throws for a remote failure (the caller
// classifies it). JS thread.
Napi::Value StatRemoteJs(const Napi::CallbackInfo& info);
// readVsiFile(path, maxBytes): the whole file as a Buffer, asked of the server (ForgetCached first); ERR_SOURCE_MISSING
// / ERR_REMOTE. JS thread.
Napi::Value ReadVsiFileJs(const Napi::CallbackInfo& info);
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
