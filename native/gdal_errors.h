// GDAL error capture, per call and per thread, and the mapping of GDAL errors to coded errors.
// Pure C++: usable on the main thread and on libuv pool threads. No process-wide error handler
// is ever installed; GDAL's handler stack is thread-local, so a scope only sees errors raised on
// its own thread while it is alive.
#pragma once
#include <gdal.h>

#include <string>

#include "common.h"

namespace nds {

// Registers GDAL's drivers once per process (std::call_once). Any thread.
void EnsureGdal();

// While alive, captures every CE_Failure / CE_Fatal GDAL raises on this thread (the last one
// wins) and keeps GDAL from printing it. Warnings are counted and dropped. Construction resets
// GDAL's last-error state (CPLErrorReset) so only this call's errors count. Scopes nest.
class GdalErrorScope {
 public:
  GdalErrorScope();
  ~GdalErrorScope();
  GdalErrorScope(const GdalErrorScope&) = delete;
  GdalErrorScope& operator=(const GdalErrorScope&) = delete;

  bool failed() const { return failed_; }
  int errnum() const { return errnum_; }           // a CPLE_* number; never shown to users
  const std::string& message() const { return message_; }

  // Throws CodedError for the captured failure: `fallbackCode` unless the CPLE number maps to
  // a more precise code (CPLE_NotSupported → ERR_GDAL_UNSUPPORTED, CPLE_OutOfMemory →
  // ERR_NO_MEMORY). The message is "<what> '<path>': <GDAL message>".
  [[noreturn]] void Throw(const char* fallbackCode, const std::string& what, const std::string& path) const;

  // Records a failure found by our own checks (not raised through GDAL).
  void Fail(int errnum, std::string message);
  // Called by the handler this scope pushed (same thread).
  void Record(int eclass, int errnum, const char* msg);

 private:
  bool failed_ = false;
  int errnum_ = 0;
  int warnings_ = 0;
  std::string message_;
};

// True for GDAL virtual file system paths (/vsimem/, /vsizip/, ...), which have no inode.
bool IsVirtualPath(const std::string& path);

// Source paths: throws ERR_SOURCE_MISSING when `path` does not exist, ERR_NOT_A_FILE when it
// is a directory, ERR_IO for other stat failures. GDAL virtual paths (/vsi...) are left to GDAL.
void CheckSourceFile(const std::string& path);

// Opens `path` read-only as a raster on the calling thread (CheckSourceFile first); GDAL's
// failure becomes ERR_GDAL_OPEN. The caller owns the handle (GDALClose).
GDALDatasetH OpenForRead(const std::string& path);

// Destination paths: throws ERR_IO (with errno/syscall) when the directory that would hold
// `path` does not exist or is not writable, ERR_NOT_A_FILE when `path` is a directory.
void CheckDestination(const std::string& path);

}  // namespace nds
