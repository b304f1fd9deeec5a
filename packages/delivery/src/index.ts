/**
 * The delivery engine of the sinks of batching services (SQS, SNS, EventBridge, or a plugin's
 * own): a sink describes its service with a BatchSender, and `batchingSink` makes the Sink.
 */
export { type BatchDeliveryOptions, deliverInBatches } from "./batch.js";
export { CoalescingDelivery, type CoalescingDeliveryOptions, lingerMsSchema } from "./coalesce.js";
export {
  type EventBridgeCloudTrailEvent,
  eventBridgeDetailType,
  formatRecord,
  type OutputFormat,
  outputFormatSchema,
  toEventBridgeEvent,
} from "./format.js";
export { wireJson } from "./json.js";
export {
  type EncodedMessage,
  encodeMessage,
  type MessageBatchAnswer,
  type MessageEncodeOptions,
  type MessageService,
  type MessageSinkOptions,
  messageBatchSender,
  messageServicesAccept,
  messageSinkProperties,
} from "./message.js";
export { type RetrySettings, retrySettingsSchema } from "./retry.js";
export type { BatchSender, BatchSendResult, EncodedEntry, EntryFailure } from "./sender.js";
export { batchingSink } from "./sink.js";
