/** HWC arrays: the NDArray type, dtypes and allocation. */
import { constants as bufferConstants } from 'node:buffer';
import { markAsUntransferable } from 'node:worker_threads';
import { NdsamplerError, RegionError } from './errors';
import * as v from './validate';

export type DType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type TypedArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array;
export type Shape3 = [number, number, number];

export interface NDArray {
  data: TypedArray;
  shape: Shape3;      // [height, width, channels]
  strides: Shape3;    // in elements
  offset: number;     // in elements, into data
  dtype: DType;
}

/** The typed array class of each dtype, as a type: `TypedArrayOf<'float32'>` is Float32Array. */
export type TypedArrayOf<D extends DType> = {
  uint8: Uint8Array; int8: Int8Array; uint16: Uint16Array; int16: Int16Array;
  uint32: Uint32Array; int32: Int32Array; float32: Float32Array; float64: Float64Array;
}[D];

type TypedArrayCtor = { new (n: number): TypedArray; new (b: ArrayBufferLike, off: number, n: number): TypedArray; BYTES_PER_ELEMENT: number };

export const DTYPES: readonly DType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];
export const TYPED_ARRAY: Readonly<Record<DType, TypedArrayCtor>> = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
} as unknown as Record<DType, TypedArrayCtor>;
export const ITEMSIZE: Readonly<Record<DType, number>> = {
  uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8,
};

/** The dtype whose typed array class `data` is an instance of, or undefined. */
export function dtypeOf(data: unknown): DType | undefined {
  for (const d of DTYPES) if (data instanceof (TYPED_ARRAY[d] as unknown as typeof Uint8Array)) return d;
  return undefined;
}

/** The most elements one typed array can hold in this runtime (2^32 in Node 20 and 22). */
export const MAX_ELEMENTS: number = bufferConstants.MAX_LENGTH;

/** Above this many bytes a new array is allocated without zero-filling: every byte is written by the read. */
const UNSAFE_ALLOC_BYTES = 64 * 1024;

/** A new C-contiguous array of `shape`. Its contents are unspecified unless `zero` is set. */
export function allocate(shape: Shape3, dtype: DType, zero = false): NDArray {
  const [h, w, c] = shape;
  const n = h * w * c;
  const Ctor = TYPED_ARRAY[dtype];
  let data: TypedArray;
  const bytes = n * Ctor.BYTES_PER_ELEMENT;
  if (!(n <= MAX_ELEMENTS)) {
    throw new NdsamplerError('ERR_TOO_LARGE', `cannot allocate an array of shape [${h}, ${w}, ${c}] ${dtype}: ${n} elements ` +
      `(${bytes} bytes), more than the ${MAX_ELEMENTS} a typed array can hold (an image or region that declares a huge size?)`);
  }
  try {
    if (!zero && bytes >= UNSAFE_ALLOC_BYTES) {
      const buf = Buffer.allocUnsafeSlow(bytes);
      data = new Ctor(buf.buffer, buf.byteOffset, n);
    } else {
      data = new Ctor(n);
    }
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new NdsamplerError('ERR_NO_MEMORY', `cannot allocate an array of shape [${h}, ${w}, ${c}] ${dtype} (${bytes} bytes): ${err.message}`, { cause: err });
  }
  return { data, shape: [h, w, c], strides: [w * c, c, 1], offset: 0, dtype };
}

/**
 * Small read results are carved out of shared slabs, as Node's Buffer pool does: allocating an
 * ArrayBuffer costs about a microsecond, a view of an existing one a few tens of nanoseconds.
 * A result's `data` is then a view with its own offset and length into a SLAB_BYTES ArrayBuffer
 * shared with other results (use data.byteOffset/byteLength, not data.buffer alone). Slabs are
 * marked untransferable, so a postMessage transfer list cannot detach the other results.
 */
const SLAB_BYTES = 64 * 1024;
const MAX_SLAB_ALLOC = 8 * 1024;
let slab: ArrayBuffer | null = null;
let slabOffset = 0;

function newSlab(): ArrayBuffer {
  const buf = Buffer.allocUnsafeSlow(SLAB_BYTES).buffer as ArrayBuffer;
  markAsUntransferable(buf);
  return buf;
}

/**
 * A new C-contiguous array of `shape` for a read to fill: contents unspecified, `data` possibly a
 * view into a shared slab (see above). Only for arrays every element of which is then written.
 */
export function allocateResult(shape: Shape3, dtype: DType): NDArray {
  const h = shape[0], w = shape[1], c = shape[2];
  const n = h * w * c;
  const Ctor = TYPED_ARRAY[dtype];
  const bytes = n * Ctor.BYTES_PER_ELEMENT;
  if (bytes === 0 || bytes > MAX_SLAB_ALLOC) return allocate(shape, dtype);
  if (slab === null || slabOffset + bytes > SLAB_BYTES) {
    slab = newSlab();
    slabOffset = 0;
  }
  const data = new Ctor(slab, slabOffset, n);
  slabOffset = (slabOffset + bytes + 7) & ~7;  // 8-byte aligned for every dtype
  return { data, shape: [h, w, c], strides: [w * c, c, 1], offset: 0, dtype };
}

/** True for a C-contiguous array starting at offset 0 and covering all of `data`. */
export function isContiguous(a: NDArray): boolean {
  const [h, w, c] = a.shape;
  return a.offset === 0 && a.strides[0] === w * c && a.strides[1] === c && a.strides[2] === 1 && a.data.length === h * w * c;
}

function isShape3(s: unknown): s is Shape3 {
  if (!Array.isArray(s) || s.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const x = s[i];
    if (!Number.isSafeInteger(x) || x < 0) return false;
  }
  return true;
}

/**
 * True when an array of `shape` with non-negative element `strides` addresses some element twice:
 * a zero stride on an axis longer than 1, or, with the axes longer than 1 sorted by stride, a
 * stride smaller than the extent (size x stride) of the axis below it. Size-1 axes are free.
 * native/core/request.h StridesOverlap applies the same rule.
 */
export function stridesOverlap(shape: Shape3, strides: Shape3): boolean {
  if (shape[0] === 0 || shape[1] === 0 || shape[2] === 0) return false;
  const axes: Array<[number, number]> = [];
  for (let i = 0; i < 3; i++) {
    if (shape[i] === 1) continue;
    if (strides[i] === 0) return true;
    axes.push([strides[i], shape[i]]);
  }
  axes.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < axes.length; i++) if (axes[i][0] < axes[i - 1][0] * axes[i - 1][1]) return true;
  return false;
}

/**
 * Validates an NDArray given by a caller (an `out` array or an array to write): its data must be
 * a typed array matching dtype, and every element its shape and strides address must lie inside it.
 * A `destination` (an `out` to be written) may not address one element twice (stridesOverlap); an
 * array only read (to be written to a file) may: a broadcast array is a valid source.
 */
export function checkArray(a: unknown, name: string, destination = false): NDArray {
  if (!v.isPlainObject(a)) throw v.typeError('an NDArray {data, shape, strides, offset, dtype}', name, a);
  const arr = a as unknown as NDArray;
  const dtype = dtypeOf(arr.data);
  if (dtype === undefined) throw v.typeError('a typed array', `${name}.data`, arr.data);
  if (arr.dtype !== undefined && arr.dtype !== dtype) {
    throw v.typeError(`dtype '${dtype}' (the type of ${name}.data)`, `${name}.dtype`, arr.dtype);
  }
  if (!isShape3(arr.shape)) throw v.typeError('[height, width, channels] of non-negative integers', `${name}.shape`, arr.shape);
  const [h, w, c] = arr.shape;
  const strides: Shape3 = arr.strides === undefined ? [w * c, c, 1] : arr.strides;
  if (!isShape3(strides)) throw v.typeError('[rowStride, colStride, chanStride] of non-negative integers', `${name}.strides`, arr.strides);
  const offset = arr.offset === undefined ? 0 : arr.offset;
  if (!Number.isSafeInteger(offset) || offset < 0) throw v.rangeError('a non-negative integer', `${name}.offset`, arr.offset);
  if (h * w * c > 0) {
    const last = offset + (h - 1) * strides[0] + (w - 1) * strides[1] + (c - 1) * strides[2];
    if (last >= arr.data.length) {
      throw new RegionError('ERR_OUT_BUFFER', `${name}: shape and strides address element ${last} but data has ${arr.data.length}`);
    }
    if (destination && stridesOverlap(arr.shape, strides)) {
      throw new RegionError('ERR_OUT_BUFFER', `${name}: strides [${strides}] for shape [${arr.shape}] are zero or overlap (two elements would share one place)`);
    }
  }
  return { data: arr.data, shape: [h, w, c], strides: [strides[0], strides[1], strides[2]], offset, dtype };
}

/** Sets every element addressed by `a` to `value`. */
export function fill(a: NDArray, value: number): void {
  if (isContiguous(a)) {
    a.data.fill(value);
    return;
  }
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = a.offset + y * sy + x * sx;
      for (let k = 0; k < c; k++) a.data[base + k * sc] = value;
    }
  }
}

/** A C-contiguous copy of any NDArray (used where a view must become independent). */
export function toContiguous(a: NDArray): NDArray {
  if (isContiguous(a)) return a;
  const out = allocate(a.shape, a.dtype);
  const [h, w, c] = a.shape;
  const [sy, sx, sc] = a.strides;
  const d = out.data;
  let i = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = a.offset + y * sy + x * sx;
      for (let k = 0; k < c; k++) d[i++] = a.data[base + k * sc];
    }
  }
  return out;
}

export { NdsamplerError };
