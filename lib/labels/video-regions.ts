/**
 * The sampling plans of a CocoSampler over videos: space-time sample grids [ndsampler's
 * new_sample_grid('video_detection', (T, H, W))], positives that follow tracks and random
 * space-time negatives. Windows are in video space; an annotation is in a window when its box,
 * warped from its image into video space (the box of its corners), overlaps it (queries go to
 * the image's index with the window's box warped into image space). Every random choice comes
 * from the counter-based generator of frames/sampler.ts, keyed by the seed and the item, so a
 * plan is the same on every machine. Runs on the calling thread.
 */
import { invert } from '../frames/affine';
import type { M3 } from '../frames/affine';
import { Rng } from '../frames/sampler';
import * as v from '../validate';
import type { Annotation } from './annotations';
import { NEGATIVE_CLASSES, pyRound, starts1d } from './regions';
import type { LabelStore } from './store';
import type { Target } from './targets';
import type { FrameInfo, VideoId, VideoIndex } from './videos';

const U32 = 2 ** 32;
const MAX_SEED = 2 ** 32 - 1;
const MAX_DIM = 1 << 20;
const MAX_T = 1 << 16;

/** `[t, h, w]`, checked. */
export function checkVideoDims(x: unknown, name: string): [number, number, number] {
  if (!Array.isArray(x) || x.length !== 3) throw v.typeError('[t, h, w]', name, x);
  return [v.integer(x[0], `${name}[0]`, 1, MAX_T), v.integer(x[1], `${name}[1]`, 1, MAX_DIM), v.integer(x[2], `${name}[2]`, 1, MAX_DIM)];
}

/** The box of the corners of (x0, y0, x1, y1) through `m`. */
function warpBox(m: M3, x0: number, y0: number, x1: number, y1: number): [number, number, number, number] {
  let a = Infinity, b = Infinity, c = -Infinity, d = -Infinity;
  for (const [x, y] of [[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) {
    const u = m[0] * x + m[1] * y + m[2], w = m[3] * x + m[4] * y + m[5];
    a = Math.min(a, u); b = Math.min(b, w); c = Math.max(c, u); d = Math.max(d, w);
  }
  return [a, b, c, d];
}

/** An annotation's box in video space [x0, y0, x1, y1]. */
export function videoBox(f: FrameInfo, a: Annotation): [number, number, number, number] {
  const [x, y, w, h] = a.box;
  return f.identity ? [x, y, x + w, y + h] : warpBox(f.warp, x, y, x + w, y + h);
}

/** The annotations of frame `f` whose box overlaps the video window (x0, y0, x1, y1) (queried in image space). */
export function frameOverlapping(store: LabelStore, f: FrameInfo, x0: number, y0: number, x1: number, y1: number): Annotation[] {
  if (f.identity) return store.overlapping(f.imageId, x0, y0, x1, y1, 0);
  const [a, b, c, d] = warpBox(invert(f.warp), x0, y0, x1, y1);
  return store.overlapping(f.imageId, a, b, c, d, 0);
}

/**
 * The largest fraction of the window (x0, y0) + (h, w) any one annotation box of `f` covers, in
 * video space; it stops counting once it reaches `enough`.
 */
export function worstOverlap(store: LabelStore, f: FrameInfo, x0: number, y0: number, h: number, w: number, enough = Infinity): number {
  let worst = 0;
  for (const a of frameOverlapping(store, f, x0, y0, x0 + w, y0 + h)) {
    const [bx0, by0, bx1, by1] = videoBox(f, a);
    const iw = Math.min(bx1, x0 + w) - Math.max(bx0, x0);
    const ih = Math.min(by1, y0 + h) - Math.max(by0, y0);
    if (iw > 0 && ih > 0) worst = Math.max(worst, (iw * ih) / (w * h));
    if (worst >= enough) break;
  }
  return worst;
}

const extentOf = (store: LabelStore, videos: VideoIndex, id: VideoId) => videos.extent(id, (g) => store.imageSize(g));

/**
 * Sliding space-time windows over every video (kwarray's SlidingWindow over [frames, height,
 * width] with keepbound and allow_overshoot: step round(d (1 - overlap)) per axis, the last window
 * aligned to the far end, a window longer than an axis starting at 0 and padded). A window is
 * positive when a frame in it has an annotation in it whose category is not 'ignore' or
 * 'background' (ndsampler's video grid; no ignore-coverage rule).
 */
export function videoGrid(store: LabelStore, videos: VideoIndex, dims: [number, number, number], overlap: number): { positives: Target[]; negatives: Target[] } {
  const [t, h, w] = dims;
  const steps = dims.map((d) => pyRound(d - d * overlap));
  if (steps.some((s) => s < 1)) throw v.rangeError('an overlap that leaves a step of at least 1 pixel and frame', 'options.overlap', overlap);
  const names = new Map(store.categories.map((c) => [c.id, c.name.toLowerCase()]));
  const pos: Target[] = [];
  const neg: Target[] = [];
  for (const videoId of videos.ids) {
    const frames = videos.frames(videoId);
    if (frames.length === 0) continue;
    const [H, W] = extentOf(store, videos, videoId);
    for (const t0 of starts1d(frames.length, t, steps[0])) {
      for (const y0 of starts1d(H, h, steps[1])) {
        for (const x0 of starts1d(W, w, steps[2])) {
          const target: Target = { videoId, timeSlice: [t0, t0 + t], region: [[y0, y0 + h], [x0, x0 + w]] };
          let positive = false;
          for (let p = t0; p < Math.min(t0 + t, frames.length) && !positive; p++) {
            positive = frameOverlapping(store, frames[p], x0, y0, x0 + w, y0 + h).some((a) => !NEGATIVE_CLASSES.has(names.get(a.categoryId) ?? ''));
          }
          (positive ? pos : neg).push(target);
        }
      }
    }
  }
  return { positives: pos, negatives: neg };
}

/** One track of a video: its annotations and their frame positions, in time order. */
export interface Track {
  videoId: VideoId;
  frames: FrameInfo[];
  anns: Annotation[];
}

/**
 * The tracks of every video, in dataset order of their first annotation: annotations of one
 * video sharing a track_id (an annotation without one is a track of its own).
 */
export function videoTracks(store: LabelStore, videos: VideoIndex): Track[] {
  const tracks = new Map<string, Track>();
  for (const a of store.all()) {
    const f = videos.frameOf(a.imageId);
    if (f === undefined) continue;
    const key = a.trackId === null ? `a\u0000${typeof a.id}\u0000${String(a.id)}` : `t\u0000${String(f.videoId)}\u0000${typeof a.trackId}\u0000${String(a.trackId)}`;
    let tr = tracks.get(key);
    if (tr === undefined) {
      tr = { videoId: f.videoId, frames: [], anns: [] };
      tracks.set(key, tr);
    }
    tr.frames.push(f);
    tr.anns.push(a);
  }
  const out = [...tracks.values()];
  for (const tr of out) {
    const order = tr.frames.map((_, k) => k).sort((x, y) => tr.frames[x].position - tr.frames[y].position || x - y);
    tr.frames = order.map((k) => tr.frames[k]);
    tr.anns = order.map((k) => tr.anns[k]);
  }
  return out;
}

/**
 * The windows of `t` frames that follow a track: its span of frames cut into ceil(span / t)
 * windows, centred on the span (moved inside the video when it has t frames), each centred in
 * space on the union of the track's boxes (video space) in its frames. `jitter` moves each
 * centre by up to jitter x half the window, from `rng`.
 */
export function trackWindows(videos: VideoIndex, tr: Track, dims: [number, number, number], jitter: number, rng: Rng | null): Target[] {
  const [t, h, w] = dims;
  const n = videos.frames(tr.videoId).length;
  const p0 = tr.frames[0].position;
  const span = tr.frames[tr.frames.length - 1].position - p0 + 1;
  const k = Math.ceil(span / t);
  const start = p0 - Math.floor((k * t - span) / 2);
  const out: Target[] = [];
  for (let j = 0; j < k; j++) {
    let s = start + j * t;
    if (n >= t) s = Math.min(Math.max(s, 0), n - t);
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    tr.frames.forEach((f, q) => {
      if (f.position < s || f.position >= s + t) return;
      const b = videoBox(f, tr.anns[q]);
      x0 = Math.min(x0, b[0]); y0 = Math.min(y0, b[1]); x1 = Math.max(x1, b[2]); y1 = Math.max(y1, b[3]);
    });
    if (!(x1 >= x0)) continue;  // no box of the track in this window (a clamp moved it)
    let cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    if (jitter > 0 && rng !== null) {
      cx += (2 * (rng.next() / U32) - 1) * jitter * w / 2;
      cy += (2 * (rng.next() / U32) - 1) * jitter * h / 2;
    }
    out.push({ videoId: tr.videoId, timeSlice: [s, s + t], cx, cy, width: x1 - x0, height: y1 - y0, windowDims: [h, w] });
  }
  return out;
}

/** positives({windowDims: [t, h, w], jitter, seed}) over videos: every track's windows, track by track. */
export function videoPositives(store: LabelStore, videos: VideoIndex, dims: [number, number, number], jitter: number, seed: number): Target[] {
  const out: Target[] = [];
  videoTracks(store, videos).forEach((tr, i) => {
    out.push(...trackWindows(videos, tr, dims, jitter, jitter > 0 ? new Rng(seed, 0x7a11, i) : null));
  });
  return out;
}

/**
 * A random space-time window of `dims` (a video with frames drawn uniformly, then a start and a
 * position uniform inside it) and its worst overlap over its frames, counted only up to `enough`
 * (a caller that keeps the least overlapped of several draws needs no more).
 */
export function drawWindow(store: LabelStore, videos: VideoIndex, ids: VideoId[], dims: [number, number, number], rng: Rng, enough = Infinity):
  { videoId: VideoId; t0: number; y0: number; x0: number; overlap: number } {
  const [t, h, w] = dims;
  const videoId = ids[rng.below(ids.length)];
  const frames = videos.frames(videoId);
  const [H, W] = extentOf(store, videos, videoId);
  const t0 = frames.length > t ? rng.below(frames.length - t + 1) : 0;
  const y0 = H > h ? rng.below(H - h + 1) : 0;
  const x0 = W > w ? rng.below(W - w + 1) : 0;
  let overlap = 0;
  for (let p = t0; p < Math.min(t0 + t, frames.length) && overlap < enough; p++) overlap = Math.max(overlap, worstOverlap(store, frames[p], x0, y0, h, w, enough));
  return { videoId, t0, y0, x0, overlap };
}

/** The videos that have frames. */
export const framedVideos = (videos: VideoIndex): VideoId[] => videos.ids.filter((id) => videos.frames(id).length > 0);

/**
 * negatives({count, windowDims: [t, h, w], seed, maxOverlap}) over videos: windows no annotation
 * box covers more than `maxOverlap` of (in any of their frames); fewer when 100 x count + 1000
 * draws do not find them.
 */
export function videoNegatives(store: LabelStore, videos: VideoIndex, count: number, dims: [number, number, number], seed: number, maxOverlap: number): Target[] {
  const out: Target[] = [];
  const ids = framedVideos(videos);
  if (ids.length === 0) return out;
  const rng = new Rng(seed, 0x4e68);
  const [t, h, w] = dims;
  for (let k = 0; k < 100 * count + 1000 && out.length < count; k++) {
    const d = drawWindow(store, videos, ids, dims, rng, maxOverlap + 1e-12);
    if (d.overlap > maxOverlap) continue;
    out.push({ videoId: d.videoId, timeSlice: [d.t0, d.t0 + t], cx: d.x0 + w / 2, cy: d.y0 + h / 2, windowDims: [h, w] });
  }
  return out;
}

export const checkSeed = (x: unknown, name: string): number => (x === undefined ? 0 : v.integer(x, name, 0, MAX_SEED));

/** True when a plan's options ask for videos (windowDims [t, h, w], or task 'video'). */
export function wantsVideo(opts: unknown): boolean {
  return v.isPlainObject(opts) && ((Array.isArray(opts.windowDims) && opts.windowDims.length === 3) || opts.task === 'video');
}

/** CocoSampler.positives with windowDims [t, h, w]. */
export function positivesOf(store: LabelStore, videos: VideoIndex, opts: Record<string, unknown>): Target[] {
  const o = v.options(opts, 'options', ['windowDims', 'jitter', 'seed'] as const);
  const dims = checkVideoDims(o.windowDims, 'options.windowDims');
  const jitter = o.jitter === undefined ? 0 : v.number(o.jitter, 'options.jitter');
  if (!(jitter >= 0 && jitter <= 1)) throw v.rangeError('a number in [0, 1]', 'options.jitter', o.jitter);
  return videoPositives(store, videos, dims, jitter, checkSeed(o.seed, 'options.seed'));
}

/** CocoSampler.negatives with windowDims [t, h, w]. */
export function negativesOf(store: LabelStore, videos: VideoIndex, opts: Record<string, unknown>): Target[] {
  const o = v.options(opts, 'options', ['count', 'windowDims', 'seed', 'maxOverlap'] as const);
  const count = v.integer(o.count, 'options.count', 0, 1 << 24);
  const dims = checkVideoDims(o.windowDims, 'options.windowDims');
  const maxOverlap = o.maxOverlap === undefined ? 0 : v.number(o.maxOverlap, 'options.maxOverlap');
  if (!(maxOverlap >= 0 && maxOverlap <= 1)) throw v.rangeError('a number in [0, 1]', 'options.maxOverlap', o.maxOverlap);
  return videoNegatives(store, videos, count, dims, checkSeed(o.seed, 'options.seed'), maxOverlap);
}

/** CocoSampler.sampleGrid with task 'video' (windowDims [t, h, w]). */
export function sampleGridOf(store: LabelStore, videos: VideoIndex, opts: Record<string, unknown>): { positives: Target[]; negatives: Target[] } {
  const o = v.options(opts, 'options', ['windowDims', 'overlap', 'task'] as const);
  const task = o.task === undefined ? 'video' : v.oneOf(o.task, 'options.task', ['image', 'video'] as const);
  if (task !== 'video') throw v.typeError("[h, w] for task 'image' ([t, h, w] is task 'video')", 'options.windowDims', o.windowDims);
  const dims = checkVideoDims(o.windowDims, 'options.windowDims');
  const overlap = o.overlap === undefined ? 0 : v.number(o.overlap, 'options.overlap');
  if (!(overlap >= 0 && overlap < 1)) throw v.rangeError('a number in [0, 1)', 'options.overlap', o.overlap);
  return videoGrid(store, videos, dims, overlap);
}
