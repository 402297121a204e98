/**
 * CocoSampler.demo (shapes of known colour and place, written deterministically) and
 * `ndsampler show`: the demo's masks equal the pixels painted in each category's colour, its
 * compressed RLEs decode to its discs, and show writes a PNG contact sheet (read back with
 * gdal-async) with usage errors for bad arguments.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CocoSampler } from '../lib';
import { SHAPES_DEMO_CATEGORIES } from '../lib/labels/demo';
import { readImage } from './_frames-util';
import { tempDir } from './_helpers/tmp';

const { dir, cleanup } = tempDir('labels-demo');
test.after(cleanup);
const CLI = path.join(__dirname, '..', 'dist', 'cli.js');

test('demo: deterministic files, categories, every annotation kind', () => {
  const a = CocoSampler.demo({ workdir: path.join(dir, 'a') });
  const b = CocoSampler.demo({ workdir: path.join(dir, 'b') });
  const text = (s: CocoSampler) => fs.readFileSync(s.frames.datasetPath!, 'utf8');
  assert.is(text(a), text(b));
  for (const img of a.frames.dataset.images) {
    const name = img.file_name as string;
    assert.ok(fs.readFileSync(path.join(dir, 'a', 'demo-shapes', name)).equals(fs.readFileSync(path.join(dir, 'b', 'demo-shapes', name))), name);
  }
  assert.equal(a.categories.map((c) => c.name), ['box', 'disc', 'triangle', 'star']);
  assert.is(a.numAnnotations, 24);
  const raw = a.frames.dataset.annotations as Array<{ segmentation: unknown; keypoints?: unknown }>;
  assert.ok(raw.some((r) => typeof (r.segmentation as { counts?: unknown }).counts === 'string'), 'a compressed RLE');
  assert.ok(raw.some((r) => Array.isArray((r.segmentation as { counts?: unknown }).counts)), 'an RLE counts list');
  assert.ok(raw.some((r) => Array.isArray(r.segmentation)), 'polygons');
  assert.ok(raw.some((r) => (r.segmentation as { exterior?: unknown }).exterior !== undefined), 'kwcoco polygons');
});

test("demo: each annotation's instance mask equals the pixels painted in its category's colour", async () => {
  const s = CocoSampler.demo({ workdir: path.join(dir, 'a') });
  const targets = s.positives({ windowDims: [80, 80] }).map((t, i) => ({ ...t, augment: { rot90: (i % 4) as 0 | 1 | 2 | 3, vflip: i % 3 === 0 } }));
  const b = await s.loadBatch(targets, { masks: 'instance' });
  const color = new Map<number, readonly number[]>(SHAPES_DEMO_CATEGORIES.map((c) => [c.id, c.color]));
  b.annotations.forEach(([a], i) => {
    const k = a.ids.indexOf(targets[i].annotationId!);
    const c = color.get(a.categoryIds[k])!;
    let inter = 0, union = 0;
    for (let q = 0; q < 6400; q++) {
      const p = 3 * (i * 6400 + q);
      const painted = b.data[p] === c[0] && b.data[p + 1] === c[1] && b.data[p + 2] === c[2];
      const got = b.masks!.data[i * 6400 + q] === k + 1;
      if (painted && got) inter++;
      if (painted || got) union++;
    }
    assert.ok(union > 50 && inter / union >= 0.98, `annotation ${String(targets[i].annotationId)}: IoU ${inter / union}`);
  });
});

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
}

test('ndsampler show: a PNG contact sheet of positives, of a stream, of one image', () => {
  const wd = path.join(dir, 'a');
  const sheet = path.join(dir, 'sheet.png');
  let r = cli(['show', 'demo', '--out', sheet, '--workdir', wd, '--count', '9', '--size', '64']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /9 samples/);
  assert.equal(readImage(sheet).shape, [3 * 64 + 4 * 4, 3 * 64 + 4 * 4, 3]);
  r = cli(['show', 'demo', '--out', sheet, '--workdir', wd, '--sampler', '--count', '4', '--size', '48']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(readImage(sheet).shape, [2 * 48 + 3 * 4, 2 * 48 + 3 * 4, 3]);
  r = cli(['show', path.join(wd, 'demo-shapes', 'shapes.kwcoco.json'), '--out', sheet, '--image', '3', '--workdir', wd]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(readImage(sheet).shape, [200 + 8, 300 + 8, 3]);
  assert.match(r.stdout, /8 annotations/);
});

test('ndsampler show: usage errors exit 2, a missing dataset 1', () => {
  assert.is(cli(['show', 'demo']).status, 2, 'no --out');
  assert.is(cli(['show', 'demo', '--out', path.join(dir, 'x.png'), '--image', '99', '--workdir', path.join(dir, 'a')]).status, 2);
  assert.is(cli(['show', 'demo', '--out', path.join(dir, 'x.png'), '--image', '1', '--sampler']).status, 2);
  const r = cli(['show', path.join(dir, 'nope.json'), '--out', path.join(dir, 'x.png')]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /ERR_SOURCE_MISSING/);
});

test.run();
