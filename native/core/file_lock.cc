// lockFile / unlockFile: core/file_lock.h. JS thread only.
#include "core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "core/addon_data.h"
#include "core/args.h"
#include "core/errors.h"

namespace nds {

Napi::Value LockFileJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  if (info.Length() < 2 || !info[1].IsBoolean()) ThrowArg(env, "wait must be a boolean");
  const bool wait = info[1].As<Napi::Boolean>().Value();
  return Guard(env, [&]() -> Napi::Value {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) ThrowErrno("open", path, errno);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return Napi::Number::New(env, -1);
      ThrowErrno("flock", path, err);
    }
    GetData(env)->lockFds.insert(fd);
    return Napi::Number::New(env, fd);
  });
}

Napi::Value UnlockFileJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = static_cast<int>(IntValue(env, info[0], 0, 1 << 30, "fd"));
  AddonData* data = GetData(env);
  if (data->lockFds.erase(fd) == 0) ThrowArg(env, "fd is not a lock held through lockFile in this thread");
  ::close(fd);  // releases the flock
  return env.Undefined();
}

}  // namespace nds
