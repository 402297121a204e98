/**
 * Fixtures for the raster tests: deterministic pixel patterns for every dtype, source files
 * written with gdal-async (an independent binding of the system GDAL), and reference reads
 * through gdal-async. Not a test file itself (no .test.ts suffix).
 */
import gdal = require('gdal-async');
import type { DType, TypedArray } from '../lib/ndarray';
import { TYPED_ARRAY } from '../lib/ndarray';

export const GDT: Record<DType, string> = {
  uint8: gdal.GDT_Byte, int8: gdal.GDT_Byte, uint16: gdal.GDT_UInt16, int16: gdal.GDT_Int16,
  uint32: gdal.GDT_UInt32, int32: gdal.GDT_Int32, float32: gdal.GDT_Float32, float64: gdal.GDT_Float64,
};


/** Deterministic HWC data for `dtype`, covering the type's sign and magnitude range. */
export function pattern(h: number, w: number, c: number, dtype: DType, seed = 1): TypedArray {
  const out = new TYPED_ARRAY[dtype](h * w * c);
  let i = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const a = y * 131 + x * 17 + k * 1009 + seed * 7919;
        let v: number;
        switch (dtype) {
          case 'uint8': v = (a * 7 + (x >> 3)) % 256; break;
          case 'int8': v = ((a * 7) % 256) - 128; break;
          case 'uint16': v = (a * 2654435761) % 65536; break;
          case 'int16': v = ((a * 40503) % 65536) - 32768; break;
          case 'uint32': v = (a * 2654435761) % 4294967296; break;
          case 'int32': v = ((a * 2246822519) % 4294967296) - 2147483648; break;
          case 'float32': v = Math.fround(Math.sin(a * 0.013) * 1000 + k * 0.25); break;
          default: v = Math.sin(a * 0.0013) * 1e6 + a / 3;
        }
        out[i++] = v;
      }
    }
  }
  return out;
}

/** A smooth RGB uint8 image (for JPEG sources, where noise patterns would be meaningless). */
export function smooth(h: number, w: number, c: number): Uint8Array {
  const out = new Uint8Array(h * w * c);
  let i = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) out[i++] = (128 + 100 * Math.sin((x + 2 * k) / 23) * Math.cos((y - k) / 31)) | 0;
    }
  }
  return out;
}

/** Planar copy of band k of an HWC array. */
function band(data: TypedArray, h: number, w: number, c: number, k: number): TypedArray {
  const out = new (data.constructor as new (n: number) => TypedArray)(h * w);
  for (let p = 0; p < h * w; p++) out[p] = data[p * c + k];
  return out;
}

export interface SourceOptions {
  driver?: string;                        // default GTiff
  creationOptions?: Record<string, string>;
  palette?: Array<[number, number, number, number]>;  // 1-band Byte data as palette indices
}

/** Writes HWC `data` as an image file with gdal-async (MEM dataset + createCopy). */
export function writeSource(file: string, data: TypedArray, h: number, w: number, c: number, dtype: DType,
                            opts: SourceOptions = {}): string {
  const mem = gdal.open('mem', 'w', 'MEM', w, h, c, GDT[dtype]);
  for (let k = 0; k < c; k++) {
    const b = mem.bands.get(k + 1);
    b.pixels.write(0, 0, w, h, band(data, h, w, c, k) as unknown as Uint8Array);
    if (dtype === 'int8') b.setMetadata({ PIXELTYPE: 'SIGNEDBYTE' }, 'IMAGE_STRUCTURE');
  }
  if (opts.palette) {
    const ct = new gdal.ColorTable(gdal.GPI_RGB);
    opts.palette.forEach(([r, g, b, a], i) => ct.set(i, { c1: r, c2: g, c3: b, c4: a }));
    const b1 = mem.bands.get(1);
    b1.colorTable = ct;
    b1.colorInterpretation = gdal.GCI_PaletteIndex;
  }
  const co: Record<string, string> = { ...(opts.creationOptions ?? {}) };
  const driver = opts.driver ?? 'GTiff';
  if (dtype === 'int8' && driver === 'GTiff') co.PIXELTYPE = 'SIGNEDBYTE';
  const out = gdal.drivers.get(driver).createCopy(file, mem, co);
  out.close();
  mem.close();
  return file;
}

/** HWC window [y0, y1) x [x0, x1) of `file` read with gdal-async, band by band. */
export function gdalRead(file: string, y0: number, y1: number, x0: number, x1: number, overview = -1): TypedArray {
  const ds = gdal.open(file);
  try {
    const c = ds.bands.count();
    const h = y1 - y0;
    const w = x1 - x0;
    let out: TypedArray | undefined;
    for (let k = 0; k < c; k++) {
      let b = ds.bands.get(k + 1);
      if (overview >= 0) b = b.overviews.get(overview);
      const px = b.pixels.read(x0, y0, w, h) as unknown as TypedArray;
      if (out === undefined) out = new (px.constructor as new (n: number) => TypedArray)(h * w * c);
      for (let p = 0; p < h * w; p++) out[p * c + k] = px[p];
    }
    return out as TypedArray;
  } finally {
    ds.close();
  }
}

/** The expected HWC window of an HWC array of width w and c channels. */
export function crop(data: TypedArray, w: number, c: number, y0: number, y1: number, x0: number, x1: number,
                     c0 = 0, c1 = c): TypedArray {
  const cc = c1 - c0;
  const out = new (data.constructor as new (n: number) => TypedArray)((y1 - y0) * (x1 - x0) * cc);
  let i = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      for (let k = c0; k < c1; k++) out[i++] = data[(y * w + x) * c + k];
    }
  }
  return out;
}

/** Elements of an NDArray in HWC order, as a plain array of numbers (the npy tests' helper). */
export { elements as hwc } from './npy-helpers';

/** Index of the first difference between two numeric sequences, or -1 (NaN equals NaN). */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

export const VALIDATOR = '/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_cloud_optimized_geotiff.py';
export const PYTHON = '/usr/bin/python3';
