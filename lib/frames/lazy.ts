/**
 * The LazyFrame of Frames.loadFrame: reads nothing until get(region), and then only that region,
 * from the cache entry when it exists, else from the source (it never builds an entry). The header
 * (shape, dtype) is read once, on first use. Runs on the calling JS thread; getAsync reads on the
 * libuv pool.
 */
import type { ImageId } from '../cache/config';
import type { DType, NDArray, Shape3 } from '../ndarray';
import { parseRegion, resolveRegion } from '../region';
import type { Region } from '../region';
import * as v from '../validate';
import { checkCrop, CROP_KEYS, cropOptions, PLAIN_CROP, readCrop, readCropAsync } from './crop';
import type { CropOptions } from './crop';
import type { ImageTable } from './images';
import type { LazyFrame } from './types';

/**
 * @param images the Frames object's current table, asked at each use (updateBackend replaces it,
 *   and the frame follows); the caller has checked that `imageId` exists.
 */
export function lazyFrame(imageId: ImageId, images: () => ImageTable): LazyFrame {
  let meta: { shape: Shape3; dtype: DType } | null = null;
  const header = (): { shape: Shape3; dtype: DType } => {
    if (meta !== null) return meta;
    const table = images();
    const state = table.get(imageId);
    const chan = table.fast(state, undefined);
    if (chan !== null) {
      const r = table.opener.open(chan, 'ifExists');
      meta = { shape: r.shape, dtype: r.dtype };
    } else {
      meta = table.alignable(state).header('ifExists');
    }
    return meta;
  };
  return {
    imageId,
    get shape(): Shape3 {
      return [...header().shape] as Shape3;
    },
    get dtype(): DType {
      return header().dtype;
    },
    get: (region?: Region | null, opts?: CropOptions): NDArray => {
      const crop = checkCrop(v.options(opts, 'options', CROP_KEYS) as CropOptions);
      const table = images();
      const state = table.get(imageId);
      const chan = table.fast(state, undefined);
      if (chan !== null) {
        const reader = table.opener.open(chan, 'ifExists');
        if (crop === PLAIN_CROP) return reader.read(region);
        return readCrop(reader, resolveRegion(parseRegion(region), reader.shape, crop.boundless), crop);
      }
      return table.alignable(state).loadRegion(region, { cache: true, ...cropOptions(crop) }) as NDArray;
    },
    getAsync: async (region?: Region | null, opts?: CropOptions): Promise<NDArray> => {
      const crop = checkCrop(v.options(opts, 'options', CROP_KEYS) as CropOptions);
      const table = images();
      const state = table.get(imageId);
      const chan = table.fast(state, undefined);
      if (chan === null) {
        return await table.alignable(state).loadRegionAsync(region, { cache: true, ...cropOptions(crop) }) as NDArray;
      }
      const lease = await table.opener.openAsync(chan, 'ifExists');
      try {
        if (crop === PLAIN_CROP) return await lease.reader.readAsync(region);
        return await readCropAsync(lease.reader, resolveRegion(parseRegion(region), lease.reader.shape, crop.boundless), crop);
      } finally {
        lease.release();
      }
    },
  };
}
