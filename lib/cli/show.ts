/**
 * `ndsampler show DATASET --out sheet.png [--image ID | --sampler | --video ID | --frames T]`: a contact sheet of samples
 * with their boxes, polygon outlines and keypoints drawn (lib/labels/draw.ts), written through
 * GDAL (writeRaster: the format from the extension). DATASET is a COCO / kwcoco .json, or `demo`
 * (CocoSampler.demo). Default: the first --count positives, --size pixels square; --sampler: the
 * first batch of an augmented stream; --image ID: that whole image with every annotation. Videos
 * (DATASET `demo-video`, --video ID or --frames T): space-time samples as strips (show-video.ts).
 */
import * as path from 'node:path';
import { writeRaster } from '../gdal';
import { CocoSampler } from '../labels/coco-sampler';
import { contactSheet, drawLabels, toRgb8 } from '../labels/draw';
import type { SampleAnnotations } from '../labels/geometry';
import type { ImageId } from '../frames/frames';
import { help, intArg, out, parse, UsageError } from './args';
import { videoStrips } from './show-video';

export async function cmdShow(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    out: { type: 'string' }, image: { type: 'string' }, sampler: { type: 'boolean' },
    workdir: { type: 'string' }, count: { type: 'string' }, size: { type: 'string' }, seed: { type: 'string' },
    video: { type: 'string' }, frames: { type: 'string' },
  }, [1, 1]);
  if (values.help) return help();
  if (typeof values.out !== 'string') throw new UsageError('show needs --out FILE (e.g. sheet.png)');
  if (values.image !== undefined && values.sampler) throw new UsageError('--image and --sampler go alone');
  const dataset = positionals[0];
  const videoMode = dataset === 'demo-video' || values.video !== undefined || values.frames !== undefined;
  if (videoMode && (values.image !== undefined || values.sampler)) throw new UsageError('--image and --sampler draw images, not videos');
  const count = intArg(values.count, '--count', videoMode ? 4 : 16, 1);
  const size = intArg(values.size, '--size', 128, 8);
  const seed = intArg(values.seed, '--seed', 0, 0);
  const workdir = typeof values.workdir === 'string' ? path.resolve(values.workdir) : undefined;
  const sampler = dataset === 'demo' || dataset === 'demo-video' ? CocoSampler.demo({ workdir, kind: dataset === 'demo' ? 'shapes' : 'video' })
    : new CocoSampler(dataset, workdir === undefined ? {} : { workdir });
  if (videoMode) {
    const frames = values.frames === undefined ? undefined : intArg(values.frames, '--frames', 5, 1);
    const r = await videoStrips(sampler, { video: typeof values.video === 'string' ? values.video : undefined, frames, count, size });
    const file = path.resolve(values.out);
    writeRaster(file, r.sheet);
    out(`wrote ${file}: ${r.windows} window${r.windows === 1 ? '' : 's'} of ${r.frames / r.windows} frames (one strip each), ${r.labels} annotation${r.labels === 1 ? '' : 's'} drawn`);
    return 0;
  }
  const tiles: Array<{ im: Parameters<typeof toRgb8>[0]; labels: SampleAnnotations }> = [];
  if (typeof values.image === 'string') {
    const key = values.image;
    const id: ImageId | undefined = sampler.imageIds.find((i) => String(i) === key);
    if (id === undefined) throw new UsageError(`--image ${key}: the dataset has no image of that id`);
    const s = sampler.loadSample({ imageId: id });
    tiles.push({ im: s.im, labels: s.annotations[0] });
  } else {
    const batch = values.sampler
      ? await (async () => {
        const it = sampler.stream({ windowDims: [size, size], batchSize: count, seed, epochs: 1, augment: { hflip: 0.5, vflip: 0.5, rot90: true, scale: [0.75, 1.25] } });
        for await (const b of it) return b;
        return undefined;
      })()
      : await sampler.loadBatch(sampler.positives({ windowDims: [size, size] }).slice(0, count));
    if (batch === undefined) throw new UsageError('the dataset gives no samples');
    const [n, h, w, c] = batch.dims;
    for (let i = 0; i < n; i++) {
      const data = batch.data.subarray(i * h * w * c, (i + 1) * h * w * c);
      tiles.push({ im: { data, shape: [h, w, c], strides: [w * c, c, 1], offset: 0, dtype: batch.dtype }, labels: batch.annotations[i][0] });
    }
  }
  const drawn = tiles.map((t) => {
    const rgb = toRgb8(t.im);
    drawLabels(rgb, t.labels);
    return rgb;
  });
  const file = path.resolve(values.out);
  writeRaster(file, contactSheet(drawn, Math.min(drawn.length, Math.ceil(Math.sqrt(drawn.length)))));
  const labels = tiles.reduce((k, t) => k + t.labels.ids.length, 0);
  out(`wrote ${file}: ${tiles.length} sample${tiles.length === 1 ? '' : 's'}, ${labels} annotation${labels === 1 ? '' : 's'} drawn`);
  return 0;
}

/** `ndsampler demo`'s labeled part: the shapes demo read as a labeled batch with masks, timed. */
export async function labeledDemo(workdir: string): Promise<void> {
  const sampler = CocoSampler.demo({ workdir });
  const targets = sampler.positives({ windowDims: [96, 96] }).map((t, i) => ({ ...t, augment: { hflip: i % 2 === 1, rot90: (i % 4) as 0 | 1 | 2 | 3 } }));
  await sampler.loadBatch(targets, { masks: 'instance' });  // warm-up
  const t0 = process.hrtime.bigint();
  const b = await sampler.loadBatch(targets, { masks: 'instance', layout: 'NCHW', dtype: 'float32' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const labels = b.annotations.reduce((k, a) => k + a[0].ids.length, 0);
  out(`labeled demo (${sampler.frames.datasetPath}): ${sampler.imageIds.length} images, ${sampler.numAnnotations} annotations in ${sampler.categories.length} categories`);
  out(`  a batch of ${b.dims[0]} positives 96x96, flipped and turned, NCHW float32 with instance masks: ${ms.toFixed(1)} ms, ${labels} labels`);
  out('  look at them: ndsampler show demo --out sheet.png [--sampler]');
}
