/**
 * The `eventbridge` sink: each record as an event put on an event bus with PutEvents, ten entries
 * per request within EventBridge's size limit, retrying only the entries EventBridge failed with
 * a throttling or internal error.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { awsSettingsSchema, type ConfigOf, definePlugin, Type } from "@trailrouter/core";
import {
  type BatchSender,
  batchingSink,
  lingerMsSchema,
  type OutputFormat,
  outputFormatSchema,
  retrySettingsSchema,
} from "@trailrouter/delivery";
import { AUTO_DETAIL_TYPE, encodeEntry, putEventsEntryFailures } from "./encode.js";

/** 10 entries per PutEvents request. */
export const EVENTBRIDGE_MAX_BATCH_ENTRIES = 10;
/** The PutEvents size limit every account has had: 256 KiB per request. */
export const EVENTBRIDGE_DEFAULT_MAX_BYTES = 262_144;
/** The most the options accept: 1 MiB, the raised PutEvents limit. */
export const EVENTBRIDGE_MAX_BYTES = 1_048_576;

/** A bus name, or its ARN in any partition (the pattern of PutEvents' EventBusName). */
export const EVENT_BUS_NAME_PATTERN =
  "^(arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/)?[/.\\-_A-Za-z0-9]{1,256}$";
/** A dotted record path: `eventName`, `resources.ARN`. */
const RECORD_PATH_PATTERN = "^[^.\\s]+(\\.[^.\\s]+)*$";

const eventBridgeSinkSchema = Type.Object(
  {
    eventBusName: Type.String({
      pattern: EVENT_BUS_NAME_PATTERN,
      maxLength: 1600,
      default: "default",
      description: "Name or ARN of the event bus; an ARN can name a bus of another account",
    }),
    source: Type.String({
      minLength: 1,
      default: "trailrouter",
      description: 'The events\' source; PutEvents refuses sources starting with "aws."',
    }),
    detailType: Type.String({
      minLength: 1,
      maxLength: 128,
      default: "AWS API Call via CloudTrail",
      description: `The events' detail-type; "${AUTO_DETAIL_TYPE}": the one EventBridge gives the record's eventType (AWS Console Sign In via CloudTrail, ...)`,
    }),
    resources: Type.Optional(
      Type.Array(Type.String({ pattern: RECORD_PATH_PATTERN }), {
        minItems: 1,
        uniqueItems: true,
        description:
          "Record fields (dotted paths, going through arrays) whose string values become the event's resources, e.g. resources.ARN",
      }),
    ),
    maxBatchEntries: Type.Integer({
      minimum: 1,
      maximum: EVENTBRIDGE_MAX_BATCH_ENTRIES,
      default: EVENTBRIDGE_MAX_BATCH_ENTRIES,
      description: "Entries per PutEvents request",
    }),
    maxBatchBytes: Type.Integer({
      minimum: 1024,
      maximum: EVENTBRIDGE_MAX_BYTES,
      default: EVENTBRIDGE_DEFAULT_MAX_BYTES,
      description: "Sum of entry sizes per PutEvents request, as EventBridge counts them",
    }),
    maxEntryBytes: Type.Integer({
      minimum: 1024,
      maximum: EVENTBRIDGE_MAX_BYTES,
      default: EVENTBRIDGE_DEFAULT_MAX_BYTES,
      description: "Largest entry sent (time, source, detail-type, detail, resources); larger records fail",
    }),
    format: Type.Unsafe<OutputFormat>({
      ...outputFormatSchema,
      description:
        "What the event's detail carries: record, the CloudTrail record; eventbridge, EventBridge's CloudTrail event envelope around it",
    }),
    lingerMs: lingerMsSchema,
    retry: Type.Optional(retrySettingsSchema),
    aws: Type.Optional(awsSettingsSchema),
  },
  { additionalProperties: false },
);

/** The `eventbridge` sink's options, as its `create` gets them (defaults filled in). */
export type EventBridgeSinkConfig = ConfigOf<typeof eventBridgeSinkSchema>;

export const eventBridgeSink = definePlugin({
  kind: "sink",
  type: "eventbridge",
  description: "Put each record as an event on an EventBridge event bus with PutEvents",
  schema: eventBridgeSinkSchema,
  validate(config) {
    if (config.source.startsWith("aws.")) {
      return [{ path: "source", message: 'must not start with "aws." (PutEvents refuses AWS sources)' }];
    }
    return [];
  },
  create(config, context) {
    const client = context.aws.client(EventBridgeClient);
    const entryOptions = {
      eventBusName: config.eventBusName,
      source: config.source,
      detailType: config.detailType,
      resources: config.resources ?? [],
      format: config.format,
    };
    const sender: BatchSender<PutEventsRequestEntry> = {
      maxEntries: config.maxBatchEntries,
      maxBatchBytes: config.maxBatchBytes,
      maxEntryBytes: config.maxEntryBytes,
      encode: (record) => encodeEntry(record, entryOptions),
      async send(entries) {
        const response = await client.send(new PutEventsCommand({ Entries: [...entries] }));
        return putEventsEntryFailures(entries.length, response.Entries ?? []);
      },
    };
    return batchingSink(sender, context, {
      retry: config.retry,
      lingerMs: config.lingerMs,
      close: () => client.destroy(),
    });
  },
});
