// Advisory whole-file locks (flock) for one builder per cache entry across processes.
// JS thread only. The kernel releases a lock when its holder's descriptor is closed or its process
// dies, so a killed builder never leaves an entry locked. Every descriptor this file hands out is
// recorded in the env's AddonData and closed at env teardown, so a terminated worker thread never
// leaves a lock held either.
#pragma once
#include <napi.h>

namespace nds {

// lockFile(path, wait): opens (creating, mode 0644) `path` and takes an exclusive flock on it.
// Returns the descriptor that holds the lock, or -1 when `wait` is false and another descriptor
// (another process, another thread, or another open of this thread) holds it. With `wait` true it
// blocks the calling thread until the lock is granted. File errors are coded (ERR_IO, ...).
Napi::Value LockFileJs(const Napi::CallbackInfo& info);
// unlockFile(fd): closes a descriptor lockFile returned in this env, which releases its lock.
// Any other number is a TypeError.
Napi::Value UnlockFileJs(const Napi::CallbackInfo& info);

}  // namespace nds
