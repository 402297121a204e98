#!/usr/bin/env bash
# Checks that binding.gyp (the alternative node-gyp build) still builds the addon, in a scratch copy
# of the project so the canonical cmake-js build in build/ is left alone. Offline: Node's headers
# come from the Node install (--nodedir, e.g. /usr with /usr/include/node), never from a download.
#
#   scripts/gyp-check.sh [node-gyp arguments...]     default: rebuild --jobs=max
#   NODE_GYP=/path/to/node-gyp.js scripts/gyp-check.sh   another node-gyp than npm's own
#
# The whole project (less build/, dist/, node_modules/, .git, bench/data) is copied, so binding.gyp
# may use any layout under native/; node_modules is linked in for node-addon-api. After the build,
# the .node file is loaded once so that an unresolved symbol fails here too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ "$#" -gt 0 ] || set -- rebuild --jobs=max

gyp="${NODE_GYP:-}"
[ -z "$gyp" ] || [ -f "$gyp" ] || { echo "gyp-check: NODE_GYP=$gyp does not exist" >&2; exit 1; }
[ -n "$gyp" ] || for cand in "$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js" \
            "$(npm root -g 2>/dev/null)/node-gyp/bin/node-gyp.js" \
            "$root/node_modules/node-gyp/bin/node-gyp.js"; do
  if [ -f "$cand" ]; then gyp="$cand"; break; fi
done
[ -n "$gyp" ] || { echo "gyp-check: node-gyp not found (under \`npm root -g\` or node_modules)" >&2; exit 1; }

nodedir="$(cd "$(dirname "$(command -v node)")/.." && pwd)"
[ -f "$nodedir/include/node/common.gypi" ] || {
  echo "gyp-check: no Node headers in $nodedir/include/node (node-gyp would download them)" >&2; exit 1; }

scratch="$(mktemp -d "${TMPDIR:-/tmp}/ndsampler-gyp.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
tar -C "$root" --exclude=./build --exclude=./dist --exclude=./node_modules --exclude=./.git \
    --exclude=./bench/data --exclude=./test/.fixtures -cf - . | tar -C "$scratch" -xf -
ln -s "$root/node_modules" "$scratch/node_modules"

# -O0 unless CXXFLAGS says otherwise: the check is that binding.gyp compiles, links and loads every
# source; gyp's Makefile puts $CXXFLAGS after its own -O3, and -O0 halves the build (57 s vs 103 s).
export CXXFLAGS="${CXXFLAGS--O0}"
echo "gyp-check: node $gyp $* --nodedir=$nodedir CXXFLAGS=$CXXFLAGS (in $scratch)"
(cd "$scratch" && node "$gyp" "$@" --nodedir="$nodedir" --loglevel=warn) > "$scratch.log" 2>&1 || {
  tail -40 "$scratch.log" >&2; rm -f "$scratch.log"; echo "gyp-check: node-gyp failed" >&2; exit 1; }
rm -f "$scratch.log"
addon="$(find "$scratch/build/Release" -maxdepth 1 -name '*.node' | head -1)"
[ -n "$addon" ] || { echo "gyp-check: node-gyp made no .node file" >&2; exit 1; }
node -e "require(process.argv[1])" "$addon"
echo "gyp-check: ok ($(basename "$addon") builds and loads)"
