// Mapping: a whole file mapped copy-on-write for NpyReader. Pure C++, any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/errors.h"
#include "npy/sigbus_guard.h"

namespace nds {

// A whole file mapped copy-on-write (MAP_PRIVATE, readable and writable): the pages are the page
// cache's until someone writes, and a write never reaches the file. Writable so that a JS write
// into a zero-copy view cannot fault. Immutable after Open; munmap'ed when the last shared_ptr
// goes: the reader (until close), every in-flight async read and every ArrayBuffer from mapping().
// Every non-empty mapping is registered with the SIGBUS guard (npy/sigbus_guard.h) while it lives,
// and counted in the process-wide number of live mappings (the mapping budget).
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
  // True once the file was cut under the mapping (a SIGBUS hit it): its bytes can no longer be
  // trusted, and reads through it give ERR_SOURCE_CHANGED. Any thread.
  bool damaged() const { return RangeDamaged(slot_); }

 private:
  Mapping(void* addr, size_t size, bool writable);
  void* addr_;
  size_t size_;
  bool writable_;
  int slot_ = -1;  // the SIGBUS guard's slot, -1 for an empty file
};

// The mapping budget (process-wide, any thread): how many mappings may be live at once before
// NpyReader::mapping() stops handing out zero-copy buffers (readers then copy). Mappings whose
// last buffer is garbage but not yet finalized still count: finalizers run only on event-loop
// turns, and the kernel caps the mappings of a process (vm.max_map_count, 65,530 by default).
int64_t LiveMappings();
int64_t MappingBudget();
void SetMappingBudget(int64_t n);
constexpr int64_t kDefaultMappingBudget = 4096;

// The error of a read that found its mapping cut (ERR_SOURCE_CHANGED, path set). Any thread.
CodedError SourceChanged(const std::string& path);

}  // namespace nds
