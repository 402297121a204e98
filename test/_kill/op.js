'use strict';
// Runs a list of operations in a fresh process (so the library's NODE_DEBUG lines show how many
// builds each took) and prints one result line per operation on stdout.
// args: {workdir, paths: {id: path}, ops: [{backend, op: 'load'|'loadAsync'|'prepare', id?, region?, gids?}], lifetimeMs}
//   load/loadAsync -> {ok: true, shape, dtype, sha1, ms} or {ok: false, code, errno, message, ms}
//   prepare        -> {ok: true, built, reused, failed: [{id, code, errno, message}], ms} (or ok: false)
const { lib, args, out, guard, describeError, checksum, asId } = require('./child-common');

guard(args.lifetimeMs || 30000);
const ids = Object.keys(args.paths).map(asId);
const frames = {};
const framesFor = (b) => (frames[b] ??= new lib.SimpleFrames(new Map(ids.map((id) => [id, args.paths[String(id)]])), {
  workdir: args.workdir, backend: b,
}));

async function main() {
  for (const [i, o] of args.ops.entries()) {
    const f = framesFor(o.backend);
    const t = Date.now();
    try {
      if (o.op === 'prepare') {
        const r = await f.prepare({ gids: o.gids, useStamp: false });
        out({ i, ...o, ok: true, built: r.built, reused: r.reused, failed: r.failed.map((x) => ({ id: x.imageId, ...describeError(x.error) })), ms: Date.now() - t });
      } else {
        const a = o.op === 'loadAsync' ? await f.loadRegionAsync(o.id, o.region) : f.loadRegion(o.id, o.region);
        out({ i, ...o, ok: true, shape: a.shape, dtype: a.dtype, sha1: checksum(a), ms: Date.now() - t });
      }
    } catch (err) {
      out({ i, ...o, ok: false, ...describeError(err), ms: Date.now() - t });
    }
  }
  for (const x of Object.values(frames)) x.close();
  process.exit(0);
}

main().catch((err) => {
  out({ ev: 'fatal', ...describeError(err) });
  process.exit(2);
});
