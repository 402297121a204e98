// The one way the addon publishes a file. Pure C++, any thread (the JS thread for sync calls, a
// libuv pool thread for async ones).
//
// THE ATOMIC-FILE RULE (lib/ implements the identical rule as its named twin; keep them equal):
//   1. temp name in the target's directory: `.<basename>.<pid>-<16 lowercase hex random>.tmp`
//      (pid in decimal; 64 random bits from getrandom);
//   2. write the temp file (the caller's `write`, which creates it);
//   3. fsync the temp file;
//   4. rename() it onto the target;
//   5. fsync the target's directory (EINVAL / EROFS from a file system that cannot are ignored);
//   on any failure: unlink the temp file and every side file whose name starts with
//   `<tempname>.` (GDAL's `.aux.xml`, `.ovr.tmp`, `.msk`, ...) and throw a coded error.
// Readers only ever open final names, so they see the old file or the whole new one.
#pragma once
#include <functional>
#include <string>

namespace nds {

// Publishes `target` by the rule above. `write(tempPath)` creates and fills the file at
// tempPath and throws (a CodedError) on failure. Throws CodedError ERR_IO / ERR_NOT_A_FILE /
// ERR_SOURCE_MISSING (path = target, errno, syscall) when fsync, rename or the directory fsync
// fail, and rethrows whatever `write` threw, after cleaning up. Returns the temp path it used
// (no longer existing), so a caller can move side files GDAL left next to it.
std::string WriteFileAtomic(const std::string& target, const std::function<void(const std::string& tempPath)>& write);

}  // namespace nds
