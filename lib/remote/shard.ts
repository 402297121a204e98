/**
 * Sharded prepare: which shard an entry belongs to, and the shard a batch job runs as.
 *
 * An entry goes to shard `XXH3-128(entry key) mod count` (the entry key has no machine-specific
 * part: `cog/<config hash>/<ab>/<hashid>.cog.tif`), so the assignment does not depend on the order
 * of the images, every entry is in exactly one shard, and running a shard again does its entries
 * again (each is checked and reused when fresh).
 *
 * Pure functions; any thread.
 */
import { hashString } from '../cache/config';
import * as v from '../validate';

export type Shard = [index: number, count: number];

/** The shard (0..count-1) of an entry key. */
export function shardOf(entryKey: string, count: number): number {
  return Number(BigInt(`0x${hashString(entryKey).slice(0, 15)}`) % BigInt(count));
}

/** Checks [index, count]: integers with 0 <= index < count. */
/** The most shards a run may have (`--shard I/N`, `options.shard`, `mergeManifests`'s count). */
export const MAX_SHARDS = 1_000_000;

export function checkShard(s: unknown, what: string): Shard {
  if (!Array.isArray(s) || s.length !== 2) throw v.typeError('[index, count]', what, s);
  const count = v.integer(s[1], `${what}[1]`, 1, MAX_SHARDS);
  const index = v.integer(s[0], `${what}[0]`, 0, count - 1);
  return [index, count];
}

/**
 * The shard a batch job runs as, from its environment: a Kubernetes Indexed Job
 * (`JOB_COMPLETION_INDEX`, with the count in `JOB_COMPLETIONS`, which the Job spec must set: Kubernetes
 * does not), or a Slurm array (`SLURM_ARRAY_TASK_ID` - `SLURM_ARRAY_TASK_MIN`, of
 * `SLURM_ARRAY_TASK_COUNT`). `count`, when given, overrides
 * the environment's count. Null when neither is set. Each variable must be a plain decimal integer
 * (digits only: `0x1`, `1e0`, `" 1 "`, `+1` and `01.0` are refused with a RangeError naming it).
 */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env, count?: number): Shard | null {
  const num = (name: string): number | undefined => {
    const s = env[name];
    if (s === undefined || s === '') return undefined;
    if (!/^\d{1,15}$/.test(s)) throw v.rangeError('a plain decimal integer (digits only)', name, s);
    return Number(s);
  };
  let index: number | undefined;
  let n: number | undefined;
  if (num('JOB_COMPLETION_INDEX') !== undefined) {
    index = num('JOB_COMPLETION_INDEX');
    n = count ?? num('JOB_COMPLETIONS');
    if (n === undefined) throw v.rangeError('the shard count (set JOB_COMPLETIONS to the Job\'s completions, or pass --shard i/n)', 'JOB_COMPLETIONS', undefined);
  } else if (num('SLURM_ARRAY_TASK_ID') !== undefined) {
    index = (num('SLURM_ARRAY_TASK_ID') as number) - (num('SLURM_ARRAY_TASK_MIN') ?? 0);
    n = count ?? num('SLURM_ARRAY_TASK_COUNT');
    if (n === undefined) throw v.rangeError('the shard count', 'SLURM_ARRAY_TASK_COUNT', undefined);
  } else {
    return null;
  }
  return checkShard([index, n], 'shard from the environment');
}
