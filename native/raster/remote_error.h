// What went wrong talking to a server, read from GDAL's and curl's messages, and the coded error
// it becomes: ERR_SOURCE_MISSING for 404, ERR_REMOTE otherwise, with `status` (the HTTP status,
// when the server answered) and `reason`: 'http' (an error status), 'timeout' (no complete answer
// within the connect/read timeouts) or 'connection' (no connection: refused, reset, DNS, TLS).
// Also the thread's pending remote error: code that runs under GDAL (the /vsindspub/ handler,
// raster/published_vsi.h) cannot throw through it, so it leaves its exact error here and the
// GdalErrorScope of the call that reached it throws that instead of GDAL's generic one.
// Pure C++, any thread.
#pragma once
#include <string>

#include "core/errors.h"

namespace nds {

struct RemoteFailure {
  int status = 0;      // HTTP status, 0 when none
  std::string reason;  // "http", "timeout", "connection"; empty: not a remote failure
  bool any() const { return !reason.empty(); }
};

// Classifies one message (GDAL's "HTTP response code: 403", CPLHTTPFetch's "HTTP error code : 404",
// curl's "Operation timed out after ...", "Couldn't connect to server", ...) and its CPLE number
// (the CPLE_AWS* credential errors count as 403, CPLE_AWSObjectNotFound as 404).
RemoteFailure ClassifyRemoteMessage(const char* msg, int errnum);

// "<what> '<path>' (HTTP 403): detail", "(timed out)", "(connection failed)"; code
// ERR_SOURCE_MISSING for 404 and 410, ERR_REMOTE otherwise; status and reason set.
ErrorInfo RemoteErrorInfo(const std::string& what, const std::string& path, const RemoteFailure& f,
                          const std::string& detail);

// This thread's pending remote error (see above). Set replaces; Take returns it once and clears.
void SetPendingRemoteError(const ErrorInfo& info);
bool TakePendingRemoteError(ErrorInfo* out);
void ClearPendingRemoteError();

}  // namespace nds
