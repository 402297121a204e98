'use strict';
// A "training process" that only reads: random crops (loadRegion and loadRegionAsync, random ids,
// windows and backends) compared pixel for pixel with the reference (the source decoded by
// openImage, stored as .npy by the parent). Every error is reported: a reader must never get one.
// stdout lines: {ev:'error'|'mismatch', ...} (the first `maxReports` of each), then {ev:'summary'}
// when asked to stop ("stop" on stdin). stderr: `KILLEV {"ev":"end"}` after any read during which
// the library logged a build (so the parent can bound this process's builds in time).
// args: {workdir, backends, paths: {id: path}, refs: {id: npy}, cleanRefs: {'<backend>:<id>': npy},
//        mode: 'hot' | 'cold', seed, lifetimeMs, maxReports, buildRe}
//   hot:  maxReaders 32 (entries stay open across rebuilds), setMaxOpenDatasets(1) and no tile
//         cache, so GDAL handles of open COG readers are closed and reopened all the time;
//   cold: maxReaders 1, so nearly every read reopens its entry (freshness check, maybe a build).
const { lib, args, emit, out, guard, describeError, contiguousBytes, maxDiff, rng, asId, errWrite } = require('./child-common');

let stopping = false;
guard(args.lifetimeMs || 120000, (line) => {
  if (line.trim() === 'stop') stopping = true;
});

const buildRe = new RegExp(args.buildRe);
let sawBuild = false;
process.stderr.write = (chunk, ...rest) => {
  if (buildRe.test(String(chunk))) sawBuild = true;
  return errWrite(chunk, ...rest);
};

const ids = Object.keys(args.paths).map(asId);
const backends = args.backends;
if (args.mode === 'hot') {
  lib.setMaxOpenDatasets(1);
  lib.setTileCacheBudget(0);  // every COG read leases (and so reopens) a GDAL handle
}
const frames = {};
for (const b of backends) {
  frames[b] = new lib.SimpleFrames(new Map(ids.map((id) => [id, args.paths[String(id)]])), {
    workdir: args.workdir, backend: b, maxReaders: args.mode === 'cold' ? 1 : 32,
  });
}
const refs = new Map(ids.map((id) => [String(id), lib.openImage(args.refs[String(id)])]));
const cleanRefs = new Map(Object.entries(args.cleanRefs || {}).map(([k, p]) => [k, lib.openImage(p)]));
const rand = rng(args.seed || 1);
const randInt = (n) => Math.floor(rand() * n);
const maxReports = args.maxReports ?? 20;

const stats = { reads: 0, asyncReads: 0, errors: 0, wrong: 0, inexact: 0, builds: 0, codes: {}, byKey: {} };
let reportedErrors = 0;
let reportedMismatches = 0;

function randomRegion(H, W, C) {
  if (rand() < 0.08) return null;  // the whole image ('ifExists': entry when fresh, else source)
  const h = 1 + randInt(Math.min(H, 160));
  const w = 1 + randInt(Math.min(W, 160));
  const y0 = randInt(H - h + 1);
  const x0 = randInt(W - w + 1);
  const region = rand() < 0.2 ? [[y0 - H, y0 + h - H], [x0, x0 + w]] : [[y0, y0 + h], [x0, x0 + w]];
  if (C > 1 && rand() < 0.2) {
    const c0 = randInt(C);
    region.push([c0, c0 + 1 + randInt(C - c0)]);
  }
  return region;
}

async function main() {
  emit({ ev: 'start', mode: args.mode });
  while (!stopping) {
    const backend = backends[randInt(backends.length)];
    const id = ids[randInt(ids.length)];
    const key = `${backend}:${id}`;
    const ref = refs.get(String(id));
    const [H, W, C] = ref.shape;
    const region = randomRegion(H, W, C);
    const useAsync = rand() < 0.5;
    let res;
    let err;
    const t = Date.now();
    try {
      res = useAsync ? await frames[backend].loadRegionAsync(id, region) : frames[backend].loadRegion(id, region);
    } catch (e) {
      err = e;
    }
    stats.reads++;
    if (useAsync) stats.asyncReads++;
    if (sawBuild) {
      sawBuild = false;
      stats.builds++;
      emit({ ev: 'end' });
    }
    const k = (stats.byKey[key] ??= { reads: 0, errors: 0, wrong: 0, inexact: 0 });
    k.reads++;
    if (err !== undefined) {
      stats.errors++;
      k.errors++;
      const code = `${(err && err.code) || (err && err.name) || 'uncoded'}${/changed on disk/.test(String(err && err.message)) ? ' (changed on disk)' : ''}`;
      stats.codes[code] = (stats.codes[code] || 0) + 1;
      if (reportedErrors++ < maxReports) out({ ev: 'error', backend, id, region, op: useAsync ? 'loadRegionAsync' : 'loadRegion', ms: Date.now() - t, ...describeError(err) });
    } else {
      const want = ref.read(region);
      const same = res.dtype === want.dtype && res.shape.join() === want.shape.join() && contiguousBytes(res).equals(contiguousBytes(want));
      if (!same) {
        const clean = cleanRefs.get(key);
        const inexact = clean !== undefined && maxDiff(res, clean.read(region)) === 0;
        if (inexact) {
          stats.inexact++;
          k.inexact++;
        } else {
          stats.wrong++;
          k.wrong++;
        }
        if (reportedMismatches++ < maxReports) {
          out({ ev: 'mismatch', kind: inexact ? 'inexact' : 'wrong', backend, id, region, op: useAsync ? 'loadRegionAsync' : 'loadRegion',
            shape: res.shape, want: want.shape, maxDiff: maxDiff(res, want) });
        }
      }
    }
    if (!useAsync) await new Promise((r) => setImmediate(r));  // let "stop" in
  }
  out({ ev: 'summary', mode: args.mode, ...stats });
  for (const f of Object.values(frames)) f.close();
  process.exit(0);
}

main().catch((err) => {
  out({ ev: 'fatal', ...describeError(err) });
  process.exit(2);
});
