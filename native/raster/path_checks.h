// Path checks that give precise codes before GDAL turns every problem into "open failed".
// Pure C++, any thread.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nds {

// True for GDAL virtual file system paths (/vsimem/, /vsizip/, ...), which have no inode.
bool IsVirtualPath(const std::string& path);

// True for the GDAL virtual file systems that reach a server (/vsicurl/, /vsis3/, /vsigs/,
// /vsiaz/, /vsiadls/, /vsioss/, /vsiswift/, /vsiwebhdfs/ and their _streaming twins).
bool IsRemotePath(const std::string& path);

// While alive on this thread, and only for a remote `path`, as thread-local config options:
// - GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR (GDAL then never lists the remote "directory" to look
//   for side files: one request less per open), unless the user set that option (config or env);
// - the timeouts and retries that apply to `path` (GDAL_HTTP_CONNECTTIMEOUT, GDAL_HTTP_TIMEOUT,
//   GDAL_HTTP_LOW_SPEED_TIME/LIMIT, GDAL_HTTP_MAX_RETRY, GDAL_HTTP_RETRY_DELAY: path-specific
//   options first, as setRemoteOptions({...}, {prefix}) sets them, then the process-wide ones).
//   GDAL 3.6's network handles read these options (not path-specific ones) when they are created,
//   so a handle opened in the scope keeps them for its reads.
// Local paths are untouched (their .ovr / .aux.xml side files keep being found).
class RemoteOpenScope {
 public:
  explicit RemoteOpenScope(const std::string& path);
  ~RemoteOpenScope();
  RemoteOpenScope(const RemoteOpenScope&) = delete;
  RemoteOpenScope& operator=(const RemoteOpenScope&) = delete;

 private:
  struct Saved {
    const char* key;
    bool had;
    std::string value;
  };
  std::vector<Saved> saved_;
};

// Source paths: throws ERR_SOURCE_MISSING when `path` does not exist, ERR_NOT_A_FILE when it
// is anything but a regular file (a directory, FIFO, device or socket: checked with stat()
// before anything opens it, so a FIFO never blocks and a device is never read), ERR_IO for
// other stat failures. Returns the file's size. GDAL virtual paths (/vsi...) are left to GDAL
// (size 0).
int64_t CheckSourceFile(const std::string& path);

// Destination paths of the GDAL writers: throws ERR_IO (with errno/syscall) when the directory
// that would hold `path` does not exist or is not writable, ERR_NOT_A_FILE when `path` is a
// directory.
void CheckDestination(const std::string& path);

}  // namespace nds
