export {
  CloudTrailDecoder,
  type CloudTrailDecoderConfig,
  type CloudTrailDecoderOptions,
  cloudtrailDecoder,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  MAX_DECOMPRESSED_BYTES_LIMIT,
} from "./cloudtrail.js";
