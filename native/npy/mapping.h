// Mapping: a whole file mapped copy-on-write for NpyReader. Pure C++, any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace nds {

// A whole file mapped copy-on-write (MAP_PRIVATE, readable and writable): the pages are the page
// cache's until someone writes, and a write never reaches the file. Writable so that a JS write
// into a zero-copy view cannot fault. Immutable after Open; munmap'ed when the last shared_ptr
// goes: the reader (until close), every in-flight async read and every ArrayBuffer from mapping().
class Mapping {
 public:
  // Opens, fstats and maps `path`, then closes the descriptor. Any thread. Throws CodedError:
  // ERR_SOURCE_MISSING (no such file), ERR_NOT_A_FILE (a directory or other non-regular file),
  // ERR_IO (any other failing call); all with path, and errno/syscall where a call failed.
  static std::shared_ptr<const Mapping> Open(const std::string& path);
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  size_t size() const { return size_; }
  // False when only a read-only mapping could be made: then no zero-copy buffer is handed out.
  bool writable() const { return writable_; }

 private:
  Mapping(void* addr, size_t size, bool writable) : addr_(addr), size_(size), writable_(writable) {}
  void* addr_;
  size_t size_;
  bool writable_;
};

}  // namespace nds
