#!/usr/bin/env bash
# Runs the whole test suite (node scripts/test.js) against an AddressSanitizer + UndefinedBehavior
# Sanitizer build of the addon, in a scratch copy of the project so build/ and dist/ are left
# alone (like scripts/gyp-check.sh). Exits non-zero when the build fails, a test fails, or a
# sanitizer reports anything (ASan aborts the process; UBSan halts on its first report).
#
#   scripts/asan-check.sh [test-name-filter ...]     the filters go to scripts/test.js
#   scripts/asan-check.sh --all                       every test file
# With no argument it runs NATIVE_FILES below: the test files that drive the addon's memory with
# hostile, concurrent or lifecycle-edge input (hostile files and servers, batches freed, cancelled
# and rebuilt under them, worker threads terminated mid-job, SIGBUS on truncated mappings, the
# fused sampler, labels' masks, videos, encoders). The files left out exercise TypeScript
# (argument checks, options, manifests, CLI parsing) or wait on servers and kill rounds (remote-async,
# remote-timeouts, cache-kill: ~2.5 min of waiting); CI's budget (keep the whole run near 20 min)
# does not fit the whole suite under ASan (~12 min with the build), and `--all` still runs it.
#   NDS_KILL_SECONDS=15                             budget of test/cache-kill's kill rounds
#   NDS_ASAN_KEEP=1                                 keep the scratch copy (its path is printed)
#
# How: cmake-js builds the addon with clang++ -fsanitize=address,undefined -fno-omit-frame-pointer
# -O1 -gline-tables-only (RelWithDebInfo; file:line in reports at a fraction of -g's build time; the flags go in CMAKE_CXX_FLAGS_RELWITHDEBINFO because cmake-js sets
# CMAKE_CXX_FLAGS itself), linked with -shared-libasan (the addon uses the shared ASan runtime). Node and V8 are not
# instrumented, so the runtime must be loaded before anything else: every test process gets
# LD_PRELOAD=$(clang -print-file-name=libclang_rt.asan-x86_64.so) (inherited by the processes the
# tests spawn). ASAN_OPTIONS=detect_leaks=0 (Node's own allocations would be reported as leaks:
# noise) and abort_on_error=1; UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1. Every report is
# written to a file (log_path) in the scratch copy, and any report fails the run and is printed,
# even one from a child process whose failure the test tolerated.
set -euo pipefail
NATIVE_FILES=(batch-lifetime.test.ts batch-native.test.ts batch.test.ts buffers.test.ts bounds.test.ts
  conformance.test.ts encode.test.ts frames-worker.test.ts fused.test.ts hostile.test.ts labels-batch.test.ts
  npy-async-inline.test.ts npy-header.test.ts npy-invalid.test.ts npy-lifecycle.test.ts npy-sigbus.test.ts
  raster-invalid.test.ts raster-read.test.ts region.test.ts remote-trust.test.ts tiff-differential.test.ts
  video.test.ts worker-terminate.test.ts)
if [ "$#" -eq 0 ]; then set -- "${NATIVE_FILES[@]}"
elif [ "$1" = "--all" ]; then shift; fi
root="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "asan-check: $*"; }

command -v clang++ > /dev/null || { log "clang++ not found: run \`npm run setup\`"; exit 1; }
runtime="$(clang -print-file-name=libclang_rt.asan-x86_64.so)"
[ -f "$runtime" ] || { log "no ASan runtime ($runtime): run \`npm run setup\` (libclang-rt-14-dev)"; exit 1; }

scratch="$(mktemp -d "${TMPDIR:-/tmp}/ndsampler-asan.XXXXXX")"
[ -n "${NDS_ASAN_KEEP:-}" ] || trap 'rm -rf "$scratch"' EXIT
trap 'exit 143' TERM INT  # (so the EXIT trap runs when CI's time limit stops the script)
tar -C "$root" --exclude=./build --exclude=./dist --exclude=./node_modules --exclude=./.git --exclude=./.cache \
    --exclude=./bench/data --exclude=./test/.fixtures -cf - . | tar -C "$scratch" -xf -
ln -s "$root/node_modules" "$scratch/node_modules"
cd "$scratch"

t0=$SECONDS
flags="-fsanitize=address,undefined -fno-omit-frame-pointer"
if ! node "$root/node_modules/cmake-js/bin/cmake-js" compile --out build --config RelWithDebInfo --parallel 2 \
       --cc clang --cxx clang++ --CDCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG $flags" \
       --CDCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined -shared-libasan" > build.log 2>&1; then
  tail -40 build.log >&2; log "the sanitizer build failed"; exit 1
fi
addon="$scratch/build/RelWithDebInfo/ndsampler.node"
[ -f "$addon" ] || addon="$(find "$scratch/build" -name ndsampler.node | head -1)"
# scripts/test.js and lib/native.ts look for build/Release/ndsampler.node.
if [ "$addon" != "$scratch/build/Release/ndsampler.node" ]; then
  mkdir -p "$scratch/build/Release" && cp "$addon" "$scratch/build/Release/ndsampler.node"
fi
# (grep reads all of nm's output: with pipefail, grep -q could fail the pipeline through SIGPIPE.)
nm -D "$scratch/build/Release/ndsampler.node" | grep -c __asan_report > /dev/null || { log "the addon is not instrumented"; exit 1; }
npm run --silent build:ts > ts.log 2>&1 || { cat ts.log >&2; log "tsc failed"; exit 1; }
log "built in $((SECONDS - t0)) s (in $scratch)"

export LD_PRELOAD="$runtime"
# Reports also go to files (log_path: one per reporting process), so a report from a process whose
# failure a test expected or tolerated (the kill test's children, a spawned CLI) is not lost.
reports="$scratch/sanitizer-reports"
mkdir -p "$reports"
# handle_sigbus=0: SIGBUS belongs to the addon's own handler (native/npy/sigbus_guard.h: a fault in
# one of our mappings becomes ERR_SOURCE_CHANGED, any other SIGBUS must still end the process by
# SIGBUS, which test/npy-sigbus checks); ASan's would turn the latter into an abort.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:handle_sigbus=0:log_path=$reports/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# Tests that measure RSS read this: under ASan (redzones, a freed-memory quarantine) the figures
# are the sanitizer allocator's, so they keep the loops (run under the sanitizer) but not the bounds.
export NDS_UNDER_ASAN=1
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export NDS_KILL_SECONDS="${NDS_KILL_SECONDS:-15}"
sym="$(command -v llvm-symbolizer || true)"
[ -z "$sym" ] || export ASAN_SYMBOLIZER_PATH="$sym"
t1=$SECONDS
set +e
node scripts/test.js "$@" 2>&1 | tee test.log
rc=${PIPESTATUS[0]}
set -e
unset LD_PRELOAD
if [ -n "$(ls -A "$reports")" ]; then
  log "sanitizer reports ($(ls "$reports" | wc -l) files; each one's first 60 lines):"
  for f in "$reports"/*; do echo "---- $(basename "$f")"; head -60 "$f"; done
  rc=1
fi
log "tests took $((SECONDS - t1)) s, $((SECONDS - t0)) s in all"
[ "$rc" -eq 0 ] && log "ok: the suite passes under ASan+UBSan" || log "FAILED"
exit "$rc"
