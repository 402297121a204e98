/** `ndsampler prepare`, `ndsampler manifest merge` and `ndsampler info`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultWorkdir } from '../frames/pathinfo';
import type { HashidMode, PrepareReport } from '../frames/frames';
import { DEFAULT_CHANNEL, SimpleFrames } from '../frames/simple-frames';
import { hasDriver } from '../gdal';
import { openImage } from '../readers';
import { cocoInfo, cocoPrepare, isCocoDataset } from './coco';
import { backendArg, collectInputs, describeError, err, help, intArg, MAX_SHARDS, out, parse, pathEncodingError, shardArg, UsageError, workdirArg } from './args';
import type { FileError } from '../errors';
import { isVirtual } from '../remote/url';
import { mergeManifests } from '../remote/manifest';
import { shardFromEnv } from '../remote/shard';

function progressBar(): (done: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  let lastPct = -1;
  return (done: number, total: number) => {
    const pct = total === 0 ? 100 : Math.floor((done * 100) / total);
    if (tty) {
      const width = 30;
      const fill = Math.round((pct / 100) * width);
      process.stderr.write(`\r[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${done}/${total} ${pct}%${done === total ? '\n' : ''}`);
    } else if (pct >= lastPct + 10 || done === total) {
      lastPct = pct;
      err(`progress: ${done}/${total} (${pct}%)`);
    }
  };
}

export async function cmdPrepare(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    workdir: { type: 'string' }, backend: { type: 'string' }, workers: { type: 'string' },
    'hashid-mode': { type: 'string' }, recursive: { type: 'boolean' }, shard: { type: 'string' }, publish: { type: 'string' },
  }, [1, Infinity]);
  if (values.help) return help();
  const backend = backendArg(values.backend);
  const workers = intArg(values.workers, '--workers', 2, 0);
  const mode = (values['hashid-mode'] ?? 'PATH') as string;
  if (mode !== 'PATH' && mode !== 'PIXELS') throw new UsageError(`--hashid-mode must be PATH or PIXELS; received '${mode}'`);
  const workdir = workdirArg(values.workdir, defaultWorkdir(), true);
  if (positionals.length === 1 && isCocoDataset(positionals[0])) {
    if (values.shard !== undefined || values.publish !== undefined) {
      throw new UsageError('--shard and --publish take image files or folders, not a kwcoco dataset (yet)');
    }
    return cocoPrepare(positionals[0], { workdir, backend, workers, hashidMode: mode as HashidMode }, progressBar());
  }
  const shard = shardArg(values.shard) ?? shardFromEnv() ?? undefined;
  const publish = values.publish as string | undefined;
  const unnamable: FileError[] = [];
  const images = collectInputs(positionals, values.recursive === true, unnamable);
  for (const e of unnamable) out(`failed: ${e.path as string}: ${describeError(e)}`);
  if (images.size === 0) {
    err(`ndsampler prepare: no ${unnamable.length > 0 ? 'readable ' : ''}images found in ${positionals.join(', ')}`);
    return 1;
  }
  const frames = new SimpleFrames(images, { workdir, backend, hashidMode: mode as HashidMode });
  const bar = progressBar();
  let report: PrepareReport;
  try {
    report = await frames.prepare({ workers, onProgress: bar, shard, publish });
  } finally {
    frames.close();
  }
  const b = frames.backend.type;
  out(`prepared ${images.size} image${images.size === 1 ? '' : 's'} with the ${b} backend in ${report.seconds.toFixed(2)} s: ` +
    `${report.built} built, ${report.reused} reused, ${report.failed.length} failed${report.fromStamp ? ' (stamp: already prepared)' : ''}`);
  out(`cache: ${report.cacheDpath}`);
  if (report.shard !== null) out(`shard: ${report.shard[0]}/${report.shard[1]} (${report.total} of the entries)`);
  if (publish !== undefined) out(`published: ${report.published} entries to ${publish}`);
  if (report.manifest !== null) out(`manifest: ${report.manifest}`);
  for (const f of report.failed) {
    out(`failed: ${images.get(f.imageId) ?? String(f.imageId)}: ${describeError(f.error)}`);
  }
  return report.failed.length > 0 || unnamable.length > 0 ? 1 : 0;
}

export function cmdManifest(args: string[]): number {
  const { values, positionals } = parse(args, { shards: { type: 'string' } }, [2, 2]);
  if (values.help) return help();
  if (positionals[0] !== 'merge') throw new UsageError(`unknown manifest command '${positionals[0]}' (expected merge)`);
  const count = values.shards === undefined ? undefined : intArg(values.shards, '--shards', 1, 1, MAX_SHARDS);
  const r = mergeManifests(positionals[1], count);
  out(`merged ${r.shards} shard fragment${r.shards === 1 ? '' : 's'}: ${r.entries} entries in ${r.manifest}`);
  return 0;
}

export function cmdInfo(args: string[]): number {
  const { values, positionals } = parse(args, { workdir: { type: 'string' } }, [1, 1]);
  if (values.help) return help();
  // A URL form (https://, s3://, ...) or a GDAL virtual path is read as it is, never as a local name.
  const file = isVirtual(positionals[0]) ? positionals[0] : path.resolve(positionals[0]);
  const workdir = workdirArg(values.workdir, defaultWorkdir(), false);
  if (isCocoDataset(file)) return cocoInfo(file, workdir, hasDriver('COG') ? ['npy', 'cog'] : ['npy']);
  const encoding = pathEncodingError(file);
  if (encoding !== null) throw encoding;
  const reader = openImage(file);  // a remote file's server errors come coded (ERR_REMOTE, ERR_SOURCE_MISSING)
  try {
    const [h, w, c] = reader.shape;
    const driver = reader.kind === 'npy' ? 'npy' : reader.info.driver;
    out(`path:    ${file}`);
    out(`shape:   ${h} x ${w} x ${c} (height x width x bands)`);
    out(`dtype:   ${reader.dtype}`);
    out(`bands:   ${c}`);
    out(`format:  ${driver}`);
    out(`cog:     ${reader.kind === 'raster' && reader.isCog ? 'yes' : 'no'}`);
  } finally {
    reader.close();
  }
  const types: Array<'npy' | 'cog'> = hasDriver('COG') ? ['npy', 'cog'] : ['npy'];
  for (const type of types) {
    const frames = new SimpleFrames(new Map([[1, file]]), { workdir, backend: type });
    const cache = frames.lookupPathinfo(1).channels[DEFAULT_CHANNEL].cache;
    out(`cache (${type}): ${cache === null || cache === undefined ? 'none (served directly)' : `${cache} (${fs.existsSync(cache) ? 'present' : 'not built'})`}`);
  }
  return 0;
}

