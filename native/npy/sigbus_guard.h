// SigbusGuard: the process-wide SIGBUS handler that makes a file truncated or rewritten under one
// of our mappings a coded error (ERR_SOURCE_CHANGED) instead of a dead process.
//
// Process-wide on purpose (docs/concurrency.md "A file changed under a mapping"): a signal
// handler belongs to the process, not to an env, so the handler, the registry of mapped ranges
// and the mapping budget are the addon's only process globals. They hold no JS state.
//
//  - RegisterRange/UnregisterRange: any thread (a mutex, never taken by the handler). The handler
//    reads the registry lock-free (per-slot sequence numbers).
//  - GuardedCopy: any thread. Runs `fn` with this thread "armed": a SIGBUS inside a registered
//    range while fn runs jumps out of fn (siglongjmp) and GuardedCopy returns false. fn must be a
//    plain copy: no locks, no allocation, no destructors to skip.
//  - A SIGBUS inside a registered range on an unarmed thread (JavaScript touching a zero-copy
//    view) maps anonymous zero pages from the faulting page to the end of the range, so the access
//    completes and reads zeros; the range is marked damaged.
//  - A SIGBUS anywhere else is passed to the handler that was installed before ours (or the
//    default action, which ends the process as it would have without us).
#pragma once
#include <cstddef>

namespace nds {

// Installs the handler (once per process; later calls do nothing). Any thread.
void InstallSigbusHandler();

// Registers [addr, addr + len) and returns its slot, or -1 when the registry is full (the range
// is then unprotected: a fault in it kills the process as before). Any thread.
int RegisterRange(const void* addr, size_t len);
// Forgets a slot (before the range is unmapped). Any thread.
void UnregisterRange(int slot);
// True once a SIGBUS hit the slot's range. Any thread.
bool RangeDamaged(int slot);

// Runs fn(ctx) armed (see above). False when a SIGBUS in a registered range interrupted it.
bool GuardedCopy(void (*fn)(void*), void* ctx);
template <typename F>
bool GuardedCopy(F& fn) {
  return GuardedCopy([](void* p) { (*static_cast<F*>(p))(); }, &fn);
}

}  // namespace nds
