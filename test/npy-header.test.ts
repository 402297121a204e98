/**
 * The strict .npy header parser, through openImage on hand-built files: every dtype, version,
 * memory order and byte order it must accept, and the hostile headers it must refuse.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileError, NpyFormatError } from '../lib/errors';
import { openImage, NpyReader } from '../lib/readers';
import type { DType } from '../lib/ndarray';
import { asStored, DTYPES, elements, encodeData, expectedRegion, headerDict, ITEM, KIND, npyBytes } from './npy-helpers';
import type { NpyParts } from './npy-helpers';
import { expectCode } from './_helpers/errors';
import { rmrf, tempDir } from './_helpers/tmp';

const dir = tempDir('npy-header').dir;
let counter = 0;
function writeFile(bytes: Uint8Array, name = `f${counter++}.npy`): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

function openNpy(file: string): NpyReader {
  return openImage(file) as NpyReader;
}

// ---- accepted files -------------------------------------------------------------------------

function orderChars(dtype: DType): string[] {
  return ITEM[dtype] === 1 ? ['|', '<', '>', '='] : ['<', '>', '='];
}

test('every dtype x version 1/2/3 x C/F order x byte order x 2-D/3-D reads back exactly', () => {
  let cases = 0;
  for (const dtype of DTYPES) {
    for (const version of [1, 2, 3]) {
      for (const fortran of [false, true]) {
        for (const order of orderChars(dtype)) {
          for (const ndim of [2, 3]) {
            const shape: [number, number, number] = ndim === 3 ? [5, 4, 3] : [6, 5, 1];
            const big = order === '>';
            const dims = ndim === 3 ? shape : shape.slice(0, 2);
            const file = writeFile(npyBytes({
              version,
              dict: headerDict(order + KIND[dtype], fortran, dims),
              data: encodeData(dtype, shape, fortran, big),
            }));
            const what = `${order}${KIND[dtype]} v${version} ${fortran ? 'F' : 'C'} ${ndim}-D`;
            const r = openNpy(file);
            assert.equal(r.shape, shape, what);
            assert.is(r.dtype, dtype, what);
            assert.is(r.info.version, version, what);
            assert.is(r.info.ndim, ndim, what);
            assert.is(r.info.fortranOrder, fortran, what);
            assert.is(r.info.byteSwapped, big && ITEM[dtype] > 1, what);
            assert.is(r.info.dataOffset % 64, 0, what);
            const full = r.read();
            assert.equal(full.shape, shape, what);
            assert.equal(Array.from(full.data), asStored(dtype, expectedRegion(dtype, shape, null, null).values), what);
            const sub = r.read([[1, -1], [-3, null]]);
            const exp = expectedRegion(dtype, shape, [1, -1], [-3, null]);
            assert.equal(sub.shape, exp.shape, what);
            assert.equal(elements(sub), asStored(dtype, exp.values), what);
            const view = r.read([[1, 3], [1, 3]], { copy: false });
            assert.equal(elements(view), asStored(dtype, expectedRegion(dtype, shape, [1, 3], [1, 3]).values), what);
            r.close();
            cases++;
          }
        }
      }
    }
  }
  assert.is(cases, 3 * 2 * 2 * (4 + 4 + 3 * 6));
});

test('header dicts written differently but validly are accepted', () => {
  const data = encodeData('uint16', [2, 3, 1], false, false);
  const dicts = [
    "{'shape': (2, 3), 'fortran_order': False, 'descr': '<u2'}",
    "{'fortran_order': False, 'shape': (2, 3,), 'descr': '<u2', }",
    '{"descr": "<u2", "fortran_order": False, "shape": (2, 3)}',
    "{ 'descr' : '<u2' ,\t'fortran_order' : False , 'shape' : ( 2 , 3 ) , }",
    "{'descr':'<u2','fortran_order':False,'shape':(2,3)}",
  ];
  for (const dict of dicts) {
    const r = openNpy(writeFile(npyBytes({ dict, data })));
    assert.equal(r.shape, [2, 3, 1], dict);
    assert.equal(Array.from(r.read().data), expectedRegion('uint16', [2, 3, 1], null, null).values, dict);
    r.close();
  }
  // An unaligned header (numpy < 1.9 padded to 16 bytes) is still a valid file.
  const text = "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }\n";
  const r = openNpy(writeFile(npyBytes({ dict: text, raw: true, data })));
  assert.is(r.info.dataOffset, 10 + text.length);
  assert.equal(Array.from(r.read().data), expectedRegion('uint16', [2, 3, 1], null, null).values);
  r.close();
});

test('zero-sized arrays are valid', () => {
  for (const shape of [[0, 4, 3], [3, 0, 2], [2, 2, 0], [0, 0]]) {
    const r = openNpy(writeFile(npyBytes({ dict: headerDict('<f4', false, shape) })));
    const hwc = shape.length === 3 ? shape : [...shape, 1];
    assert.equal(r.shape, hwc);
    const a = r.read();
    assert.equal(a.shape, hwc);
    assert.is(a.data.length, 0);
    r.close();
  }
});

// ---- refused files --------------------------------------------------------------------------

const U8_DATA = new Uint8Array(2 * 3 * 1);
const GOOD = headerDict('|u1', false, [2, 3]);

const HOSTILE: Array<[string, NpyParts]> = [
  ['bad magic', { dict: GOOD, data: U8_DATA, magic: Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x5a]) }],
  ['magic without the 0x93 byte', { dict: GOOD, data: U8_DATA, magic: Buffer.from('xNUMPY', 'latin1') }],
  ['version 4.0', { dict: GOOD, data: U8_DATA, version: 4 }],
  ['version 0.0', { dict: GOOD, data: U8_DATA, version: 0 }],
  ['version 1.1', { dict: GOOD, data: U8_DATA, minor: 1 }],
  ['version 255.0', { dict: GOOD, data: U8_DATA, version: 255 }],
  ['header length past the end of the file', { dict: GOOD, data: U8_DATA, headerLength: 60000 }],
  ['v2 header length of 2^32-1', { dict: GOOD, data: U8_DATA, version: 2, headerLength: 0xffffffff }],
  ['header length shorter than the dict (cut inside it)', { dict: GOOD, data: U8_DATA, headerLength: 20 }],
  ['header length longer than the dict (data bytes read as header)', { dict: GOOD + '\n', raw: true, data: Uint8Array.from([1, 2, 3, 4, 5, 6]), headerLength: GOOD.length + 1 + 6 }],
  ['header length longer than the dict (data bytes that look like padding)', { dict: GOOD + '\n', raw: true, data: new Uint8Array(6).fill(0x20), headerLength: GOOD.length + 1 + 6 }],
  ['object dtype', { dict: headerDict('|O', false, [2, 3]), data: new Uint8Array(48) }],
  ['structured dtype', { dict: "{'descr': [('a', '<i4'), ('b', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", data: new Uint8Array(48) }],
  ['structured dtype as a tuple', { dict: "{'descr': ('<i4', (2,)), 'fortran_order': False, 'shape': (2, 3), }", data: new Uint8Array(48) }],
  ['int64', { dict: headerDict('<i8', false, [2, 3]), data: new Uint8Array(48) }],
  ['uint64', { dict: headerDict('<u8', false, [2, 3]), data: new Uint8Array(48) }],
  ['float16', { dict: headerDict('<f2', false, [2, 3]), data: new Uint8Array(12) }],
  ['bool', { dict: headerDict('|b1', false, [2, 3]), data: U8_DATA }],
  ['complex64', { dict: headerDict('<c8', false, [2, 3]), data: new Uint8Array(48) }],
  ['unicode string', { dict: headerDict('<U1', false, [2, 3]), data: new Uint8Array(24) }],
  ['a descr without a byte order', { dict: headerDict('u1', false, [2, 3]), data: U8_DATA }],
  ['a descr with a bad byte order', { dict: headerDict('!u2', false, [2, 3]), data: new Uint8Array(12) }],
  ["'|' on a multi-byte dtype", { dict: headerDict('|u2', false, [2, 3]), data: new Uint8Array(12) }],
  ['a descr with trailing text', { dict: headerDict('<u2 ', false, [2, 3]), data: new Uint8Array(12) }],
  ['0-D', { dict: headerDict('|u1', false, []), data: new Uint8Array(1) }],
  ['1-D', { dict: headerDict('|u1', false, [6]), data: U8_DATA }],
  ['4-D', { dict: headerDict('|u1', false, [1, 2, 3, 1]), data: U8_DATA }],
  ['shape not a tuple', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': [2, 3], }", data: U8_DATA }],
  ['shape (n) without the comma of a tuple', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (6), }", data: U8_DATA }],
  ['negative dimension', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (-2, -3), }", data: U8_DATA }],
  ['non-integer dimension', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (2.0, 3), }", data: U8_DATA }],
  ['dimension with a leading zero', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (02, 3), }", data: U8_DATA }],
  ['dimension with a suffix', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 3), }", data: U8_DATA }],
  ['dimension past 2^53', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999, 0), }" }],
  ['shape product overflowing 64 bits', { dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 3), }", data: new Uint8Array(64) }],
  ['shape product past 2^53 with a zero dimension', { dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }" }],
  ['duplicate key', { dict: "{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", data: U8_DATA }],
  ['duplicate shape', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), 'shape': (2, 3), }", data: U8_DATA }],
  ['missing key', { dict: "{'descr': '|u1', 'shape': (2, 3), }", data: U8_DATA }],
  ['extra key', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", data: U8_DATA }],
  ['empty dict', { dict: '{}', data: U8_DATA }],
  ['not a dict', { dict: "['descr', 'fortran_order', 'shape']", data: U8_DATA }],
  ['unterminated dict', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), ", data: U8_DATA }],
  ['unterminated string', { dict: "{'descr: '|u1', 'fortran_order': False, 'shape': (2, 3), }", data: U8_DATA }],
  ['fortran_order not a bool', { dict: "{'descr': '|u1', 'fortran_order': 0, 'shape': (2, 3), }", data: U8_DATA }],
  ["fortran_order 'False'", { dict: "{'descr': '|u1', 'fortran_order': 'False', 'shape': (2, 3), }", data: U8_DATA }],
  ['fortran_order Falsey', { dict: "{'descr': '|u1', 'fortran_order': Falsey, 'shape': (2, 3), }", data: U8_DATA }],
  ['an escape in a string', { dict: "{'descr': '|u\\x31', 'fortran_order': False, 'shape': (2, 3), }", data: U8_DATA }],
  ['unquoted key', { dict: "{descr: '|u1', 'fortran_order': False, 'shape': (2, 3), }", data: U8_DATA }],
  ['missing comma between entries', { dict: "{'descr': '|u1' 'fortran_order': False, 'shape': (2, 3), }", data: U8_DATA }],
  ['double comma', { dict: "{'descr': '|u1',, 'fortran_order': False, 'shape': (2, 3), }", data: U8_DATA }],
  ['garbage after the dict', { dict: GOOD + ' garbage', data: U8_DATA }],
  ['a second dict', { dict: GOOD + GOOD, data: U8_DATA }],
  ['non-ASCII byte in the header', { dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), '\u00e9': 1}", data: U8_DATA }],
  ['NUL byte in the header', { dict: "{'descr': '|u1',\u0000 'fortran_order': False, 'shape': (2, 3), }", data: U8_DATA }],
  ['control byte in the header', { dict: "{'descr': '|u1',\u0007 'fortran_order': False, 'shape': (2, 3), }", data: U8_DATA }],
  ['data section shorter than the shape claims', { dict: headerDict('<u2', false, [4, 5, 3]), data: new Uint8Array(4 * 5 * 3 * 2 - 1) }],
  ['no data section at all', { dict: headerDict('<f8', false, [2, 3]) }],
  ['data section longer than the shape claims (a header that lies)', { dict: headerDict('<u2', false, [2, 3]), data: new Uint8Array(2 * 3 * 2 + 2) }],
];

test('hostile headers are refused with NpyFormatError ERR_NPY_HEADER and the path', () => {
  for (const [what, parts] of HOSTILE) {
    const file = writeFile(npyBytes(parts));
    const err = expectCode(() => openImage(file), NpyFormatError, 'ERR_NPY_HEADER', what);
    assert.is(err.path, file, what);
    assert.ok(err.message.includes(file), what);
  }
});

test('truncated files are refused at every length', () => {
  const full = npyBytes({ version: 2, dict: headerDict('<i4', true, [3, 2, 2]), data: encodeData('int32', [3, 2, 2], true, false) });
  for (let len = 0; len < full.length; len++) {
    const file = writeFile(full.subarray(0, len), 'trunc.npy');
    const err = expectCode(() => openImage(file), NpyFormatError, 'ERR_NPY_HEADER', `length ${len}`);
    assert.is(err.path, file);
  }
  const r = openNpy(writeFile(full, 'trunc.npy'));
  assert.equal(r.shape, [3, 2, 2]);
  r.close();
});

test('random garbage after the magic never crashes and is refused or read consistently', () => {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  const base = npyBytes({ dict: headerDict('<u2', false, [3, 4]), data: encodeData('uint16', [3, 4, 1], false, false) });
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.from(base);
    const flips = 1 + (rnd() % 4);
    for (let k = 0; k < flips; k++) bytes[6 + (rnd() % (bytes.length - 6))] = rnd() & 255;
    const file = writeFile(bytes, 'fuzz.npy');
    try {
      const r = openNpy(file);
      // Accepted: then it must be a consistent file of the declared size.
      const n = r.shape[0] * r.shape[1] * r.shape[2];
      assert.is(r.info.dataOffset + n * ITEM[r.dtype], bytes.length);
      assert.is(r.read().data.length, n);
      r.close();
    } catch (err) {
      assert.instance(err, NpyFormatError, String(err));
      assert.is((err as NpyFormatError).code, 'ERR_NPY_HEADER');
    }
  }
});

test('a zero-byte file is refused with ERR_NPY_HEADER', () => {
  const file = writeFile(new Uint8Array(0), 'empty.npy');
  const err = expectCode(() => openImage(file), NpyFormatError, 'ERR_NPY_HEADER');
  assert.is(err.path, file);
});

test('a directory is refused with FileError ERR_NOT_A_FILE, errno and syscall', () => {
  const sub = path.join(dir, 'adir.npy');
  fs.mkdirSync(sub);
  const err = expectCode(() => openImage(sub), FileError, 'ERR_NOT_A_FILE');
  assert.is(err.path, sub);
  assert.is(err.errno, 21);  // EISDIR
  assert.type(err.syscall, 'string');
});

test('a FIFO is refused with ERR_NOT_A_FILE without blocking', () => {
  const fifo = path.join(dir, 'fifo.npy');
  const r = spawnSync('mkfifo', [fifo]);
  assert.is(r.status, 0, 'mkfifo');
  const err = expectCode(() => openImage(fifo), FileError, 'ERR_NOT_A_FILE');
  assert.is(err.path, fifo);
});

test('a missing file is refused with FileError ERR_SOURCE_MISSING, errno ENOENT and syscall open', () => {
  const file = path.join(dir, 'nope', 'missing.npy');
  const err = expectCode(() => openImage(file), FileError, 'ERR_SOURCE_MISSING');
  assert.is(err.path, file);
  assert.is(err.errno, 2);
  assert.is(err.syscall, 'open');
});

test.after(() => rmrf(dir));

test.run();
