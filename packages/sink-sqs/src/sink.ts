/**
 * The `sqs` sink: records (or their EventBridge envelope) as JSON messages through
 * SendMessageBatch, ten at a time within SQS's 1 MiB limits, retrying only the entries SQS
 * failed on its side.
 */
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { awsSettingsSchema, type ConfigOf, definePlugin, Type } from "@trailrouter/core";
import {
  batchingSink,
  type MessageService,
  messageBatchSender,
  messageSinkProperties,
  retrySettingsSchema,
} from "@trailrouter/delivery";
import { encodeRecord } from "./encode.js";

/** SQS's own limits: 10 entries per batch, 1 MiB per message and per batch. */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BYTES = 1_048_576;

/**
 * SendMessageBatch entry codes (with `SenderFault: true`) about the entry's own content or size:
 * characters SQS refuses, a message over the queue's MaximumMessageSize, attributes it cannot
 * take. Sent again, the entry is refused again, so its record fails for good. Any other code
 * (KMS, a missing parameter, throttling, an internal error) keeps the message for redelivery.
 */
export const SQS_PERMANENT_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  "InvalidMessageContents",
  "MessageTooLong",
  "InvalidParameterValue",
  "InvalidAttributeName",
  "InvalidAttributeValue",
]);

const SQS: MessageService = {
  name: "SQS",
  request: "SendMessageBatch",
  maxEntries: SQS_MAX_BATCH_ENTRIES,
  maxBytes: SQS_MAX_BYTES,
  defaultBytes: SQS_MAX_BYTES,
  maxMessageBytesDescription:
    "Largest message sent (body + attributes); set it to the queue's MaximumMessageSize when that is lower",
  permanentEntryErrors: SQS_PERMANENT_ENTRY_ERRORS,
};

const sqsSinkSchema = Type.Object(
  {
    queueUrl: Type.String({
      format: "uri",
      description: "URL of the queue; a name ending in .fifo is a FIFO queue",
    }),
    ...messageSinkProperties(SQS),
    retry: Type.Optional(retrySettingsSchema),
    aws: Type.Optional(awsSettingsSchema),
  },
  { additionalProperties: false },
);

/** The `sqs` sink's options, as its `create` gets them (defaults filled in). */
export type SqsSinkConfig = ConfigOf<typeof sqsSinkSchema>;

export const sqsSink = definePlugin({
  kind: "sink",
  type: "sqs",
  description: "Send each record as a JSON message to an SQS queue (standard or FIFO) with SendMessageBatch",
  schema: sqsSinkSchema,
  create(config, context) {
    const client = context.aws.client(SQSClient);
    const fifo = config.queueUrl.endsWith(".fifo");
    const sender = messageBatchSender(SQS, { ...config, fifo }, encodeRecord, (Entries) =>
      client.send(new SendMessageBatchCommand({ QueueUrl: config.queueUrl, Entries })),
    );
    return batchingSink(sender, context, {
      retry: config.retry,
      ordered: fifo,
      lingerMs: config.lingerMs,
      close: () => client.destroy(),
    });
  },
});
