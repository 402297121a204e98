// Source and destination path checks. Any thread.
#include "raster/path_checks.h"

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/errors.h"

namespace nds {

namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

bool IsVirtualPath(const std::string& path) { return path.rfind("/vsi", 0) == 0; }

bool IsRemotePath(const std::string& path) {
  static const char* const kPrefixes[] = {"/vsicurl", "/vsis3",  "/vsigs",    "/vsiaz",
                                          "/vsiadls", "/vsioss", "/vsiswift", "/vsiwebhdfs"};
  for (const char* p : kPrefixes) {
    if (path.rfind(p, 0) == 0) return true;
  }
  return false;
}

namespace {
constexpr const char* kReadDirOption = "GDAL_DISABLE_READDIR_ON_OPEN";
constexpr const char* kHttpOptions[] = {"GDAL_HTTP_CONNECTTIMEOUT",  "GDAL_HTTP_TIMEOUT",   "GDAL_HTTP_LOW_SPEED_TIME",
                                        "GDAL_HTTP_LOW_SPEED_LIMIT", "GDAL_HTTP_MAX_RETRY", "GDAL_HTTP_RETRY_DELAY"};
}  // namespace

RemoteOpenScope::RemoteOpenScope(const std::string& path) {
  if (!IsRemotePath(path)) return;
  auto set = [&](const char* key, const char* value) {
    const char* prev = CPLGetThreadLocalConfigOption(key, nullptr);
    saved_.push_back({key, prev != nullptr, prev != nullptr ? prev : ""});
    CPLSetThreadLocalConfigOption(key, value);
  };
  if (CPLGetConfigOption(kReadDirOption, nullptr) == nullptr) set(kReadDirOption, "EMPTY_DIR");
  for (const char* key : kHttpOptions) {
    const char* v = VSIGetPathSpecificOption(path.c_str(), key, nullptr);
    if (v != nullptr) set(key, std::string(v).c_str());
  }
}

RemoteOpenScope::~RemoteOpenScope() {
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
    CPLSetThreadLocalConfigOption(it->key, it->had ? it->value.c_str() : nullptr);
  }
}

const char* FileKind(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

int64_t CheckSourceFile(const std::string& path) {
  if (IsVirtualPath(path)) return 0;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) ThrowErrno("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    // Never opened: a FIFO's open() blocks until a writer comes, a device reads forever.
    ErrorInfo info{"ERR_NOT_A_FILE", "'" + path + "' is " + FileKind(st.st_mode) + ", not an image file", path,
                   S_ISDIR(st.st_mode) ? EISDIR : 0, "stat"};
    throw CodedError(std::move(info));
  }
  return static_cast<int64_t>(st.st_size);
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
    ErrorInfo info{"ERR_IO", "cannot write into directory '" + dir + "' of '" + path + "': " + std::strerror(err), path,
                   err, "access"};
    throw CodedError(std::move(info));
  }
}

}  // namespace nds
