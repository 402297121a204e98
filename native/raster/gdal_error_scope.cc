// GdalErrorScope: CPLPushErrorHandlerEx / CPLErrorReset on the calling thread.
#include "raster/gdal_error_scope.h"

#include <cpl_conv.h>
#include <cpl_error.h>

#include "core/errors.h"
#include "raster/remote_error.h"

namespace nds {

namespace {

// Scopes alive on this thread: only the outermost one clears the pending remote error (an inner
// one, e.g. closing a handle after a failed read, must not drop the error the outer one throws).
thread_local int tDepth = 0;

void CPL_STDCALL ScopeHandler(CPLErr eclass, CPLErrorNum errnum, const char* msg) {
  auto* scope = static_cast<GdalErrorScope*>(CPLGetErrorHandlerUserData());
  if (scope != nullptr) scope->Record(static_cast<int>(eclass), static_cast<int>(errnum), msg);
}

}  // namespace

GdalErrorScope::GdalErrorScope() {
  const char* prev = CPLGetThreadLocalConfigOption(kJpegWarningOption, nullptr);
  hadJpegOption_ = prev != nullptr;
  if (hadJpegOption_) prevJpegOption_ = prev;
  CPLSetThreadLocalConfigOption(kJpegWarningOption, "TRUE");
  CPLErrorReset();
  if (tDepth++ == 0) ClearPendingRemoteError();
  CPLPushErrorHandlerEx(ScopeHandler, this);
}

GdalErrorScope::~GdalErrorScope() {
  --tDepth;
  CPLPopErrorHandler();
  CPLErrorReset();
  CPLSetThreadLocalConfigOption(kJpegWarningOption, hadJpegOption_ ? prevJpegOption_.c_str() : nullptr);
}

void GdalErrorScope::Record(int eclass, int errnum, const char* msg) {
  if (eclass == CE_Failure || eclass == CE_Fatal) {
    failed_ = true;
    errnum_ = errnum;
    message_ = msg != nullptr ? msg : "";
    const RemoteFailure f = ClassifyRemoteMessage(msg, errnum);
    if (f.any() && remoteReason_.empty()) {  // the first one: later messages only say what gave up
      remoteStatus_ = f.status;
      remoteReason_ = f.reason;
      remoteMessage_ = message_;
    }
  }
}

void GdalErrorScope::Fail(int errnum, std::string message) {
  failed_ = true;
  errnum_ = errnum;
  message_ = std::move(message);
}

void GdalErrorScope::Throw(const char* fallbackCode, const std::string& what, const std::string& path) const {
  ErrorInfo pending;
  if (TakePendingRemoteError(&pending)) throw CodedError(std::move(pending));
  if (!remoteReason_.empty()) {
    RemoteFailure f;
    f.status = remoteStatus_;
    f.reason = remoteReason_;
    throw CodedError(RemoteErrorInfo(what, path, f, remoteMessage_));
  }
  std::string code = fallbackCode;
  if (errnum_ == CPLE_NotSupported) code = "ERR_GDAL_UNSUPPORTED";
  if (errnum_ == CPLE_OutOfMemory) code = "ERR_NO_MEMORY";
  std::string msg = what;
  if (!path.empty()) msg += " '" + path + "'";
  msg += ": ";
  msg += message_.empty() ? std::string("GDAL reported no details") : message_;
  ErrorInfo info;
  info.code = std::move(code);
  info.message = std::move(msg);
  info.path = path;
  throw CodedError(std::move(info));
}

}  // namespace nds
