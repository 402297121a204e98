// The native work list of loadBatch / loadBatchSync (lib/native.ts ITEM, PART; native/batch/
// batch_items.cc): whatever a direct call of the binding passes, a malformed list is refused on
// the JS thread with a TypeError (ERR_INVALID_ARG_TYPE) or a coded error (ERR_REGION,
// ERR_OUT_BUFFER), never a crash; a well-formed one samples exactly what it says.
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NdsamplerError } from '../lib/errors';
import { ITEM, ITEM_KIND, native, PART } from '../lib/native';
import type { NativeBatchOptions } from '../lib/native';
import { NpyReader, writeNpy } from '../lib/readers';
import { makeArray } from './_frames-util';
import { rmrf, tempDir } from './_helpers/tmp';

const root = tempDir('batch-native').dir;
test.after(() => rmrf(root));

const file = path.join(root, 'a.npy');
writeNpy(file, makeArray(16, 20, 3, 'uint8', (y, x, c) => y * 10 + x + c * 100));
const reader = new NpyReader(file);
const file16 = path.join(root, 'b.npy');
writeNpy(file16, makeArray(16, 20, 3, 'uint16', (y, x, c) => y * 10 + x + c * 100));
const reader16 = new NpyReader(file16);

/** A valid one-crop fused batch: 4x4 output, 2 channels, band 2 then band 0 of the file, 2x upsampled from (1, 1). */
function fused(): NativeBatchOptions {
  const items = new Float64Array(ITEM.LENGTH);
  items[ITEM.KIND] = ITEM_KIND.FUSED;
  items[ITEM.PART0] = 0;
  items[ITEM.NPARTS] = 1;
  const parts = new Float64Array(PART.LENGTH);
  parts[PART.SRC] = 0;
  parts[PART.Y0] = 1; parts[PART.Y1] = 3; parts[PART.X0] = 1; parts[PART.X1] = 3;
  parts[PART.B0] = 0; parts[PART.B1] = 3;
  parts[PART.READ_H] = 2; parts[PART.READ_W] = 2;
  parts.set([0.5, 0, 0, 0, 0.5, 0], PART.M0);
  parts[PART.CH0] = 0; parts[PART.NB] = 2; parts[PART.BANDS_AT] = 0;
  parts[PART.QSCALE] = 1;
  return {
    n: 1, h: 4, w: 4, c: 2, dtype: 'uint8', layout: 'NHWC', normalize: false, scale: 1, mean: new Float64Array(2), std: new Float64Array(2).fill(1),
    fillOnError: false, sources: [reader.nativeHandle()], items, parts, bands: Float64Array.from([2, 0]), out: undefined,
  };
}

test('a well-formed fused work list samples what it says, sync and on the pool', async () => {
  const want: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (const b of [2, 0]) want.push((1 + (i >> 1)) * 10 + (1 + (j >> 1)) + b * 100);
  assert.equal(Array.from(native.loadBatchSync(fused()).data), want);
  assert.equal(Array.from((await native.loadBatch(fused()).promise).data), want);
  const out = new Uint8Array(4 * 4 * 2);
  const res = native.loadBatchSync({ ...fused(), out });
  assert.is(res.data, out);
  assert.equal(Array.from(out), want);
});

/** A window item over rows 0..ih, columns 0..iw, channels 0..2 of the file, turned by `orient`. */
function window(ih: number, iw: number, orient: number): Float64Array {
  const items = new Float64Array(ITEM.LENGTH);
  items.set([ITEM_KIND.WINDOW, 0, 0, ih, 0, iw, 0, 2, 0, 0, ih, iw, 0], 0);
  items[ITEM.ORIENT] = orient;
  return items;
}

test("a turned window item is numpy's flip / rot90 of its window (orientation codes 0..15), NHWC and NCHW", async () => {
  // S: rows 0..3, columns 0..5 of the file, channels 0 and 1 (value y * 10 + x + c * 100).
  const [sh, sw] = [3, 5];
  const S = (y: number, x: number, c: number) => y * 10 + x + c * 100;
  for (let code = 0; code < 16; code++) {
    const [hf, vf, k] = [(code & 1) !== 0, (code & 2) !== 0, code >> 2];
    const F = (y: number, x: number, c: number) => S(vf ? sh - 1 - y : y, hf ? sw - 1 - x : x, c);
    // numpy's rot90(F, k): counter-clockwise; out[i, j] = F[j, w - 1 - i] for k = 1
    const [h, w] = k % 2 === 1 ? [sw, sh] : [sh, sw];
    const turn = (i: number, j: number): [number, number] => (k === 0 ? [i, j] : k === 1 ? [j, sw - 1 - i] : k === 2 ? [sh - 1 - i, sw - 1 - j] : [sh - 1 - j, i]);
    // uint8 (the LUT paths) and uint16 sources; as they are, or normalised (x * 2) into float32
    for (const [src, dtype] of [[reader, 'uint8'], [reader16, 'uint16'], [reader, 'float32'], [reader16, 'float32']] as const) {
      for (const layout of ['NHWC', 'NCHW'] as const) {
        const want: number[] = [];
        const v = (i: number, j: number, c: number) => F(...turn(i, j), c) * (dtype === 'float32' ? 2 : 1);
        if (layout === 'NHWC') {
          for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let c = 0; c < 2; c++) want.push(v(i, j, c));
        } else {
          for (let c = 0; c < 2; c++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) want.push(v(i, j, c));
        }
        const o: NativeBatchOptions = {
          ...fused(), h, w, layout, dtype, normalize: dtype === 'float32', scale: 2, sources: [src.nativeHandle()],
          parts: undefined, bands: undefined, items: window(sh, sw, code),
        };
        const what = `code ${code} ${src.dtype} -> ${dtype} ${layout}`;
        assert.equal(Array.from(native.loadBatchSync(o).data), want, what);
        assert.equal(Array.from((await native.loadBatch(o).promise).data), want, `${what} (pool)`);
      }
    }
  }
});

test('malformed parts, items, bands and views are refused, never a crash', async () => {
  const mutate = (fn: (o: NativeBatchOptions) => void): NativeBatchOptions => {
    const o = fused();
    fn(o);
    return o;
  };
  const p = (k: number, v: number) => mutate((o) => { (o.parts as Float64Array)[k] = v; });
  const bad: Array<[string, NativeBatchOptions, string]> = [
    ['source index', p(PART.SRC, 1), 'ERR_REGION'],
    ['window past the file', p(PART.Y1, 17), 'ERR_REGION'],
    ['empty window', p(PART.X1, 1), 'ERR_REGION'],
    ['negative window', p(PART.Y0, -1), 'ERR_REGION'],
    ['fractional window', p(PART.X0, 0.5), 'ERR_REGION'],
    ['bands past the file', p(PART.B1, 4), 'ERR_REGION'],
    ['npy read size unlike its window', p(PART.READ_H, 1), 'ERR_REGION'],
    ['NaN transform', p(PART.M2, NaN), 'ERR_REGION'],
    ['huge transform', p(PART.M0, 1e300), 'ERR_REGION'],
    ['interpolation', p(PART.INTERP, 2), 'ERR_REGION'],
    ['rounding', p(PART.ROUND, -1), 'ERR_REGION'],
    ['channels past c', p(PART.CH0, 1), 'ERR_REGION'],
    ['no bands', p(PART.NB, 0), 'ERR_REGION'],
    ['bands past the list', p(PART.BANDS_AT, 1), 'ERR_REGION'],
    ['dequantization', p(PART.DEQUANT, 3), 'ERR_REGION'],
    ['infinite dequantization', p(PART.QSCALE, Infinity), 'ERR_REGION'],
    ['negative sigma', p(PART.AA_SIGMA_X, -1), 'ERR_REGION'],
    ['huge radius', p(PART.AA_RADIUS_Y, 1e6), 'ERR_REGION'],
    ['a band outside the window', mutate((o) => { o.bands = Float64Array.from([3, 0]); }), 'ERR_REGION'],
    ['parts not whole records', mutate((o) => { o.parts = new Float64Array(PART.LENGTH + 1); }), 'ERR_INVALID_ARG_TYPE'],
    ['parts not a Float64Array', mutate((o) => { o.parts = [1, 2, 3] as never; }), 'ERR_INVALID_ARG_TYPE'],
    ['item parts outside the list', mutate((o) => { o.items[ITEM.NPARTS] = 2; }), 'ERR_INVALID_ARG_TYPE'],
    ['item kind', mutate((o) => { o.items[ITEM.KIND] = 7; }), 'ERR_INVALID_ARG_TYPE'],
    ['items of another length', mutate((o) => { o.items = new Float64Array(ITEM.LENGTH - 1); }), 'ERR_INVALID_ARG_TYPE'],
    ['NaN fill', mutate((o) => { o.items[ITEM.FILL] = NaN; }), 'ERR_INVALID_ARG_TYPE'],
    ['a view of a batch of two', mutate((o) => { o.view = Float64Array.from([0, 8, 2, 1]); o.n = 2; o.items = new Float64Array(2 * ITEM.LENGTH).fill(ITEM_KIND.NONE); }), 'ERR_INVALID_ARG_TYPE'],
    ['overlapping view', mutate((o) => { o.view = Float64Array.from([0, 1, 1, 1]); o.out = new Uint8Array(64); }), 'ERR_OUT_BUFFER'],
    ['view past out', mutate((o) => { o.view = Float64Array.from([1, 8, 2, 1]); o.out = new Uint8Array(32); }), 'ERR_OUT_BUFFER'],
    ['negative view', mutate((o) => { o.view = Float64Array.from([-1, 8, 2, 1]); }), 'ERR_INVALID_ARG_TYPE'],
    ['orientation code', mutate((o) => { o.items[ITEM.ORIENT] = 16; }), 'ERR_INVALID_ARG_TYPE'],
    ['a turned fused item', mutate((o) => { o.items[ITEM.ORIENT] = 1; }), 'ERR_INVALID_ARG_TYPE'],
    ['a turned window item placed by the slot, not by the crop as read', mutate((o) => {
      Object.assign(o, { h: 4, w: 2, parts: undefined, bands: undefined });
      o.items = window(4, 2, 4);  // S of a quarter turn is [2, 4]: 4 rows do not fit
    }), 'ERR_REGION'],
    ['a window item outside its image', mutate((o) => {
      o.items = new Float64Array(ITEM.LENGTH);
      o.items.set([ITEM_KIND.WINDOW, 0, 0, 17, 0, 4, 0, 2, 0, 0, 4, 4], 0);
    }), 'ERR_REGION'],
  ];
  for (const [what, opts, code] of bad) {
    for (const run of [() => native.loadBatchSync(opts), () => native.loadBatch(opts)]) {
      try {
        run();
        assert.unreachable(`${what}: accepted`);
      } catch (err) {
        assert.is((err as NdsamplerError).code, code, `${what}: ${(err as Error).message}`);
      }
    }
  }
  // still alive, still right
  assert.is(native.loadBatchSync(fused()).data.length, 32);
});

test.after(() => {
  reader.close();
  reader16.close();
});
test.run();
