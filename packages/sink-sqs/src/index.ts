export { encodeRecord, type SqsEntry } from "./encode.js";
export {
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_BYTES,
  SQS_PERMANENT_ENTRY_ERRORS,
  type SqsSinkConfig,
  sqsSink,
} from "./sink.js";
