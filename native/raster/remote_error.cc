// Remote failure classification and the thread's pending remote error. Any thread.
#include "raster/remote_error.h"

#include <cpl_error.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace nds {

namespace {

// The HTTP status after one of GDAL's markers, or 0.
int StatusIn(const char* msg) {
  static const char* const kMarks[] = {"HTTP response code on ", "HTTP response code: ", "HTTP error code : ",
                                       "HTTP error code: ", "HTTP status code: "};
  for (const char* mark : kMarks) {
    const char* at = std::strstr(msg, mark);
    if (at == nullptr) continue;
    const char* p = at + std::strlen(mark);
    if (std::strcmp(mark, "HTTP response code on ") == 0) {  // "... on <url>: 403"
      const char* colon = std::strrchr(p, ':');
      if (colon == nullptr) continue;
      p = colon + 1;
    }
    while (*p == ' ') ++p;
    const int code = std::atoi(p);
    if (code >= 100 && code < 600) return code;
  }
  return 0;
}

bool Has(const char* msg, const char* what) { return std::strstr(msg, what) != nullptr; }

thread_local std::unique_ptr<ErrorInfo> tPending;

}  // namespace

RemoteFailure ClassifyRemoteMessage(const char* msg, int errnum) {
  RemoteFailure f;
  if (msg == nullptr) msg = "";
  f.status = StatusIn(msg);
  if (f.status == 0) {
    if (errnum == CPLE_AWSAccessDenied || errnum == CPLE_AWSInvalidCredentials ||
        errnum == CPLE_AWSSignatureDoesNotMatch)
      f.status = 403;
    if (errnum == CPLE_AWSObjectNotFound || errnum == CPLE_AWSBucketNotFound) f.status = 404;
  }
  if (f.status != 0) {
    f.reason = "http";
  } else if (Has(msg, "timed out") || Has(msg, "Operation too slow") || Has(msg, "Timeout was reached")) {
    f.reason = "timeout";
  } else if (Has(msg, "Couldn't connect") || Has(msg, "Failed to connect") || Has(msg, "Connection refused") ||
             Has(msg, "Could not resolve") || Has(msg, "Couldn't resolve") || Has(msg, "Connection reset") ||
             Has(msg, "Empty reply from server") || Has(msg, "Recv failure") || Has(msg, "Send failure") ||
             Has(msg, "SSL connect error") || Has(msg, "Connection died")) {
    f.reason = "connection";
  }
  return f;
}

ErrorInfo RemoteErrorInfo(const std::string& what, const std::string& path, const RemoteFailure& f,
                          const std::string& detail) {
  ErrorInfo info;
  const bool missing = f.status == 404 || f.status == 410;
  info.code = missing ? "ERR_SOURCE_MISSING" : "ERR_REMOTE";
  std::string how;
  if (f.status != 0) {
    how = "HTTP " + std::to_string(f.status);
  } else if (f.reason == "timeout") {
    how = "timed out";
  } else if (f.reason == "connection") {
    how = "connection failed";
  }
  info.message = what + " '" + path + "'" + (how.empty() ? "" : " (" + how + ")") + ": " +
                 (detail.empty() ? std::string("GDAL reported no details") : detail);
  info.path = path;
  info.status = f.status;
  info.reason = f.reason;
  return info;
}

void SetPendingRemoteError(const ErrorInfo& info) { tPending.reset(new ErrorInfo(info)); }

bool TakePendingRemoteError(ErrorInfo* out) {
  if (!tPending) return false;
  *out = std::move(*tPending);
  tPending.reset();
  return true;
}

void ClearPendingRemoteError() { tPending.reset(); }

}  // namespace nds
