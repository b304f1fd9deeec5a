/**
 * The `sqs` sink: records (or their EventBridge envelope) as JSON messages through
 * SendMessageBatch, ten at a time within SQS's 1 MiB limits, retrying only the entries SQS
 * failed on its side.
 */
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  type AwsSettings,
  awsSettingsSchema,
  type BatchSender,
  batchEntryFailures,
  batchingSink,
  DEFAULT_MESSAGE_GROUP_ID_FIELD,
  definePlugin,
  messageGroupIdFieldSchema,
  type OutputFormat,
  outputFormatSchema,
  type RetrySettings,
  retrySettingsSchema,
} from "@trailrouter/core";
import { encodeRecord, type SqsEntry } from "./encode.js";

/** SQS's own limits: 10 entries per batch, 1 MiB per message and per batch. */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BYTES = 1_048_576;

export interface SqsSinkConfig {
  queueUrl: string;
  maxBatchEntries?: number;
  maxBatchBytes?: number;
  maxMessageBytes?: number;
  messageGroupIdField?: string;
  format?: OutputFormat;
  retry?: RetrySettings;
  aws?: AwsSettings;
}

export const sqsSink = definePlugin<"sink", SqsSinkConfig>({
  kind: "sink",
  type: "sqs",
  description: "Send each record as a JSON message to an SQS queue (standard or FIFO) with SendMessageBatch",
  schema: {
    type: "object",
    properties: {
      queueUrl: {
        type: "string",
        format: "uri",
        description: "URL of the queue; a name ending in .fifo is a FIFO queue",
      },
      maxBatchEntries: {
        type: "integer",
        minimum: 1,
        maximum: SQS_MAX_BATCH_ENTRIES,
        default: SQS_MAX_BATCH_ENTRIES,
        description: "Entries per SendMessageBatch request",
      },
      maxBatchBytes: {
        type: "integer",
        minimum: 1024,
        maximum: SQS_MAX_BYTES,
        default: SQS_MAX_BYTES,
        description: "Sum of message sizes per SendMessageBatch request",
      },
      maxMessageBytes: {
        type: "integer",
        minimum: 1024,
        maximum: SQS_MAX_BYTES,
        default: SQS_MAX_BYTES,
        description:
          "Largest message sent (body + attributes); set it to the queue's MaximumMessageSize when that is lower",
      },
      messageGroupIdField: messageGroupIdFieldSchema,
      format: outputFormatSchema,
      retry: retrySettingsSchema,
      aws: awsSettingsSchema,
    },
    required: ["queueUrl"],
    additionalProperties: false,
  },
  create(config, context) {
    const client = context.aws.client(SQSClient);
    const fifo = config.queueUrl.endsWith(".fifo");
    const encodeOptions = {
      fifo,
      format: config.format ?? "record",
      messageGroupIdField: config.messageGroupIdField ?? DEFAULT_MESSAGE_GROUP_ID_FIELD,
    };
    const sender: BatchSender<SqsEntry> = {
      maxEntries: config.maxBatchEntries ?? SQS_MAX_BATCH_ENTRIES,
      maxBatchBytes: config.maxBatchBytes ?? SQS_MAX_BYTES,
      maxEntryBytes: config.maxMessageBytes ?? SQS_MAX_BYTES,
      encode: (record) => encodeRecord(record, encodeOptions),
      async send(entries) {
        const response = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: config.queueUrl,
            // The position in the request is the Id, so a failure names its entry directly.
            Entries: entries.map((entry, index) => ({ ...entry, Id: String(index) })),
          }),
        );
        return batchEntryFailures(entries.length, response.Successful ?? [], response.Failed ?? [], "SQS");
      },
    };
    return batchingSink(sender, context, {
      retry: config.retry,
      ordered: fifo,
      close: () => client.destroy(),
    });
  },
});
