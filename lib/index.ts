/** ndsampler: fast random access to sub-regions of images. */
export {
  NdsamplerError, NpyFormatError, RegionError, FileError, GdalError, BackendConfigError,
  ClosedError, FramesError, AbortError, ERROR_CODES,
} from './errors';
export type { ErrorProps } from './errors';
export type { DType, NDArray, TypedArray, TypedArrayOf, Shape3 } from './ndarray';
export { allocate, DTYPES } from './ndarray';
export type { Region, SliceLike } from './region';
export { normalizeRegion } from './region';
export { openImage, writeNpy, NpyReader, RasterReader, setMappingBudget, mappingStats } from './readers';
export type { ImageReader, ReadOptions, MappingStats } from './readers';
export { openImageAsync } from './readers-async';
export type { OpenImageAsyncOptions } from './readers-async';
export { COG_CONFIG_DEFAULTS, COG_CONFIG_KEYS } from './cog-config';
export type { CogConfig, CogOverviews, CogPredictor } from './cog-config';
export {
  writeCog, writeCogAsync, isCog, coerceCogConfig, cogCompressions,
  convertToNpy, convertToNpyAsync, writeRaster, tileCacheStats, setTileCacheBudget, setMaxOpenDatasets,
  datasetStats, setPixelLimit, DEFAULT_PIXEL_LIMIT, gdalVersion,
  setRemoteOptions, statRemote, statRemoteAsync, clearRemoteCache, REMOTE_DEFAULTS,
} from './gdal';
export type { WriteRasterOptions, RemoteStat } from './gdal';
export { encode, encodeAsync, ENCODE_FORMATS, readVsimem, unlinkVsimem } from './encode';
export type { EncodeFormat, EncodeOptions } from './encode';
export { mergeManifests } from './remote/manifest';
export { REMOTE_STAMP_TTL_MS } from './remote/stamps';
export type { Manifest, ManifestEntry, MergeReport } from './remote/manifest';
export type { RemoteCacheOptions } from './remote/publish';
export type { RasterInfo, TileCacheStats, DatasetStats } from './native';
export { Frames, defaultWorkdir } from './frames/frames';
export type {
  FramesOptions, LoadRegionOptions, CropOptions, LoadImageOptions, PrepareOptions, PrepareReport, PrepareFailure, LazyFrame,
  RegionRequest, FramesJSON, FramesClass, Affine, BackendConfig, BackendSpec, BackendType, ChannelInfo, HashidMode,
  ImageId, Pathinfo,
} from './frames/frames';
export { SimpleFrames, DEFAULT_CHANNEL } from './frames/simple-frames';
export type { SimpleFramesOptions } from './frames/simple-frames';
export { CocoFrames, COCO_DEFAULT_CHANNEL } from './frames/coco-frames';
export type { CocoFramesOptions, CocoDataset, CocoImage, CocoAsset } from './frames/coco-frames';
export { parseChannels, normalizeChannels, CHANNEL_ALIASES, ALL_CHANNELS } from './frames/channels';
export { affineFromParams } from './frames/coco-warp';
export { AlignableImageData } from './frames/alignable';
export type { AlignableRegionOptions, Interpolation, Prefused, PrefusedChannel } from './frames/alignable';
export { setThreadPoolNice, setThreadPoolSize, threadPoolNice, threadPoolSize } from './frames/batch';
export type { Batch, BatchOptions, BatchRequest, BatchNormalize, BatchLayout } from './frames/batch';
export type { Sampler, SamplerBatch, SamplerOptions, SamplerState, RegionsOption } from './frames/sampler';
export { CocoSampler } from './labels/coco-sampler';
export type { CocoSamplerOptions, VideoTarget, VideoStreamOptions } from './labels/coco-sampler';
export type { Video, VideoId } from './labels/videos';
export type { VideoArray, VideoSample } from './labels/video-sample';
export type { VideoBatchOptions, VideoLabeledBatch, VideoLayout } from './labels/video-batch';
export type { Box } from './labels/checks';
export type { Target, Augment, WindowDims } from './labels/targets';
export type { Sample, SampleOptions } from './labels/sample';
export type { SampleAnnotations } from './labels/geometry';
export type { LabeledBatch, LabeledBatchOptions } from './labels/labeled-batch';
export type { Masks, MaskMode } from './labels/masks';
export type { StreamOptions } from './labels/stream';
export type { AnnotationId, Category } from './labels/annotations';
export type { SkippedAnnotation } from './labels/store';
