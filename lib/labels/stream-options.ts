/**
 * The options of CocoSampler's streams (stream.ts over images, video-stream.ts over videos) that
 * plan and augment the epochs, checked once; and the augmentation each item draws. Calling thread.
 */
import { checkResume } from '../frames/sampler';
import type { Rng } from '../frames/sampler';
import * as v from '../validate';
import type { Augment } from './targets';

export const STREAM_KEYS = ['windowDims', 'batchSize', 'seed', 'positiveFraction', 'jitter', 'augment', 'epochs', 'dropLast', 'shuffle',
  'rank', 'worldSize', 'prefetch', 'resume'] as const;

const U32 = 2 ** 32;

export function prob(x: unknown, name: string): number {
  if (x === undefined) return 0;
  const p = v.number(x, name);
  if (!(p >= 0 && p <= 1)) throw v.rangeError('a probability in [0, 1]', name, x);
  return p;
}

/** A stream's plan and augmentation options, checked. */
export interface StreamPlan {
  batchSize: number;
  seed: number;
  /** positiveFraction */
  frac: number;
  jitter: number;
  epochs: number;
  dropLast: boolean;
  shuffle: boolean;
  worldSize: number;
  rank: number;
  prefetch: number;
  /** hflip and vflip probabilities, quarter turns, the scale range. */
  pH: number;
  pV: number;
  rot: boolean;
  scale: [number, number] | null;
  start: { epoch: number; position: number };
}

/** Checks the plan options of a stream (`o`: its options, keys already checked). */
export function checkStreamPlan(o: Partial<Record<(typeof STREAM_KEYS)[number], unknown>>): StreamPlan {
  const batchSize = v.integer(o.batchSize, 'options.batchSize', 1, 1 << 16);
  const seed = o.seed === undefined ? 0 : v.integer(o.seed, 'options.seed', 0, U32 - 1);
  const frac = o.positiveFraction === undefined ? 0.5 : prob(o.positiveFraction, 'options.positiveFraction');
  const jitter = prob(o.jitter, 'options.jitter');
  const epochs = o.epochs === undefined || o.epochs === Infinity ? Infinity : v.integer(o.epochs, 'options.epochs', 1, Number.MAX_SAFE_INTEGER);
  const dropLast = o.dropLast === undefined ? false : v.boolean(o.dropLast, 'options.dropLast');
  const shuffle = o.shuffle === undefined ? true : v.boolean(o.shuffle, 'options.shuffle');
  const worldSize = o.worldSize === undefined ? 1 : v.integer(o.worldSize, 'options.worldSize', 1, 1 << 16);
  const rank = o.rank === undefined ? 0 : v.integer(o.rank, 'options.rank', 0, worldSize - 1);
  const prefetch = o.prefetch === undefined ? 2 : v.integer(o.prefetch, 'options.prefetch', 0, 64);
  const aug = o.augment === undefined ? {} : v.options(o.augment, 'options.augment', ['hflip', 'vflip', 'rot90', 'scale'] as const);
  if (o.augment !== undefined && !v.isPlainObject(o.augment)) throw v.typeError('an object {hflip, vflip, rot90, scale}', 'options.augment', o.augment);
  const pH = prob(aug.hflip, 'options.augment.hflip');
  const pV = prob(aug.vflip, 'options.augment.vflip');
  const rot = aug.rot90 === undefined ? false : v.boolean(aug.rot90, 'options.augment.rot90');
  let scale: [number, number] | null = null;
  if (aug.scale !== undefined) {
    const sc = aug.scale;
    if (!Array.isArray(sc) || sc.length !== 2) throw v.typeError('[min, max]', 'options.augment.scale', sc);
    const lo = v.number(sc[0], 'options.augment.scale[0]');
    const hi = v.number(sc[1], 'options.augment.scale[1]');
    if (!(lo >= 1 / 64 && hi <= 64 && lo <= hi)) throw v.rangeError('[min, max] with 1/64 <= min <= max <= 64', 'options.augment.scale', sc);
    scale = [lo, hi];
  }
  const start = checkResume(o.resume, seed, rank, worldSize);
  return { batchSize, seed, frac, jitter, epochs, dropLast, shuffle, worldSize, rank, prefetch, pH, pV, rot, scale, start };
}

/**
 * An item's augmentation from its generator: hflip, vflip (their probabilities), a quarter-turn
 * count uniform in 0..3 when `rot`, a scale uniform in the range; undefined when it is none.
 */
export function drawAugment(rng: Rng, p: StreamPlan): Augment | undefined {
  const a = { hflip: rng.next() / U32 < p.pH, vflip: rng.next() / U32 < p.pV, rot90: (p.rot ? rng.below(4) : 0) as 0 | 1 | 2 | 3, scale: 1 };
  const u = rng.next() / U32;
  if (p.scale !== null) a.scale = p.scale[0] + u * (p.scale[1] - p.scale[0]);
  if (a.hflip || a.vflip || a.rot90 !== 0 || p.scale !== null) return p.scale === null ? { hflip: a.hflip, vflip: a.vflip, rot90: a.rot90 } : a;
  return undefined;
}
