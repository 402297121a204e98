/** ndsampler: fast random access to sub-regions of images. */
export {
  NdsamplerError, NpyFormatError, RegionError, FileError, GdalError, BackendConfigError,
  ClosedError, FramesError, ERROR_CODES,
} from './errors';
export type { ErrorProps } from './errors';
export type { DType, NDArray, TypedArray, Shape3 } from './ndarray';
export { allocate, DTYPES } from './ndarray';
export type { Region, SliceLike } from './region';
export { normalizeRegion } from './region';
export { openImage, writeNpy, NpyReader, RasterReader } from './readers';
export type { ImageReader, ReadOptions } from './readers';
export {
  writeCog, writeCogAsync, isCog, coerceCogConfig, DEFAULT_COG_CONFIG, COG_CONFIG_KEYS, cogCompressions,
  convertToNpy, convertToNpyAsync, writeRaster, tileCacheStats, setTileCacheBudget, setMaxOpenDatasets,
  datasetStats, gdalVersion,
} from './cog';
export type { CogConfig, CogOverviews, CogPredictor, WriteRasterOptions } from './cog';
export type { RasterInfo, TileCacheStats, DatasetStats } from './native';
export { Frames, defaultWorkdir } from './frames';
export type {
  FramesOptions, LoadRegionOptions, LoadImageOptions, PrepareOptions, PrepareReport, PrepareFailure, LazyFrame,
  RegionRequest, FramesJSON, FramesClass, Affine, BackendConfig, BackendSpec, BackendType, ChannelInfo, HashidMode,
  ImageId, Pathinfo,
} from './frames';
export { SimpleFrames, DEFAULT_CHANNEL } from './simple-frames';
export type { SimpleFramesOptions } from './simple-frames';
export { AlignableImageData } from './alignable';
export type { AlignableRegionOptions, Interpolation, Prefused, PrefusedChannel } from './alignable';
