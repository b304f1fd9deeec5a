/**
 * What a sink sends for a record: the CloudTrail record itself, or the envelope EventBridge wraps
 * CloudTrail records in, so consumers written for EventBridge's CloudTrail events work unchanged
 * off a queue or a topic.
 */
import { createHash } from "node:crypto";
import { type Static, type TrailRecord, Type } from "@trailrouter/core";

const OUTPUT_FORMATS = ["record", "eventbridge"] as const;

/**
 * The `format` option every sink takes: a string of a list of values (an `enum`, which the plugin
 * reference lists and a file's error names), typed as their union.
 */
export const outputFormatSchema = Type.Unsafe<(typeof OUTPUT_FORMATS)[number]>({
  type: "string",
  enum: [...OUTPUT_FORMATS],
  default: "record",
  description:
    "record: the CloudTrail record as written; eventbridge: EventBridge's CloudTrail event envelope",
});

export type OutputFormat = Static<typeof outputFormatSchema>;

/** An event as EventBridge delivers a CloudTrail record. */
export interface EventBridgeCloudTrailEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TrailRecord;
}

/** EventBridge's detail-type for each CloudTrail eventType. */
const DETAIL_TYPES: Record<string, string> = {
  AwsApiCall: "AWS API Call via CloudTrail",
  AwsConsoleSignIn: "AWS Console Sign In via CloudTrail",
  AwsConsoleAction: "AWS Console Action via CloudTrail",
  AwsServiceEvent: "AWS Service Event via CloudTrail",
};

export function eventBridgeDetailType(record: TrailRecord): string {
  if (record.eventCategory === "Insight") return "AWS Insight via CloudTrail";
  const eventType = String(record.eventType);
  // Own keys only: an eventType of "toString" or "constructor" must not find Object's methods.
  return Object.hasOwn(DETAIL_TYPES, eventType) ? DETAIL_TYPES[eventType]! : DETAIL_TYPES.AwsApiCall!;
}

/** `iam.amazonaws.com` → `aws.iam`, as EventBridge names the source of a CloudTrail event. */
export function eventBridgeSource(record: TrailRecord): string {
  const service = String(record.eventSource ?? "").replace(/\.amazonaws\.com$/, "");
  return `aws.${service || "cloudtrail"}`;
}

/**
 * The event id is derived from the record's eventID (a name-based UUID), so a record delivered
 * twice carries the same id both times and consumers can deduplicate on it.
 */
export function eventBridgeEventId(record: TrailRecord): string {
  const hash = createHash("sha256")
    .update(`trailrouter:${record.eventID ?? JSON.stringify(record)}`)
    .digest("hex");
  const variant = ((Number.parseInt(hash[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hash.slice(0, 8)}-${hash.slice(8, 12)}-5${hash.slice(13, 16)}-${variant}${hash.slice(17, 20)}-${hash.slice(20, 32)}`;
}

export function toEventBridgeEvent(record: TrailRecord): EventBridgeCloudTrailEvent {
  return {
    version: "0",
    id: eventBridgeEventId(record),
    "detail-type": eventBridgeDetailType(record),
    source: eventBridgeSource(record),
    account: String(record.recipientAccountId ?? ""),
    time: String(record.eventTime ?? ""),
    region: String(record.awsRegion ?? ""),
    resources: [],
    detail: record,
  };
}

/** The payload a sink sends for `record` in the given format. */
export function formatRecord(
  record: TrailRecord,
  format: OutputFormat = outputFormatSchema.default,
): TrailRecord | EventBridgeCloudTrailEvent {
  return format === "eventbridge" ? toEventBridgeEvent(record) : record;
}
