// WriteFileAtomic: the atomic-file rule of core/atomic_file.h. Any thread.
#include "core/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "core/errors.h"

namespace nds {

namespace {

struct TempName {
  std::string dir;   // the target's directory ("." for a bare name)
  std::string base;  // the temp file's name within dir
  std::string path;  // the temp file's path, relative like the target's
};

// Rule step 1.
TempName TempNameFor(const std::string& target) {
  const size_t slash = target.rfind('/');
  TempName t;
  t.dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : target.substr(0, slash));
  const std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) * 0x9E3779B97F4A7C15ULL;
  }
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".%ld-%016llx.tmp", static_cast<long>(getpid()),
                static_cast<unsigned long long>(r));
  t.base = "." + base + suffix;
  t.path = (slash == std::string::npos ? std::string() : target.substr(0, slash + 1)) + t.base;
  return t;
}

// The failure step: the temp file and every `<tempname>.*` side file go. Never throws.
void RemoveTemp(const TempName& t) {
  ::unlink(t.path.c_str());
  DIR* d = ::opendir(t.dir.c_str());
  if (d == nullptr) return;
  const std::string prefix = t.base + ".";
  while (const dirent* e = ::readdir(d)) {
    if (std::string(e->d_name).compare(0, prefix.size(), prefix) == 0) ::unlinkat(::dirfd(d), e->d_name, 0);
  }
  ::closedir(d);
}

// fsync of an existing file or directory; `flags` adds O_DIRECTORY for the latter.
int SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd);
  const int err = rc != 0 ? errno : 0;
  ::close(fd);
  return err;
}

}  // namespace

std::string WriteFileAtomic(const std::string& target, const std::function<void(const std::string&)>& write) {
  const TempName t = TempNameFor(target);
  try {
    write(t.path);
    if (const int err = SyncPath(t.path, 0)) ThrowErrno("fsync", target, err);
    if (::rename(t.path.c_str(), target.c_str()) != 0) ThrowErrno("rename", target, errno);
    const int err = SyncPath(t.dir, O_DIRECTORY);
    if (err != 0 && err != EINVAL && err != EROFS) ThrowErrno("fsync", t.dir, err);
  } catch (...) {
    RemoveTemp(t);
    throw;
  }
  return t.path;
}

}  // namespace nds
