export { encodeRecord, type SnsEntry } from "./encode.js";
export {
  SNS_DEFAULT_MAX_BYTES,
  SNS_MAX_BATCH_ENTRIES,
  SNS_MAX_BYTES,
  SNS_PERMANENT_ENTRY_ERRORS,
  SNS_TOPIC_ARN_PATTERN,
  type SnsSinkConfig,
  snsSink,
} from "./sink.js";
