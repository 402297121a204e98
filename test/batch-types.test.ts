// The types of loadBatch and the sampler follow the dtype asked for (issue 19): `dtype: 'float32'`
// gives a Batch<'float32'> whose data is a Float32Array, with no cast. The checks are made by the
// compiler (`npm run typecheck` compiles this file with test/tsconfig.json: an `Equal` that is not
// true, or a `@ts-expect-error` line that compiles, fails it); the runtime half checks the values
// agree with the types.
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CocoSampler, SimpleFrames } from '../lib';
import type { Batch, BatchOptions, BatchRequest, DType, LabeledBatch, SamplerBatch, TypedArray, TypedArrayOf } from '../lib';
import { makeArray, writeImage } from './_frames-util';
import { rmrf, tempDir } from './_helpers/tmp';

/** true exactly when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
/** Compiles only for `true`. */
function yes<T extends true>(): T | void {
  return undefined;
}

const root = tempDir('batch-types').dir;
test.after(() => rmrf(root));
const file = writeImage(path.join(root, 'a.png'), makeArray(20, 24, 3, 'uint8', (y, x, c) => (y * 5 + x * 3 + c) % 256));
const frames = new SimpleFrames({ 1: file }, { workdir: path.join(root, 'w'), backend: 'npy' });
test.after(() => frames.close());
const reqs: BatchRequest[] = [{ imageId: 1, region: [[0, 8], [0, 8]] }, { imageId: 1, region: [[4, 12], [2, 10]] }];

test("loadBatch({dtype: 'float32'}): data is a Float32Array by type and by value", async () => {
  const b = await frames.loadBatch(reqs, { dtype: 'float32', layout: 'NCHW', normalize: { scale: 1 / 255 } });
  yes<Equal<typeof b, Batch<'float32'>>>();
  yes<Equal<typeof b.data, Float32Array>>();
  const data: Float32Array = b.data;   // no cast
  // @ts-expect-error a float32 batch's data is not a Uint8Array
  const wrong: Uint8Array = b.data;
  assert.ok(data instanceof Float32Array);
  assert.is(b.dtype, 'float32');
  assert.ok(wrong === (data as unknown));
  // Reusing it as `out` keeps the type.
  const again = await frames.loadBatch(reqs, { dtype: 'float32', layout: 'NCHW', out: b });
  yes<Equal<typeof again.data, Float32Array>>();
  assert.ok(again.data === b.data, 'the addon buffer is reused');
});

test('every dtype maps to its typed array; without dtype the data is any typed array', async () => {
  yes<Equal<TypedArrayOf<'uint8'>, Uint8Array>>();
  yes<Equal<TypedArrayOf<'int8'>, Int8Array>>();
  yes<Equal<TypedArrayOf<'uint16'>, Uint16Array>>();
  yes<Equal<TypedArrayOf<'int16'>, Int16Array>>();
  yes<Equal<TypedArrayOf<'uint32'>, Uint32Array>>();
  yes<Equal<TypedArrayOf<'int32'>, Int32Array>>();
  yes<Equal<TypedArrayOf<'float64'>, Float64Array>>();
  yes<Equal<TypedArrayOf<DType>, TypedArray>>();
  const u = await frames.loadBatch(reqs, { dtype: 'uint16' });
  yes<Equal<typeof u.data, Uint16Array>>();
  assert.ok(u.data instanceof Uint16Array);
  const any = await frames.loadBatch(reqs);
  yes<Equal<typeof any, Batch>>();
  yes<Equal<typeof any.data, TypedArray>>();
  assert.ok(any.data instanceof Uint8Array, 'the images are uint8');
  // Options built ahead keep their dtype when typed with it.
  const opts: BatchOptions<'float64'> = { dtype: 'float64' };
  const f = await frames.loadBatch(reqs, opts);
  yes<Equal<typeof f.data, Float64Array>>();
  assert.ok(f.data instanceof Float64Array);
});

test("an out of another dtype does not compile; sampler({dtype: 'float32'}) yields Float32Array batches", async () => {
  const b = await frames.loadBatch(reqs, { dtype: 'float32' });
  const mistake = (): unknown =>
    // @ts-expect-error a float32 batch cannot be the out of a uint8 batch
    frames.loadBatch(reqs, { dtype: 'uint8', out: b });
  assert.type(mistake, 'function');
  let n = 0;
  for await (const batch of frames.sampler({ size: [8, 8], batchSize: 2, dtype: 'float32', epochs: 1, seed: 1 })) {
    yes<Equal<typeof batch.data, Float32Array>>();
    yes<Equal<typeof batch, SamplerBatch<'float32'>>>();
    const d: Float32Array = batch.data;
    assert.ok(d instanceof Float32Array);
    assert.equal(batch.targets.length, batch.dims[0]);
    n++;
  }
  assert.ok(n > 0);
});

test("CocoSampler: loadBatch({dtype: 'float32'}) and stream({dtype: 'float32'}) are LabeledBatch<'float32'>", async () => {
  const s = new CocoSampler({
    images: [{ id: 1, file_name: file, width: 24, height: 20 }], categories: [{ id: 1 }],
    annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [2, 3, 8, 6] }],
  }, { workdir: path.join(root, 'w2'), backend: 'npy' });
  const b = await s.loadBatch([{ annotationId: 1, windowDims: [8, 8] }], { dtype: 'float32' });
  yes<Equal<typeof b, LabeledBatch<'float32'>>>();
  const data: Float32Array = b.data;
  assert.ok(data instanceof Float32Array);
  const any = await s.loadBatch([{ annotationId: 1, windowDims: [8, 8] }]);
  yes<Equal<typeof any.data, TypedArray>>();
  assert.ok(any.data instanceof Uint8Array, 'the image is uint8');
  const mistake = (): unknown =>
    // @ts-expect-error a float32 labeled batch cannot be the out of a uint8 one
    s.loadBatch([{ annotationId: 1 }], { dtype: 'uint8', out: b });
  assert.type(mistake, 'function');
  for await (const batch of s.stream({ windowDims: [8, 8], batchSize: 1, dtype: 'float32', epochs: 1 })) {
    yes<Equal<typeof batch.data, Float32Array>>();
    assert.ok(batch.data instanceof Float32Array);
  }
  s.frames.close();
});

test.run();
