/**
 * The `sns` sink: records (or their EventBridge envelope) as JSON messages published with
 * PublishBatch, ten at a time within SNS's size limits, each with the record's attributes so
 * subscriptions can filter; only the entries SNS failed on its side are retried.
 */
import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import { awsSettingsSchema, type ConfigOf, definePlugin, Type } from "@trailrouter/core";
import {
  batchingSink,
  type MessageService,
  messageBatchSender,
  messageSinkProperties,
  retrySettingsSchema,
} from "@trailrouter/delivery";
import { encodeRecord } from "./encode.js";

/** 10 entries per PublishBatch. */
export const SNS_MAX_BATCH_ENTRIES = 10;
/** SNS's default limit per message and per batch: 256 KiB. */
export const SNS_DEFAULT_MAX_BYTES = 262_144;
/** The most a topic can be raised to: 1 MiB. */
export const SNS_MAX_BYTES = 1_048_576;

/**
 * PublishBatch entry codes (with `SenderFault: true`) about the entry's own content or size: a
 * message too long, characters or attributes SNS refuses. Sent again, the entry is refused again,
 * so its record fails for good. Any other code (KMS, authorization, throttling, an internal
 * error) keeps the message for redelivery.
 */
export const SNS_PERMANENT_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  "InvalidParameter",
  "InvalidParameterValue",
  "ParameterValueInvalid",
  "ValidationException",
]);

export const SNS_TOPIC_ARN_PATTERN = "^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$";

const SNS: MessageService = {
  name: "SNS",
  request: "PublishBatch",
  maxEntries: SNS_MAX_BATCH_ENTRIES,
  maxBytes: SNS_MAX_BYTES,
  defaultBytes: SNS_DEFAULT_MAX_BYTES,
  maxMessageBytesDescription:
    "Largest message published (body + attributes); raise it only for a topic that allows more",
  permanentEntryErrors: SNS_PERMANENT_ENTRY_ERRORS,
};

const snsSinkSchema = Type.Object(
  {
    topicArn: Type.String({
      pattern: SNS_TOPIC_ARN_PATTERN,
      description: "ARN of the topic; a name ending in .fifo is a FIFO topic",
    }),
    ...messageSinkProperties(SNS),
    retry: Type.Optional(retrySettingsSchema),
    aws: Type.Optional(awsSettingsSchema),
  },
  { additionalProperties: false },
);

/** The `sns` sink's options, as its `create` gets them (defaults filled in). */
export type SnsSinkConfig = ConfigOf<typeof snsSinkSchema>;

export const snsSink = definePlugin({
  kind: "sink",
  type: "sns",
  description:
    "Publish each record as a JSON message to an SNS topic (standard or FIFO) with PublishBatch, with attributes for filter policies",
  schema: snsSinkSchema,
  create(config, context) {
    const client = context.aws.client(SNSClient);
    const fifo = config.topicArn.endsWith(".fifo");
    const sender = messageBatchSender(SNS, { ...config, fifo }, encodeRecord, (PublishBatchRequestEntries) =>
      client.send(new PublishBatchCommand({ TopicArn: config.topicArn, PublishBatchRequestEntries })),
    );
    return batchingSink(sender, context, {
      retry: config.retry,
      ordered: fifo,
      lingerMs: config.lingerMs,
      close: () => client.destroy(),
    });
  },
});
