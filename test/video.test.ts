/**
 * Video samples against independent references: the painted video of test/_video-fixture.ts
 * (objects moving over frames stored on the video grid, at half resolution, at a quarter in an
 * asset, translated; painted by GDAL in unique colours, so every frame's pixels say where its
 * boxes must be), GDAL's warper (python3 osgeo.gdal.Warp, nearest, with each file's exact affine
 * into video space) for every frame's pixels, and numpy for flips, turns and batch layouts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CocoSampler } from '../lib';
import type { SampleAnnotations, Target } from '../lib';
import { nodeArgs, readImage } from './_frames-util';
import { extent, numpy, objectPixels } from './_labels-fixture';
import { gdalWarp, makePaintedVideo } from './_video-fixture';
import type { FrameFile, PaintedVideo } from './_video-fixture';

let P: PaintedVideo;
let S: CocoSampler;
const VID = 7;
const CLI = path.resolve(__dirname, '..', 'lib', 'cli.ts');
const byId = new Map<number, FrameFile>();

test.before(() => {
  P = makePaintedVideo();
  S = new CocoSampler(P.file);
  for (const f of P.frames) byId.set(f.id, f);
});
test.after(() => fs.rmSync(P.dir, { recursive: true, force: true }));

type VSample = ReturnType<CocoSampler['loadSample']> & { im: { dims: number[]; data: ArrayLike<number> }; imageIds: Array<number | null> };

/** A frame of a video sample as HWC. */
function frameOf(s: { im: { dims: number[]; data: ArrayLike<number> } }, t: number): { data: ArrayLike<number>; H: number; W: number } {
  const [, H, W, C] = s.im.dims;
  const d = s.im.data as Uint8Array;
  return { data: d.subarray(t * H * W * C, (t + 1) * H * W * C), H, W };
}

/** The video window a plain (un-augmented) resolved target reads: [x0, y0, w, h]. */
function windowOf(s: VSample): [number, number, number, number] {
  const t = s.transform;
  const [, H, W] = s.im.dims;
  return [t[2], t[5], W * t[0], H * t[4]];
}

let framesChecked = 0;
let labelsChecked = 0;

/**
 * Checks a plain video sample: every frame equals GDAL's warp of its file into the window (or is
 * all `fill` when padded, with no labels); every object painted in a frame is listed there with
 * its track; every listed box matches its pixels within the file's pixel size (video pixels) on
 * the sides the window does not cut.
 */
function checkVideoSample(s: VSample, fill: number): void {
  const [x0, y0, w, h] = windowOf(s);
  const [T, H, W, C] = s.im.dims;
  assert.is(C, 3);
  assert.is(s.annotations.length, T);
  assert.is(s.imageIds.length, T);
  const reqs = s.imageIds.flatMap((id) => (id === null ? [] : [{ frame: byId.get(id)!, x0, y0, w, h, fill }]));
  const refs = gdalWarp(reqs);
  let k = 0;
  s.imageIds.forEach((id, t) => {
    const f = frameOf(s, t);
    const a: SampleAnnotations = s.annotations[t];
    if (id === null) {
      for (let i = 0; i < f.data.length; i++) if (f.data[i] !== fill) assert.unreachable(`padded frame ${t} has ${f.data[i]} at ${i}`);
      assert.is(a.ids.length, 0, `padded frame ${t} has no labels`);
      return;
    }
    const ref = refs[k++];
    for (let i = 0; i < ref.length; i++) {
      if (f.data[i] !== ref[i]) assert.unreachable(`frame ${t} (image ${id}): element ${i} is ${f.data[i]}, GDAL's warp says ${ref[i]}`);
    }
    framesChecked++;
    const fr = byId.get(id)!;
    const painted = P.dataset.annotations.filter((an) => an.image_id === id);
    for (const an of painted) {
      const m = objectPixels(f.data, H, W, an.id);
      const e = extent(m, H, W);
      const at = a.ids.indexOf(an.id);
      if (e !== null) assert.ok(at >= 0, `frame ${t}: object ${an.id} is painted in the sample but not listed (${JSON.stringify(a.ids)})`);
      if (at < 0) continue;
      assert.is(a.trackIds[at], an.track_id);
      if (e === null) continue;
      const box = Array.from(a.boxes.subarray(4 * at, 4 * at + 4));
      // A box inside the window and inside the frame's file (in sample coordinates): its pixels'
      // extent within one file pixel (fr.s video pixels) on every side.
      const fx0 = fr.off[0] - x0, fy0 = fr.off[1] - y0, fx1 = fx0 + fr.s * fr.fw, fy1 = fy0 + fr.s * fr.fh;
      if (box[0] < Math.max(0, fx0) || box[1] < Math.max(0, fy0) || box[2] > Math.min(W, fx1) || box[3] > Math.min(H, fy1)) continue;
      const tol = fr.s + 1e-3;
      for (let q = 0; q < 4; q++) {
        if (Math.abs(box[q] - e[q]) > tol) assert.unreachable(`frame ${t} object ${an.id}: box ${box.map((x) => x.toFixed(2))} vs pixels ${e} (side ${q}, tol ${tol})`);
      }
      labelsChecked++;
    }
  });
}

/** A deterministic generator for the test's windows. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

test('frames are ordered by frame_index, ties by image id (gaps allowed); the video record', () => {
  assert.equal(S.videoIds, [VID]);
  assert.equal(S.videoFrames(VID), [10, 11, 12, 13, 14, 15, 16]);
  const v = S.video(VID);
  assert.equal([v.width, v.height, v.name], [128, 96, 'painted']);
});

test('video samples: each frame is GDAL\'s warp of its file into video space; labels where the pixels are', () => {
  const r = rng(5);
  const targets: Target[] = [
    { videoId: VID },
    { videoId: VID, timeSlice: [0, 7], region: [[10, 60], [20, 90]] },
    { videoId: VID, timeSlice: [2, 5], cx: 0.5, cy: 95.5, windowDims: [31, 17] },
  ];
  for (let k = 0; k < 22; k++) {
    const t0 = Math.floor(r() * 9) - 2;
    const T = 1 + Math.floor(r() * 5);
    const h = 20 + Math.floor(r() * 70), w = 24 + Math.floor(r() * 100);
    targets.push({ videoId: VID, timeSlice: [t0, t0 + T], cx: -10 + r() * 148, cy: -10 + r() * 116, windowDims: [h, w] });
  }
  for (const tg of targets) checkVideoSample(S.loadSample(tg as Target & { videoId: number }) as unknown as VSample, 0);
  assert.ok(framesChecked > 60 && labelsChecked > 30, `${framesChecked} frames, ${labelsChecked} labels checked`);
});

test('loadSampleAsync gives the same sample (read on the pools)', async () => {
  const tg = { videoId: VID, timeSlice: [-1, 6] as [number, number], cx: 60, cy: 40, windowDims: [40, 56] as [number, number] };
  const a = S.loadSample(tg, { fill: 3 });
  const b = await S.loadSampleAsync(tg, { fill: 3 });
  assert.equal(b.im.dims, a.im.dims);
  assert.is(b.im.dtype, 'uint8');
  assert.ok(Buffer.compare(Buffer.from(a.im.data.buffer, a.im.data.byteOffset, a.im.data.byteLength), Buffer.from(b.im.data.buffer, b.im.data.byteOffset, b.im.data.byteLength)) === 0);
  assert.equal(b.target, a.target);
  assert.equal(b.imageIds, a.imageIds);
  assert.equal(b.annotations.map((x) => Array.from(x.boxes)), a.annotations.map((x) => Array.from(x.boxes)));
  checkVideoSample(b as unknown as VSample, 3);
});

test('time padding: positions before 0 and past the last frame are fill, with no labels', () => {
  const s = S.loadSample({ videoId: VID, timeSlice: [-3, 10], region: [[0, 96], [0, 128]] }, { fill: 200 });
  assert.equal(s.im.dims, [13, 96, 128, 3]);
  assert.equal(s.imageIds, [null, null, null, 10, 11, 12, 13, 14, 15, 16, null, null, null]);
  assert.equal(s.frameTransforms.map((x) => x === null), [true, true, true, false, false, false, false, false, false, false, true, true, true]);
  checkVideoSample(s as unknown as VSample, 200);
  // Entirely outside the video's time range: every frame padded (channels and dtype from the nearest frame).
  const far = S.loadSample({ videoId: VID, timeSlice: [20, 22], cx: 10, cy: 10, windowDims: [4, 4] }, { fill: 7 });
  assert.equal(far.im.dims, [2, 4, 4, 3]);
  assert.ok((far.im.data as Uint8Array).every((x) => x === 7));
});

test('imageIds targets: those frames, in that order; the resolved target gives the same sample back', () => {
  const s = S.loadSample({ imageIds: [14, 10, 13, 13], cx: 64, cy: 48, windowDims: [50, 70] });
  assert.equal(s.imageIds, [14, 10, 13, 13]);
  assert.equal(s.target.imageIds, [14, 10, 13, 13]);
  assert.is(s.target.videoId, VID);
  checkVideoSample(s as unknown as VSample, 0);
  const again = S.loadSample(s.target as Target & { videoId: number });
  assert.equal(Array.from(again.im.data), Array.from(s.im.data));
  const sliced = S.loadSample({ videoId: VID, timeSlice: [1, 4], cx: 64, cy: 48, windowDims: [50, 70] });
  const back = S.loadSample(sliced.target as Target & { videoId: number });
  assert.equal(back.target, sliced.target);
  assert.equal(Array.from(back.im.data), Array.from(sliced.im.data));
});

test('transform maps sample to video pixels, frameTransforms sample to each image (through warp_img_to_vid)', () => {
  const s = S.loadSample({ videoId: VID, cx: 50.3, cy: 40.8, windowDims: [20, 30] });
  const t = s.transform;
  assert.equal([t[0], t[1], t[3], t[4], t[6], t[7], t[8]], [1, 0, 0, 1, 0, 0, 1]);
  assert.equal([t[2], t[5]], [Math.floor(50.3 - 15), Math.floor(40.8 - 10)]);
  s.imageIds.forEach((id, k) => {
    const f = byId.get(id as number)!;
    const m = s.frameTransforms[k] as number[];
    // video = is * image + off  =>  image = (video - off) / is
    const want = [1 / f.is, 0, (t[2] - f.off[0]) / f.is, 0, 1 / f.is, (t[5] - f.off[1]) / f.is];
    want.forEach((x, q) => assert.ok(Math.abs(m[q] - x) < 1e-12, `frame ${id}: ${m} vs ${want}`));
  });
});

test('augmented video targets: every frame is numpy\'s flip / rot90 of the plain frame; labels follow', () => {
  // A square window: an odd rot90 of a non-square one reads the transposed window (targets.ts).
  const base = { videoId: VID, timeSlice: [1, 5] as [number, number], cx: 64, cy: 50, windowDims: [36, 36] as [number, number] };
  const plain = S.loadSample(base);
  for (const [aug, expr] of [
    [{ hflip: true }, 'a[:, ::-1]'], [{ vflip: true }, 'a[::-1]'], [{ rot90: 1 }, 'np.rot90(a, 1)'], [{ rot90: 3, hflip: true }, 'np.rot90(a[:, ::-1], 3)'],
  ] as const) {
    const s = S.loadSample({ ...base, augment: aug });
    assert.equal(s.im.dims, [4, 36, 36, 3]);
    for (let k = 0; k < 4; k++) {
      const p = frameOf(plain, k);
      const want = numpy({ data: p.data, shape: [36, 36, 3] }, expr);
      const got = frameOf(s, k);
      assert.equal(Array.from(got.data), want, `${JSON.stringify(aug)} frame ${k}`);
      // The labels: each box, mapped back through the transform, is the plain sample's box.
      const a = s.annotations[k], b = plain.annotations[k];
      assert.equal(a.ids, b.ids);
      const t = s.transform, u = plain.transform;
      for (let i = 0; i < a.ids.length; i++) {
        const xs = [a.boxes[4 * i], a.boxes[4 * i + 2]], ys = [a.boxes[4 * i + 1], a.boxes[4 * i + 3]];
        const vx = xs.flatMap((x) => ys.map((y) => t[0] * x + t[1] * y + t[2])), vy = xs.flatMap((x) => ys.map((y) => t[3] * x + t[4] * y + t[5]));
        const bx = [b.boxes[4 * i] + u[2], b.boxes[4 * i + 1] + u[5], b.boxes[4 * i + 2] + u[2], b.boxes[4 * i + 3] + u[5]];
        const got4 = [Math.min(...vx), Math.min(...vy), Math.max(...vx), Math.max(...vy)];
        got4.forEach((x, q) => assert.ok(Math.abs(x - bx[q]) < 1e-3, `${JSON.stringify(aug)} box ${got4} vs ${bx}`));
      }
    }
  }
});

test('scaled video windows (augment.scale 2) are GDAL\'s warp at half a video pixel, in a sample and a batch', async () => {
  const tg = { videoId: VID, cx: 60, cy: 50, windowDims: [40, 48] as [number, number], augment: { scale: 2 } };
  const s = S.loadSample(tg);
  assert.equal(s.im.dims, [7, 40, 48, 3]);
  // the window read: round(40 / 2) x round(48 / 2) around the centre
  const [x0, y0] = [Math.floor(60 - 12), Math.floor(50 - 10)];
  assert.equal([s.transform[2], s.transform[5], s.transform[0]], [x0, y0, 0.5]);
  const refs = gdalWarp(s.imageIds.map((id) => ({ frame: byId.get(id as number)!, x0, y0, w: 24, h: 20, fill: 0, res: 0.5 })));
  const b = await S.loadBatch([tg]);
  refs.forEach((ref, t) => {
    assert.equal(Array.from(frameOf(s, t).data), Array.from(ref), `frame ${t} of the sample`);
    assert.equal(Array.from(b.data.subarray(t * ref.length, (t + 1) * ref.length)), Array.from(ref), `frame ${t} of the batch`);
  });
});

test('labeled video batch: the samples\' pixels and labels; NCTHW and NTCHW element by element', async () => {
  const targets = [
    { videoId: VID, timeSlice: [0, 4] as [number, number], cx: 30, cy: 30, windowDims: [24, 20] as [number, number] },
    { videoId: VID, timeSlice: [4, 8] as [number, number], cx: 100, cy: 70, windowDims: [24, 20] as [number, number] },
  ];
  const b = await S.loadBatch(targets);
  assert.is(b.layout, 'NTHWC');
  assert.equal(b.dims, [2, 4, 24, 20, 3]);
  targets.forEach((tg, n) => {
    const s = S.loadSample(tg);
    const per = 4 * 24 * 20 * 3;
    assert.equal(Array.from(b.data.subarray(n * per, (n + 1) * per)), Array.from(s.im.data), `window ${n} pixels`);
    assert.equal(b.imageIds[n], s.imageIds);
    assert.equal(b.annotations[n].map((x) => x.ids), s.annotations.map((x) => x.ids));
    assert.equal(b.annotations[n].map((x) => Array.from(x.boxes)), s.annotations.map((x) => Array.from(x.boxes)));
  });
  const [N, T, H, W, C] = b.dims;
  const ncthw = await S.loadBatch(targets, { layout: 'NCTHW' });
  const ntchw = await S.loadBatch(targets, { layout: 'NTCHW' });
  assert.equal(ncthw.dims, [N, C, T, H, W]);
  assert.equal(ntchw.dims, [N, T, C, H, W]);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const want = b.data[(((n * T + t) * H + y) * W + x) * C + c];
    if (ncthw.data[(((n * C + c) * T + t) * H + y) * W + x] !== want) assert.unreachable(`NCTHW [${n}, ${c}, ${t}, ${y}, ${x}]`);
    if (ntchw.data[(((n * T + t) * C + c) * H + y) * W + x] !== want) assert.unreachable(`NTCHW [${n}, ${t}, ${c}, ${y}, ${x}]`);
  }
  assert.equal(Array.from(ncthw.data), numpy({ data: b.data, shape: b.dims }, 'np.transpose(a, (0, 4, 1, 2, 3))'));
  assert.equal(Array.from(ntchw.data), numpy({ data: b.data, shape: b.dims }, 'np.transpose(a, (0, 1, 4, 2, 3))'));
  // Converted and normalised the same way in every layout.
  const f = await S.loadBatch(targets, { layout: 'NCTHW', dtype: 'float32', normalize: { scale: 1 / 255, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] } });
  const mean = [0.5, 0.4, 0.3], std = [0.2, 0.25, 0.3];
  for (let i = 0; i < 500; i++) {
    const n = i % N, c = i % C, t = (i * 7) % T, y = (i * 13) % H, x = (i * 17) % W;
    const raw = b.data[(((n * T + t) * H + y) * W + x) * C + c];
    const want = Math.fround((raw * (1 / 255) - mean[c]) / std[c]);
    assert.ok(Math.abs(f.data[(((n * C + c) * T + t) * H + y) * W + x] - want) < 1e-6);
  }
});

test('labeled video batch: masks [N, T, H, W] where the objects are painted (frames on the video grid)', async () => {
  const targets = [{ videoId: VID, timeSlice: [-1, 7] as [number, number], region: [[0, 96], [0, 128]] as [[number, number], [number, number]] }];
  const b = await S.loadBatch(targets, { masks: 'instance' });
  const m = b.masks!;
  assert.equal(m.dims, [1, 8, 96, 128]);
  b.imageIds[0].forEach((id, t) => {
    const plane = m.data.subarray(t * 96 * 128, (t + 1) * 96 * 128);
    if (id === null) {
      assert.ok(plane.every((x) => x === 0), `padded frame ${t} has an empty mask`);
      return;
    }
    const fr = byId.get(id as number)!;
    const f = frameOf({ im: { dims: b.dims.slice(1), data: b.data } }, t);
    const a = b.annotations[0][t];
    let inside = 0, agree = 0;
    a.ids.forEach((aid, k) => {
      const px = objectPixels(f.data, 96, 128, aid as number);
      for (let p = 0; p < px.length; p++) {
        if (fr.s === 1 && (plane[p] === k + 1) !== (px[p] === 1)) assert.unreachable(`frame ${t} (image ${id}) object ${aid}: mask and paint differ at ${p}`);
        if (px[p]) { inside++; if (plane[p] === k + 1) agree++; }
      }
    });
    // Frames at a lower resolution: the mask is the polygon at video resolution, the paint its coarser pixels.
    if (fr.s > 1) assert.ok(agree / inside > 0.8, `frame ${t}: ${agree} of ${inside}`);
  });
});

test('sampleGrid task video: kwarray\'s space-time windows; positive where a frame has a box in it', () => {
  const g = S.sampleGrid({ windowDims: [3, 40, 50], overlap: 0.25, task: 'video' });
  const all = [...g.positives, ...g.negatives];
  // kwarray.SlidingWindow([7, 96, 128], [3, 40, 50], overlap=0.25, keepbound=True): steps 2, 30, 38
  const starts = (n: number, d: number, s: number) => {
    const out = [0];
    for (let p = s; ; p += s) {
      if (out[out.length - 1] + d >= n) break;
      out.push(Math.min(p, n - d));
      if (p + d >= n) break;
    }
    return out;
  };
  const want: string[] = [];
  for (const t0 of starts(7, 3, 2)) for (const y0 of starts(96, 40, 30)) for (const x0 of starts(128, 50, 38)) want.push(`${t0},${y0},${x0}`);
  assert.equal(all.map((t) => `${t.timeSlice![0]},${(t.region as number[][])[0][0]},${(t.region as number[][])[1][0]}`).sort(), want.sort());
  const frames = S.videoFrames(VID);
  for (const tg of all) {
    const [t0, t1] = tg.timeSlice!;
    const [[y0, y1], [x0, x1]] = tg.region as number[][];
    let hit = false;
    for (let p = t0; p < Math.min(t1, frames.length); p++) {
      const f = byId.get(frames[p] as number)!;
      for (const an of P.dataset.annotations.filter((a) => a.image_id === f.id)) {
        const [bx, by, bw, bh] = an.bbox.map((v) => v * f.is);
        const [vx, vy] = [bx + f.off[0], by + f.off[1]];
        if (vx < x1 && vx + bw > x0 && vy < y1 && vy + bh > y0) hit = true;
      }
    }
    assert.is(g.positives.includes(tg), hit, `window ${JSON.stringify(tg)}`);
  }
  assert.ok(g.positives.length > 0 && g.negatives.length > 0);
});

test('positives follow tracks: t frames, centred on the track\'s boxes, every frame of the track in the window listed', () => {
  const pos = S.positives({ windowDims: [3, 32, 32] });
  const tracks = new Set(P.dataset.annotations.map((a) => a.track_id));
  const seen = new Set<number>();
  for (const tg of pos) {
    const s = S.loadSample(tg as Target & { videoId: number });
    assert.equal(s.im.dims, [3, 32, 32, 3]);
    // The track this window follows: the one listed in every frame where it exists.
    const counts = new Map<number, number>();
    s.annotations.forEach((a) => a.trackIds.forEach((t) => counts.set(t as number, (counts.get(t as number) ?? 0) + 1)));
    const present = (tid: number) => s.imageIds.filter((id) => P.dataset.annotations.some((a) => a.image_id === id && a.track_id === tid)).length;
    const followed = [...counts.keys()].filter((tid) => counts.get(tid) === present(tid));
    assert.ok(followed.length > 0, `window ${JSON.stringify(tg)} follows a track`);
    followed.forEach((t) => seen.add(t));
  }
  assert.equal([...seen].sort(), [...tracks].sort());
  // jitter: seeded, within jitter x half the window
  const j1 = S.positives({ windowDims: [3, 32, 32], jitter: 0.5, seed: 3 });
  const j2 = S.positives({ windowDims: [3, 32, 32], jitter: 0.5, seed: 3 });
  assert.equal(j1, j2);
  j1.forEach((t, i) => assert.ok(Math.abs(t.cx! - pos[i].cx!) <= 8 && Math.abs(t.cy! - pos[i].cy!) <= 8));
});

test('negatives in space-time: no annotation box in any of their frames', () => {
  const neg = S.negatives({ count: 12, windowDims: [2, 12, 12], seed: 4 });
  assert.ok(neg.length > 0);
  for (const tg of neg) {
    const s = S.loadSample(tg as Target & { videoId: number });
    assert.equal(s.im.dims.slice(0, 3), [2, 12, 12]);
    s.annotations.forEach((a, k) => assert.is(a.ids.length, 0, `negative ${JSON.stringify(tg)} frame ${k}`));
  }
  assert.equal(S.negatives({ count: 12, windowDims: [2, 12, 12], seed: 4 }), neg);
});

test('video stream: windows of [t, h, w], seeded, resumable, split across ranks', async () => {
  const opts = { windowDims: [3, 24, 24] as [number, number, number], batchSize: 3, seed: 9, epochs: 2, augment: { hflip: 0.5, rot90: true } };
  const collect = async (o: object) => {
    const out: Array<{ targets: unknown[]; dims: number[]; sum: number }> = [];
    for await (const b of S.stream({ ...opts, ...o } as typeof opts)) out.push({ targets: b.targets, dims: b.dims, sum: (b.data as Uint8Array).reduce((x, y) => x + y, 0) });
    return out;
  };
  const a = await collect({});
  const b = await collect({});
  assert.equal(a, b);
  assert.ok(a.length >= 2);
  assert.equal(a[0].dims, [3, 3, 24, 24, 3]);
  // resume after the first batch
  const it = S.stream(opts)[Symbol.asyncIterator]();
  const s = S.stream(opts);
  const iter = s[Symbol.asyncIterator]();
  await iter.next();
  const state = s.state();
  await iter.return?.();
  await it.return?.();
  const rest = await collect({ resume: state });
  assert.equal(rest, a.slice(1));
  // ranks: disjoint and complete over an epoch
  const one = await collect({ epochs: 1, shuffle: true });
  const r0 = await collect({ epochs: 1, rank: 0, worldSize: 2 });
  const r1 = await collect({ epochs: 1, rank: 1, worldSize: 2 });
  const key = (x: { targets: unknown[] }) => x.targets.map((t) => JSON.stringify(t));
  const all = one.flatMap(key).sort();
  assert.equal([...r0.flatMap(key), ...r1.flatMap(key)].sort(), all);
  // layouts and masks
  for await (const bt of S.stream({ ...opts, epochs: 1, layout: 'NCTHW', masks: 'class', dtype: 'float32' })) {
    assert.equal(bt.dims, [3, 3, 3, 24, 24]);
    assert.equal(bt.masks!.dims, [3, 3, 24, 24]);
    assert.is(bt.layout, 'NCTHW');
    break;
  }
});

test('CocoSampler.demo({kind: \'video\'}): moving tracks; half-resolution frames warped up into video space', () => {
  const dir = fs.mkdtempSync(`${P.dir}/demo-`);
  const D = CocoSampler.demo({ kind: 'video', workdir: dir });
  assert.equal(D.videoIds, [1]);
  const frames = D.videoFrames(1);
  assert.is(frames.length, 8);
  const s = D.loadSample({ videoId: 1 });
  assert.equal(s.im.dims, [8, 240, 320, 5]);
  // Each track moves by its velocity: its box centre in video space, frame after frame.
  const byTrack = new Map<number, number[][]>();
  s.annotations.forEach((a, t) => a.trackIds.forEach((tid, k) => {
    const b = a.boxes.subarray(4 * k, 4 * k + 4);
    if (!byTrack.has(tid as number)) byTrack.set(tid as number, []);
    byTrack.get(tid as number)!.push([t, (b[0] + b[2]) / 2, (b[1] + b[3]) / 2]);
  }));
  assert.equal([...byTrack.keys()].sort(), [1, 2, 3]);
  for (const pts of byTrack.values()) {
    const [t0, x0, y0] = pts[0], [t1, x1, y1] = pts[pts.length - 1];
    const vx = (x1 - x0) / (t1 - t0), vy = (y1 - y0) / (t1 - t0);
    for (const [t, x, y] of pts) assert.ok(Math.abs(x - (x0 + vx * (t - t0))) < 1.5 && Math.abs(y - (y0 + vy * (t - t0))) < 1.5);
  }
  // A half-resolution frame: each of its pixels is 2 x 2 video pixels (r|g|b) and 4 x 4 (nir|swir).
  const [, H, W, C] = s.im.dims;
  const f1 = frameOf(s, 1);
  for (let y = 0; y < H; y += 2) for (let x = 0; x < W; x += 2) for (let c = 0; c < 3; c++) {
    const v = f1.data[(y * W + x) * C + c];
    if (f1.data[(y * W + x + 1) * C + c] !== v || f1.data[((y + 1) * W + x) * C + c] !== v) assert.unreachable(`half-res frame at (${y}, ${x})`);
  }
});

test('ndsampler show demo-video: strips of track windows, or a whole video; usage errors', () => {
  const dir = fs.mkdtempSync(`${P.dir}/show-`);
  const run = (...args: string[]) => spawnSync(process.execPath, [...nodeArgs(CLI), 'show', ...args, '--workdir', dir], { encoding: 'utf8', timeout: 120_000 });
  let r = run('demo-video', '--out', `${dir}/strips.png`, '--count', '2', '--frames', '3', '--size', '64');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /2 windows of 3 frames/);
  // two rows of three 64-pixel frames, 4 pixels apart
  assert.equal(readImage(`${dir}/strips.png`).shape, [2 * 64 + 3 * 4, 3 * 64 + 4 * 4, 3]);
  r = run('demo-video', '--out', `${dir}/video.png`, '--video', '1');
  assert.is(r.status, 0, r.stderr);
  assert.equal(readImage(`${dir}/video.png`).shape, [240 + 2 * 4, 8 * 320 + 9 * 4, 3]);
  r = run('demo-video', '--out', `${dir}/x.png`, '--video', '9');
  assert.is(r.status, 2);
  assert.match(r.stderr, /no video of that id/);
  r = run('demo-video', '--out', `${dir}/x.png`, '--image', '1');
  assert.is(r.status, 2);
  r = run(P.file, '--out', `${dir}/p.png`, '--frames', '2', '--size', '32');
  assert.is(r.status, 0, r.stderr);
});

test.run();
