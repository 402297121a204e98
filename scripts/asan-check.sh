#!/usr/bin/env bash
# Runs the whole test suite (node scripts/test.js) against an AddressSanitizer + UndefinedBehavior
# Sanitizer build of the addon, in a scratch copy of the project so build/ and dist/ are left
# alone (like scripts/gyp-check.sh). Exits non-zero when the build fails, a test fails, or a
# sanitizer reports anything (ASan aborts the process; UBSan halts on its first report).
#
#   scripts/asan-check.sh [test-name-filter ...]     the filters go to scripts/test.js
#   NDS_KILL_SECONDS=15                             budget of test/cache-kill's kill rounds
#   NDS_ASAN_KEEP=1                                 keep the scratch copy (its path is printed)
#
# How: cmake-js builds the addon with clang++ -fsanitize=address,undefined -fno-omit-frame-pointer
# (RelWithDebInfo, -shared-libasan: the addon uses the shared ASan runtime). Node and V8 are not
# instrumented, so the runtime must be loaded before anything else: every test process gets
# LD_PRELOAD=$(clang -print-file-name=libclang_rt.asan-x86_64.so) (inherited by the processes the
# tests spawn). ASAN_OPTIONS=detect_leaks=0 (Node's own allocations would be reported as leaks:
# noise) and abort_on_error=1; UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1. The reports go
# to the failing test's output, which scripts/test.js prints; this script also greps every test's
# output for a report, so one in a child process that the test tolerated still fails the run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "asan-check: $*"; }

command -v clang++ > /dev/null || { log "clang++ not found: run \`npm run setup\`"; exit 1; }
runtime="$(clang -print-file-name=libclang_rt.asan-x86_64.so)"
[ -f "$runtime" ] || { log "no ASan runtime ($runtime): run \`npm run setup\` (libclang-rt-14-dev)"; exit 1; }

scratch="$(mktemp -d "${TMPDIR:-/tmp}/ndsampler-asan.XXXXXX")"
[ -n "${NDS_ASAN_KEEP:-}" ] || trap 'rm -rf "$scratch"' EXIT
tar -C "$root" --exclude=./build --exclude=./dist --exclude=./node_modules --exclude=./.git --exclude=./.cache \
    --exclude=./bench/data --exclude=./test/.fixtures -cf - . | tar -C "$scratch" -xf -
ln -s "$root/node_modules" "$scratch/node_modules"
cd "$scratch"

t0=$SECONDS
flags="-fsanitize=address,undefined -fno-omit-frame-pointer"
if ! node "$root/node_modules/cmake-js/bin/cmake-js" compile --out build --config RelWithDebInfo --parallel 2 \
       --cc clang --cxx clang++ --CDCMAKE_CXX_FLAGS="$flags" \
       --CDCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined -shared-libasan" > build.log 2>&1; then
  tail -40 build.log >&2; log "the sanitizer build failed"; exit 1
fi
addon="$scratch/build/RelWithDebInfo/ndsampler.node"
[ -f "$addon" ] || addon="$(find "$scratch/build" -name ndsampler.node | head -1)"
# scripts/test.js and lib/native.ts look for build/Release/ndsampler.node.
if [ "$addon" != "$scratch/build/Release/ndsampler.node" ]; then
  mkdir -p "$scratch/build/Release" && cp "$addon" "$scratch/build/Release/ndsampler.node"
fi
nm -D "$scratch/build/Release/ndsampler.node" | grep -q __asan_report || { log "the addon is not instrumented"; exit 1; }
npm run --silent build:ts > ts.log 2>&1 || { cat ts.log >&2; log "tsc failed"; exit 1; }
log "built in $((SECONDS - t0)) s (in $scratch)"

export LD_PRELOAD="$runtime"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export NDS_KILL_SECONDS="${NDS_KILL_SECONDS:-15}"
sym="$(command -v llvm-symbolizer || true)"
[ -z "$sym" ] || export ASAN_SYMBOLIZER_PATH="$sym"
t1=$SECONDS
set +e
node scripts/test.js "$@" 2>&1 | tee test.log
rc=${PIPESTATUS[0]}
set -e
unset LD_PRELOAD
if grep -qE '^==[0-9]+==ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer)|runtime error: ' test.log; then
  log "sanitizer reports (first 80 lines):"
  grep -E -A60 '^==[0-9]+==ERROR|runtime error: ' test.log | head -80
  rc=1
fi
log "tests took $((SECONDS - t1)) s, $((SECONDS - t0)) s in all"
[ "$rc" -eq 0 ] && log "ok: the suite passes under ASan+UBSan" || log "FAILED"
exit "$rc"
