'use strict';
// A "training process" that prepares the cache: one SimpleFrames over args.paths on one backend,
// prepare({gids: args.order, useStamp: false}) one entry at a time, so each `done` event closes the
// entry it names. Events (stderr): start, done {k, id}, report {built, reused, failed}, fatal.
// args: {workdir, backend, paths: {id: path}, order: [id...], lifetimeMs}
const { lib, args, emit, guard, describeError, asId } = require('./child-common');

guard(args.lifetimeMs || 60000);
const order = args.order.map(asId);
const frames = new lib.SimpleFrames(new Map(order.map((id) => [id, args.paths[String(id)]])), {
  workdir: args.workdir, backend: args.backend,
});

async function main() {
  emit({ ev: 'start', backend: args.backend });
  const report = await frames.prepare({
    gids: order, useStamp: false, workers: 0,
    onProgress: (k) => emit({ ev: 'done', k, id: order[k - 1] }),
  });
  emit({
    ev: 'report', backend: args.backend, built: report.built, reused: report.reused, total: report.total,
    failed: report.failed.map((f) => ({ id: f.imageId, ...describeError(f.error) })),
  });
  frames.close();
  process.exit(0);
}

main().catch((err) => {
  emit({ ev: 'fatal', ...describeError(err) });
  process.exit(2);
});
