/**
 * Cross-checks against numpy (Debian's python3-numpy through /usr/bin/python3): numpy writes every
 * dtype, 2-D and 3-D, C and Fortran order, both byte orders, format versions 1.0/2.0/3.0, and we
 * read identical values (whole image and regions sliced by numpy itself); we write every dtype from
 * contiguous and strided inputs and numpy loads identical arrays. Skipped, with a printed SKIP
 * line, only where numpy is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocate } from '../lib/ndarray';
import type { DType, NDArray } from '../lib/ndarray';
import { openImage, writeNpy, NpyReader } from '../lib/readers';
import type { Region } from '../lib/region';
import { bytesOf, DTYPES, elementBytes, KIND, numpyMissing, python } from './npy-helpers';

const missing = numpyMissing();

// Regions as [rows, cols, channels]; numpy slices the same ones (2-D arrays take the first two).
type Sl = [number | null, number | null] | null;
const REGIONS: Sl[][] = [
  [[2, 5], [1, 4], null],
  [[-3, null], [null, -2], [1, 3]],
  [[null, -1], [-4, -1], [-2, null]],
  [[3, 3], [0, 2], null],
  [[-100, 100], [2, 100], [0, 1]],
  [[5, 2], [null, null], null],
  [null, null, [-1, null]],
];

const NUMPY_WRITES = String.raw`
import json, sys
import numpy as np
from numpy.lib import format as fmt
out, regions = sys.argv[1], json.loads(sys.argv[2])
rng = np.random.default_rng(20240601)
manifest = []
for kind in ['u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'f4', 'f8']:
    le = np.dtype('<' + kind)
    for ndim in (2, 3):
        shape = (7, 5, 3) if ndim == 3 else (6, 4)
        if kind[0] == 'f':
            ref = (rng.standard_normal(shape) * 1000).astype(le)
        else:
            info = np.iinfo(le)
            ref = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=le)
        ref.flat[0] = np.iinfo(le).max if kind[0] != 'f' else -0.0
        for order in ('C', 'F'):
            for endian in ('<', '>'):
                for version in (1, 2, 3):
                    arr = ref.astype(np.dtype(endian + kind))
                    arr = np.asfortranarray(arr) if order == 'F' else np.ascontiguousarray(arr)
                    name = '%s_%dd_%s_%s_v%d' % (kind, ndim, order, 'be' if endian == '>' else 'le', version)
                    with open('%s/%s.npy' % (out, name), 'wb') as f:
                        fmt.write_array(f, arr, version=(version, 0), allow_pickle=False)
                    with open('%s/%s.raw' % (out, name), 'wb') as f:
                        f.write(np.ascontiguousarray(ref).tobytes())
                    shapes = []
                    for i, reg in enumerate(regions):
                        sl = tuple(slice(None) if r is None else slice(r[0], r[1]) for r in reg[:ndim])
                        sub = np.ascontiguousarray(ref[sl])
                        with open('%s/%s.r%d.raw' % (out, name, i), 'wb') as f:
                            f.write(sub.tobytes())
                        shapes.append(list(sub.shape))
                    manifest.append({'name': name, 'kind': kind, 'ndim': ndim, 'fortran': order == 'F',
                                     'big': endian == '>' and kind[1] != '1', 'version': version,
                                     'shape': list(shape), 'regions': shapes})
print(json.dumps(manifest))
`;

const NUMPY_LOADS = String.raw`
import json, sys
import numpy as np
from numpy.lib import format as fmt
results = []
for case in json.loads(sys.argv[1]):
    problems = []
    try:
        with open(case['file'], 'rb') as f:
            version = fmt.read_magic(f)
            fmt.read_array_header_1_0(f)
            if version != (1, 0): problems.append('version %r' % (version,))
            if f.tell() % 64: problems.append('data offset %d is not a multiple of 64' % f.tell())
        a = np.load(case['file'], allow_pickle=False)
        if list(a.shape) != case['shape']: problems.append('shape %r' % (a.shape,))
        if a.dtype.str != case['descr']: problems.append('descr %s' % a.dtype.str)
        if a.ndim > 1 and np.isfortran(a): problems.append('fortran order')
        with open(case['raw'], 'rb') as f:
            if np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes() != f.read():
                problems.append('values differ')
    except Exception as e:
        problems.append(repr(e))
    results.append({'file': case['file'], 'problems': problems})
print(json.dumps(results))
`;
import { rmrf, tempDir } from './_helpers/tmp';

interface Fixture {
  name: string; kind: string; ndim: 2 | 3; fortran: boolean; big: boolean; version: number;
  shape: number[]; regions: number[][];
}

const KIND_DTYPE: Record<string, DType> = Object.fromEntries(DTYPES.map((d) => [KIND[d], d]));

function regionArg(reg: Sl[], ndim: number): Region {
  return reg.slice(0, ndim).map((s) => (s === null ? null : [s[0], s[1]]));
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.is(actual.length, expected.length, `${what}: byte length`);
  assert.ok(Buffer.compare(Buffer.from(actual), Buffer.from(expected)) === 0, `${what}: bytes differ`);
}

if (missing !== null) {
  process.stdout.write(`SKIP npy-numpy: ${missing}\n`);
  test.skip('numpy writes every dtype/order/byte order/version and we read identical values');
  test.skip('we write every dtype from contiguous and strided arrays and numpy loads identical arrays');
} else {
  const dir = tempDir('npy-numpy').dir;

  test('numpy writes every dtype/order/byte order/version and we read identical values', async () => {
    const gen = python(NUMPY_WRITES, [dir, JSON.stringify(REGIONS)]);
    assert.is(gen.status, 0, gen.stderr);
    const fixtures = JSON.parse(gen.stdout) as Fixture[];
    assert.is(fixtures.length, 8 * 2 * 2 * 2 * 3);
    for (const fx of fixtures) {
      const file = path.join(dir, `${fx.name}.npy`);
      const r = openImage(file) as NpyReader;
      const dtype = KIND_DTYPE[fx.kind];
      const hwc = fx.ndim === 3 ? fx.shape : [...fx.shape, 1];
      assert.equal(r.shape, hwc, fx.name);
      assert.is(r.dtype, dtype, fx.name);
      assert.is(r.info.version, fx.version, fx.name);
      assert.is(r.info.fortranOrder, fx.fortran, fx.name);
      assert.is(r.info.byteSwapped, fx.big, fx.name);
      const raw = fs.readFileSync(path.join(dir, `${fx.name}.raw`));
      const full = r.read();
      assert.equal(full.shape, hwc, fx.name);
      sameBytes(bytesOf(full.data), raw, `${fx.name} full copy`);
      sameBytes(elementBytes(r.read(null, { copy: false })), raw, `${fx.name} full view`);
      for (let i = 0; i < REGIONS.length; i++) {
        const what = `${fx.name} region ${JSON.stringify(REGIONS[i])}`;
        const expected = fs.readFileSync(path.join(dir, `${fx.name}.r${i}.raw`));
        const expShape = fx.ndim === 3 ? fx.regions[i] : [...fx.regions[i], 1];
        const reg = regionArg(REGIONS[i], fx.ndim);
        const copy = r.read(reg);
        assert.equal(copy.shape, expShape, what);
        sameBytes(bytesOf(copy.data), expected, `${what} copy`);
        const view = r.read(reg, { copy: false });
        assert.equal(view.shape, expShape, what);
        sameBytes(elementBytes(view), expected, `${what} view`);
        if (!fx.big) assert.is(view.data.byteOffset, r.info.dataOffset, `${what}: a view of the mapping`);
        const out: NDArray = allocate(copy.shape, dtype);
        r.read(reg, { out });
        sameBytes(bytesOf(out.data), expected, `${what} out`);
        const viaAsync = await r.readAsync(reg);
        sameBytes(bytesOf(viaAsync.data), expected, `${what} readAsync`);
      }
      r.close();
    }
  });

  test('we write every dtype from contiguous and strided arrays and numpy loads identical arrays', () => {
    const cases: Array<{ file: string; raw: string; shape: number[]; descr: string }> = [];
    const add = (name: string, a: NDArray) => {
      const file = path.join(dir, `w_${name}.npy`);
      const raw = path.join(dir, `w_${name}.raw`);
      writeNpy(file, a);
      fs.writeFileSync(raw, elementBytes(a));
      const size = a.data.BYTES_PER_ELEMENT;
      cases.push({ file, raw, shape: a.shape, descr: (size === 1 ? '|' : '<') + KIND[a.dtype] });
    };
    let seed = 99;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (const dtype of DTYPES) {
      const big = allocate([9, 8, 4], dtype);
      const d = big.data;
      for (let i = 0; i < d.length; i++) {
        d[i] = dtype.startsWith('float') ? (rnd() - 0.5) * 1e6 : Math.floor(rnd() * 2 ** (8 * d.BYTES_PER_ELEMENT));
      }
      if (dtype.startsWith('float')) {
        d[1] = NaN; d[2] = Infinity; d[3] = -Infinity; d[5] = -0;
      }
      const contiguous = allocate([5, 4, 3], dtype);
      for (let i = 0; i < contiguous.data.length; i++) contiguous.data[i] = d[(i * 7) % d.length];
      add(`${dtype}_contiguous`, contiguous);
      add(`${dtype}_window`, { data: d, shape: [5, 4, 3], strides: [32, 4, 1], offset: (2 * 8 + 1) * 4 + 1, dtype });
      add(`${dtype}_planar`, { data: d, shape: [4, 5, 3], strides: [5, 1, 20], offset: 3, dtype });
      add(`${dtype}_transposed`, { data: d, shape: [8, 9, 2], strides: [4, 32, 1], offset: 2, dtype });
      add(`${dtype}_broadcast`, { data: d, shape: [3, 5, 4], strides: [0, 0, 1], offset: 8, dtype });
      add(`${dtype}_empty`, { data: d, shape: [0, 4, 3], strides: [12, 3, 1], offset: 0, dtype });
    }
    const r = python(NUMPY_LOADS, [JSON.stringify(cases)]);
    assert.is(r.status, 0, r.stderr);
    const results = JSON.parse(r.stdout) as Array<{ file: string; problems: string[] }>;
    assert.is(results.length, cases.length);
    for (const res of results) assert.equal(res.problems, [], res.file);
  });

  test.after(() => rmrf(dir));
}

test.run();
