export {
  AUTO_DETAIL_TYPE,
  type EntryOptions,
  encodeEntry,
  PERMANENT_ENTRY_ERRORS,
  putEventsEntryFailures,
  putEventsEntrySize,
  RETRYABLE_ENTRY_ERRORS,
  resourceValues,
} from "./encode.js";
export {
  EVENT_BUS_NAME_PATTERN,
  EVENTBRIDGE_DEFAULT_MAX_BYTES,
  EVENTBRIDGE_MAX_BATCH_ENTRIES,
  EVENTBRIDGE_MAX_BYTES,
  type EventBridgeSinkConfig,
  eventBridgeSink,
} from "./sink.js";
