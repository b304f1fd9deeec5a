/**
 * The `sns` sink: records (or their EventBridge envelope) as JSON messages published with
 * PublishBatch, ten at a time within SNS's size limits, each with the record's attributes so
 * subscriptions can filter; only the entries SNS failed on its side are retried.
 */
import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
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
import { encodeRecord, type SnsEntry } from "./encode.js";

/** 10 entries per PublishBatch. */
export const SNS_MAX_BATCH_ENTRIES = 10;
/** SNS's default limit per message and per batch: 256 KiB. */
export const SNS_DEFAULT_MAX_BYTES = 262_144;
/** The most a topic can be raised to: 1 MiB. */
export const SNS_MAX_BYTES = 1_048_576;

export const SNS_TOPIC_ARN_PATTERN = "^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$";

export interface SnsSinkConfig {
  topicArn: string;
  maxBatchEntries?: number;
  maxBatchBytes?: number;
  maxMessageBytes?: number;
  messageGroupIdField?: string;
  format?: OutputFormat;
  retry?: RetrySettings;
  aws?: AwsSettings;
}

export const snsSink = definePlugin<"sink", SnsSinkConfig>({
  kind: "sink",
  type: "sns",
  description:
    "Publish each record as a JSON message to an SNS topic (standard or FIFO) with PublishBatch, with attributes for filter policies",
  schema: {
    type: "object",
    properties: {
      topicArn: {
        type: "string",
        pattern: SNS_TOPIC_ARN_PATTERN,
        description: "ARN of the topic; a name ending in .fifo is a FIFO topic",
      },
      maxBatchEntries: {
        type: "integer",
        minimum: 1,
        maximum: SNS_MAX_BATCH_ENTRIES,
        default: SNS_MAX_BATCH_ENTRIES,
        description: "Entries per PublishBatch request",
      },
      maxBatchBytes: {
        type: "integer",
        minimum: 1024,
        maximum: SNS_MAX_BYTES,
        default: SNS_DEFAULT_MAX_BYTES,
        description: "Sum of message sizes per PublishBatch request",
      },
      maxMessageBytes: {
        type: "integer",
        minimum: 1024,
        maximum: SNS_MAX_BYTES,
        default: SNS_DEFAULT_MAX_BYTES,
        description:
          "Largest message published (body + attributes); raise it only for a topic that allows more",
      },
      messageGroupIdField: messageGroupIdFieldSchema,
      format: outputFormatSchema,
      retry: retrySettingsSchema,
      aws: awsSettingsSchema,
    },
    required: ["topicArn"],
    additionalProperties: false,
  },
  create(config, context) {
    const client = context.aws.client(SNSClient);
    const fifo = config.topicArn.endsWith(".fifo");
    const encodeOptions = {
      fifo,
      format: config.format ?? "record",
      messageGroupIdField: config.messageGroupIdField ?? DEFAULT_MESSAGE_GROUP_ID_FIELD,
    };
    const sender: BatchSender<SnsEntry> = {
      maxEntries: config.maxBatchEntries ?? SNS_MAX_BATCH_ENTRIES,
      maxBatchBytes: config.maxBatchBytes ?? SNS_DEFAULT_MAX_BYTES,
      maxEntryBytes: config.maxMessageBytes ?? SNS_DEFAULT_MAX_BYTES,
      encode: (record) => encodeRecord(record, encodeOptions),
      async send(entries) {
        const response = await client.send(
          new PublishBatchCommand({
            TopicArn: config.topicArn,
            // The position in the request is the Id, so a failure names its entry directly.
            PublishBatchRequestEntries: entries.map((entry, index) => ({ ...entry, Id: String(index) })),
          }),
        );
        return batchEntryFailures(entries.length, response.Successful ?? [], response.Failed ?? [], "SNS");
      },
    };
    return batchingSink(sender, context, {
      retry: config.retry,
      ordered: fifo,
      close: () => client.destroy(),
    });
  },
});
