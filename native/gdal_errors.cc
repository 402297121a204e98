// GDAL error capture per call on the calling thread (CPLPushErrorHandlerEx / CPLErrorReset),
// and path checks that give precise codes before GDAL turns everything into "open failed".
#include "gdal_errors.h"

#include <cpl_error.h>
#include <gdal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace nds {

namespace {

std::once_flag gdalOnce;

void CPL_STDCALL ScopeHandler(CPLErr eclass, CPLErrorNum errnum, const char* msg) {
  auto* scope = static_cast<GdalErrorScope*>(CPLGetErrorHandlerUserData());
  if (scope != nullptr) scope->Record(static_cast<int>(eclass), static_cast<int>(errnum), msg);
}

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

bool IsVirtualPath(const std::string& path) { return path.rfind("/vsi", 0) == 0; }

void EnsureGdal() {
  std::call_once(gdalOnce, [] { GDALAllRegister(); });
}

GdalErrorScope::GdalErrorScope() {
  CPLErrorReset();
  CPLPushErrorHandlerEx(ScopeHandler, this);
}

GdalErrorScope::~GdalErrorScope() {
  CPLPopErrorHandler();
  CPLErrorReset();
}

void GdalErrorScope::Record(int eclass, int errnum, const char* msg) {
  if (eclass == CE_Failure || eclass == CE_Fatal) {
    failed_ = true;
    errnum_ = errnum;
    message_ = msg != nullptr ? msg : "";
  } else if (eclass == CE_Warning) {
    ++warnings_;
  }
}

void GdalErrorScope::Fail(int errnum, std::string message) {
  failed_ = true;
  errnum_ = errnum;
  message_ = std::move(message);
}

void GdalErrorScope::Throw(const char* fallbackCode, const std::string& what, const std::string& path) const {
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

void CheckSourceFile(const std::string& path) {
  if (IsVirtualPath(path)) return;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) ThrowErrno("stat", path, errno);
  if (S_ISDIR(st.st_mode)) {
    ErrorInfo info{"ERR_NOT_A_FILE", "'" + path + "' is a directory, not an image file", path, EISDIR, "stat"};
    throw CodedError(std::move(info));
  }
}

GDALDatasetH OpenForRead(const std::string& path) {
  EnsureGdal();
  CheckSourceFile(path);
  GdalErrorScope scope;
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                               nullptr, nullptr, nullptr);
  if (ds == nullptr) {
    if (!scope.failed()) scope.Fail(CPLE_OpenFailed, "not recognized as a supported raster format");
    scope.Throw("ERR_GDAL_OPEN", "cannot open", path);
  }
  return ds;
}

void CheckDestination(const std::string& path) {
  if (IsVirtualPath(path)) return;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    ErrorInfo info{"ERR_NOT_A_FILE", "destination '" + path + "' is a directory", path, EISDIR, "stat"};
    throw CodedError(std::move(info));
  }
  const std::string dir = DirName(path);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    const int err = errno;
    ErrorInfo info{"ERR_IO", "cannot write into directory '" + dir + "' of '" + path + "': " + std::strerror(err),
                   path, err, "access"};
    throw CodedError(std::move(info));
  }
}

}  // namespace nds
