/**
 * Shared helpers of the npy test files: temporary directories, hand-built .npy files, a pure-JS
 * reference for Python slicing, and expected-error assertions.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import type { DType, NDArray, TypedArray } from '../lib/ndarray';

export const DTYPES: DType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];
export const ITEM: Record<DType, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };
/** numpy kind+size of each dtype, e.g. 'u2'. */
export const KIND: Record<DType, string> = { uint8: 'u1', int8: 'i1', uint16: 'u2', int16: 'i2', uint32: 'u4', int32: 'i4', float32: 'f4', float64: 'f8' };



/** The header dict numpy would write. */
export function headerDict(descr: string, fortran: boolean, shape: number[]): string {
  const dims = shape.join(', ') + (shape.length === 1 ? ',' : '');
  return `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${dims}), }`;
}

export interface NpyParts {
  /** Header dict text (padding and the final newline are added unless `raw` is set). */
  dict: string;
  data?: Uint8Array;
  version?: number;
  minor?: number;
  magic?: Uint8Array;
  /** Use `dict` verbatim as the header text (no padding, no newline). */
  raw?: boolean;
  /** Override the header length field. */
  headerLength?: number;
}

/** The bytes of an .npy file built by hand from its parts. */
export function npyBytes(p: NpyParts): Buffer {
  const version = p.version ?? 1;
  const prefix = version === 1 ? 10 : 12;
  let text = p.dict;
  if (!p.raw) {
    const pad = (64 - ((prefix + text.length + 1) % 64)) % 64;
    text = text + ' '.repeat(pad) + '\n';
  }
  const head = Buffer.alloc(prefix);
  Buffer.from(p.magic ?? Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])).copy(head, 0);
  head[6] = version;
  head[7] = p.minor ?? 0;
  const hlen = p.headerLength ?? Buffer.byteLength(text, 'latin1');
  if (version === 1) head.writeUInt16LE(hlen, 8);
  else head.writeUInt32LE(hlen, 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1'), p.data ?? new Uint8Array(0)]);
}

/** A deterministic value for logical element `i` of an array of `dtype`. */
export function valueAt(dtype: DType, i: number): number {
  switch (dtype) {
    case 'uint8': return (i * 37 + 11) % 256;
    case 'int8': return ((i * 37 + 11) % 256) - 128;
    case 'uint16': return (i * 7919 + 3) % 65536;
    case 'int16': return ((i * 7919 + 3) % 65536) - 32768;
    case 'uint32': return (i * 2654435761 + 7) % 4294967296;
    case 'int32': return ((i * 2654435761 + 7) % 4294967296) - 2147483648;
    case 'float32': return i * 0.5 - 7.25;
    case 'float64': return i * 1.0e-3 - 1234.5678;
  }
}

/**
 * The data section of an array of logical shape [H, W, C] (C = 1 for 2-D) whose element
 * (y, x, c) is valueAt(dtype, (y * W + x) * C + c), stored in C or Fortran order, little- or
 * big-endian.
 */
export function encodeData(dtype: DType, shape: [number, number, number], fortran: boolean, bigEndian: boolean): Uint8Array {
  const [H, W, C] = shape;
  const n = ITEM[dtype];
  const out = new Uint8Array(H * W * C * n);
  const dv = new DataView(out.buffer);
  const le = !bigEndian;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        const v = valueAt(dtype, (y * W + x) * C + c);
        const pos = (fortran ? y + x * H + c * H * W : (y * W + x) * C + c) * n;
        switch (dtype) {
          case 'uint8': dv.setUint8(pos, v); break;
          case 'int8': dv.setInt8(pos, v); break;
          case 'uint16': dv.setUint16(pos, v, le); break;
          case 'int16': dv.setInt16(pos, v, le); break;
          case 'uint32': dv.setUint32(pos, v, le); break;
          case 'int32': dv.setInt32(pos, v, le); break;
          case 'float32': dv.setFloat32(pos, v, le); break;
          case 'float64': dv.setFloat64(pos, v, le); break;
        }
      }
    }
  }
  return out;
}

/** Python's slice(start, stop).indices(n) with step 1, written independently of lib/region.ts. */
export function refSlice(s: [number | null, number | null] | null | undefined, n: number): [number, number] {
  const norm = (v: number) => (v < 0 ? Math.max(0, v + n) : Math.min(v, n));
  const b = s == null || s[0] == null ? 0 : norm(s[0]);
  const e = s == null || s[1] == null ? n : norm(s[1]);
  return [b, Math.max(b, e)];
}

/** Every element of `a` in C order (y, x, c), read through its strides and offset. */
export function elements(a: NDArray): number[] {
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) out.push(a.data[a.offset + y * sy + x * sx + k * sc]);
    }
  }
  return out;
}

/** The bytes of every element of `a` in C order, little-endian (bit-exact, NaN payloads included). */
export function elementBytes(a: NDArray): Uint8Array {
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  const n = a.data.BYTES_PER_ELEMENT;
  const src = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(h * w * c * n);
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const e = (a.offset + y * sy + x * sx + k * sc) * n;
        for (let b = 0; b < n; b++) out[o++] = src[e + b];
      }
    }
  }
  return out;
}

/** The expected logical elements of region `[ys, xs, cs]` of an array built by encodeData. */
export function expectedRegion(dtype: DType, shape: [number, number, number],
  ys: [number | null, number | null] | null, xs: [number | null, number | null] | null,
  cs: [number | null, number | null] | null = null): { shape: [number, number, number]; values: number[] } {
  const [H, W, C] = shape;
  const [y0, y1] = refSlice(ys, H);
  const [x0, x1] = refSlice(xs, W);
  const [c0, c1] = refSlice(cs, C);
  const values: number[] = [];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      for (let c = c0; c < c1; c++) values.push(valueAt(dtype, (y * W + x) * C + c));
    }
  }
  return { shape: [y1 - y0, x1 - x0, c1 - c0], values };
}

/** Float32 rounding of the reference values, so float32 data compares exactly. */
export function asStored(dtype: DType, values: number[]): number[] {
  return dtype === 'float32' ? values.map((v) => Math.fround(v)) : values;
}



/** Runs a short Python script with Debian's numpy (/usr/bin/python3). */
export function python(script: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Why numpy cannot be used here, or null when `/usr/bin/python3 -c "import numpy"` works. */
export function numpyMissing(): string | null {
  const r = python('import numpy');
  return r.status === 0 ? null : `/usr/bin/python3 cannot import numpy (${r.stderr.trim().split('\n').pop() || 'exit ' + r.status}); apt-get install python3-numpy`;
}

/** True when the process maps `file` (Linux /proc/self/maps), by its real path. */
export function isMapped(file: string): boolean {
  const real = fs.realpathSync(file);
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').some((l) => l.endsWith(' ' + real));
}

/** Lets pending finalizers (which Node runs from the event loop) run after a few collections. */
export async function collect(rounds = 4): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.type(gc, 'function', 'run with --expose-gc');
  for (let i = 0; i < rounds; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export function bytesOf(t: TypedArray): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}
