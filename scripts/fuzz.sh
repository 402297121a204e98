#!/usr/bin/env bash
# Builds the libFuzzer targets (native/fuzz/fuzz_<name>.cc, CMake option NDS_FUZZ, clang++ with
# -fsanitize=fuzzer,address,undefined) in .cache/fuzz/build, writes their seed corpora
# (scripts/fuzz-seeds.js), and runs each target for a fixed time. Exits 1 when any target crashes,
# hangs (-timeout), runs out of memory (-rss_limit_mb) or fails to build. build/ is never touched.
#
#   scripts/fuzz.sh [name ...]            default: every native/fuzz/fuzz_*.cc
#   NDS_FUZZ_SECONDS=40                   seconds per target (-max_total_time)
#   NDS_FUZZ_JOBS=2                       make -j
#
# Each target runs over .cache/fuzz/corpus/<name> (kept between local runs, so it grows) and the
# fresh seeds; new interesting inputs go to the corpus. A crashing input is written by libFuzzer to
# .cache/fuzz/artifacts/ and copied, as hex text, to native/fuzz/crashes/<name>-<kind>-<sha1>.hex.
# Reproduce one with (xxd -r -p does the same as the node line):
#   node -e "process.stdout.write(Buffer.from(require('fs').readFileSync(process.argv[1], 'latin1')
#     .replace(/\s/g, ''), 'hex'))" native/fuzz/crashes/F.hex > /tmp/crash
#   .cache/fuzz/build/native/fuzz/fuzz_<name> /tmp/crash
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${NDS_FUZZ_SECONDS:-40}"
jobs="${NDS_FUZZ_JOBS:-2}"
work="$root/.cache/fuzz"
bdir="$work/build"
log() { echo "fuzz: $*"; }

command -v clang++ > /dev/null || { log "clang++ not found: run \`npm run setup\`"; exit 1; }
mkdir -p "$bdir" "$work/artifacts" "$work/corpus"
t0=$SECONDS
if ! { cmake -S "$root" -B "$bdir" -DNDS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         > "$bdir/configure.log" 2>&1 && cmake --build "$bdir" -j "$jobs" > "$bdir/build.log" 2>&1; }; then
  tail -n 40 "$bdir/configure.log" "$bdir/build.log" >&2
  log "build failed"; exit 1
fi
log "built in $((SECONDS - t0)) s"
node "$root/scripts/fuzz-seeds.js" "$work/seeds" | sed 's/^/fuzz: /' || { log "seed generation failed"; exit 1; }

if [ "$#" -gt 0 ]; then names=("$@"); else
  names=(); for f in "$root"/native/fuzz/fuzz_*.cc; do n="$(basename "$f" .cc)"; names+=("${n#fuzz_}"); done
fi
failed=()
for name in "${names[@]}"; do
  bin="$bdir/native/fuzz/fuzz_$name"
  [ -x "$bin" ] || { log "$name: no executable $bin"; failed+=("$name"); continue; }
  corpus="$work/corpus/$name"; seeds="$work/seeds/$name"
  mkdir -p "$corpus" "$seeds"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$work/artifacts/$name-")
  [ -f "$root/native/fuzz/$name.dict" ] && args+=(-dict="$root/native/fuzz/$name.dict")
  before="$(ls "$work/artifacts" | sort)"
  t1=$SECONDS
  "$bin" "${args[@]}" "$corpus" "$seeds" > "$work/$name.log" 2>&1
  rc=$?
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$')"
  cov="$(grep -E '^#[0-9]+.*DONE' "$work/$name.log" | grep -o 'cov: [0-9]*' | tail -1)"
  if [ "$rc" -eq 0 ]; then
    log "$name: ok, ${runs:-?} runs in $((SECONDS - t1)) s (${cov:-cov: ?})"
    continue
  fi
  failed+=("$name")
  log "$name: FAILED (exit $rc) after $((SECONDS - t1)) s; the report:"
  grep -E -A40 '^==[0-9]+==ERROR|runtime error|^ALARM|deadly signal|out-of-memory|uncaught' "$work/$name.log" | head -60
  mkdir -p "$root/native/fuzz/crashes"
  for a in $(comm -13 <(echo "$before") <(ls "$work/artifacts" | sort)); do
    f="$work/artifacts/$a"
    kind="${a#"$name"-}"; kind="${kind%%-*}"
    hex="$root/native/fuzz/crashes/$name-$kind-$(sha1sum "$f" | cut -c1-12).hex"
    od -An -tx1 -v "$f" | tr -d ' ' > "$hex"
    log "$name: reproducer $(realpath --relative-to="$root" "$hex") ($(stat -c %s "$f") bytes; binary: $f)"
  done
done
log "total $((SECONDS - t0)) s"
if [ "${#failed[@]}" -gt 0 ]; then log "failed: ${failed[*]}"; exit 1; fi
log "ok: ${names[*]} (${seconds} s each)"
