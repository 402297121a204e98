// GDAL error capture, per call and per thread, and the mapping of GDAL errors to coded errors.
// Pure C++: used on the JS thread and on libuv pool threads. No process-wide error handler is
// ever installed; GDAL's handler stack is thread-local, so a scope only sees errors raised on
// its own thread while it is alive.
#pragma once
#include <string>

namespace nds {

// While alive, captures every CE_Failure / CE_Fatal GDAL raises on this thread (the last one
// wins) and keeps GDAL from printing it; warnings are dropped. Construction resets GDAL's
// last-error state (CPLErrorReset) so only this call's errors count. Scopes nest: the innermost
// one captures. While alive it also sets GDAL_ERROR_ON_LIBJPEG_WARNING=TRUE for this thread only
// (CPLSetThreadLocalConfigOption, the previous value restored after): libjpeg's "premature end
// of data" is a warning GDAL would otherwise ignore, serving a truncated JPEG's missing rows as
// gray pixels.
class GdalErrorScope {
 public:
  GdalErrorScope();
  ~GdalErrorScope();
  GdalErrorScope(const GdalErrorScope&) = delete;
  GdalErrorScope& operator=(const GdalErrorScope&) = delete;

  bool failed() const { return failed_; }
  // True when a failure message came from a server (an HTTP status, a curl timeout or connection error).
  bool remote() const { return !remoteReason_.empty(); }
  const std::string& message() const { return message_; }

  // Throws CodedError for the captured failure: `fallbackCode` unless the CPLE number maps to
  // a more precise code (CPLE_NotSupported → ERR_GDAL_UNSUPPORTED, CPLE_OutOfMemory →
  // ERR_NO_MEMORY). The message is "<what> '<path>': <GDAL message>"; CPLE numbers never show.
  // A failure that came from a server (an HTTP status, a curl timeout or connection error in any
  // failure message of the scope: raster/remote_error.h) is ERR_REMOTE / ERR_SOURCE_MISSING with
  // `status` and `reason` instead, and an error the /vsindspub/ handler left pending on this
  // thread is thrown as it is.
  [[noreturn]] void Throw(const char* fallbackCode, const std::string& what, const std::string& path) const;

  // Records a failure found by our own checks (not raised through GDAL).
  void Fail(int errnum, std::string message);
  // Called by the handler this scope pushed (same thread).
  void Record(int eclass, int errnum, const char* msg);

 private:
  static constexpr const char* kJpegWarningOption = "GDAL_ERROR_ON_LIBJPEG_WARNING";
  bool hadJpegOption_ = false;
  std::string prevJpegOption_;
  bool failed_ = false;
  int errnum_ = 0;  // a CPLE_* number
  std::string message_;
  int remoteStatus_ = 0;  // from the failure messages (raster/remote_error.h)
  std::string remoteReason_;
  std::string remoteMessage_;
};

}  // namespace nds
