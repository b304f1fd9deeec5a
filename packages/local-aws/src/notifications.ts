/**
 * The SQS message bodies that announce CloudTrail log files, byte for byte in the shapes AWS sends.
 * No I/O: ids and times are fresh unless given, so tests can pin them.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";

/** What CloudTrail publishes to its topic when a trail is created or its topic changes. */
export const CLOUDTRAIL_VALIDATION_MESSAGE = "CloudTrail validation message.";

/** CloudTrail's own notification: `{"s3Bucket":"…","s3ObjectKey":["…"]}`. */
export function cloudTrailNotification(bucket: string, keys: readonly string[]): string {
  return JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys });
}

export interface SnsEnvelopeOptions {
  topicArn: string;
  /** Absent from the envelope when the publisher gave none, as SNS does. */
  subject?: string;
  messageId?: string;
  timestamp?: Date;
  /** The subscription the envelope is delivered to; it ends the UnsubscribeURL. Random by default. */
  subscriptionId?: string;
}

function regionOfArn(arn: string): string {
  const region = arn.split(":")[3];
  if (!region) throw new RangeError(`not an ARN with a region: "${arn}"`);
  return region;
}

/**
 * A message as an SQS queue subscribed to an SNS topic (without raw delivery) receives it. SNS
 * writes the envelope pretty-printed with `" : "` separators. The signature is not a real one:
 * only AWS holds the key to sign with.
 */
export function snsEnvelope(message: string, options: SnsEnvelopeOptions): string {
  const { topicArn } = options;
  const region = regionOfArn(topicArn);
  const messageId = options.messageId ?? randomUUID();
  const timestamp = (options.timestamp ?? new Date()).toISOString();
  const fields: [string, string][] = [
    ["Type", "Notification"],
    ["MessageId", messageId],
    ["TopicArn", topicArn],
  ];
  if (options.subject !== undefined) fields.push(["Subject", options.subject]);
  const stringToSign = `Message\n${message}\nMessageId\n${messageId}\n${
    options.subject === undefined ? "" : `Subject\n${options.subject}\n`
  }Timestamp\n${timestamp}\nTopicArn\n${topicArn}\nType\nNotification\n`;
  fields.push(
    ["Message", message],
    ["Timestamp", timestamp],
    ["SignatureVersion", "1"],
    ["Signature", createHash("sha512").update(stringToSign).digest("base64")],
    ["SigningCertURL", `https://sns.${region}.amazonaws.com/SimpleNotificationService-${"0".repeat(32)}.pem`],
    [
      "UnsubscribeURL",
      `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:${options.subscriptionId ?? randomUUID()}`,
    ],
  );
  const lines = fields.map(([name, value]) => `  ${JSON.stringify(name)} : ${JSON.stringify(value)}`);
  return `{\n${lines.join(",\n")}\n}`;
}

/**
 * How S3 writes keys in event notifications: form-URL-encoded (space as `+`), `/` kept.
 * Letters, digits and `-_.*` stay as they are, every other UTF-8 byte becomes `%XX`.
 */
export function s3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/")
    .replace(/%20/g, "+");
}

function requestId(): string {
  return randomBytes(8).toString("hex").toUpperCase();
}

export interface S3EventOptions {
  region?: string;
  eventTime?: Date;
  /** Default `ObjectCreated:Put`, what CloudTrail's PutObject triggers. */
  eventName?: string;
  /** Object size in bytes, the same for every key. */
  size?: number;
}

/** An S3 event notification (`{"Records":[{"eventSource":"aws:s3",…}]}`), one record per key. */
export function s3EventNotification(
  bucket: string,
  keys: readonly string[],
  options: S3EventOptions = {},
): string {
  const eventTime = (options.eventTime ?? new Date()).toISOString();
  return JSON.stringify({
    Records: keys.map((key, index) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: options.region ?? "us-east-1",
      eventTime,
      eventName: options.eventName ?? "ObjectCreated:Put",
      userIdentity: { principalId: "AWS:AROAEXAMPLEROLEID:regional-delivery-session" },
      requestParameters: { sourceIPAddress: "cloudtrail.amazonaws.com" },
      responseElements: { "x-amz-request-id": requestId(), "x-amz-id-2": randomBytes(48).toString("base64") },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "trail-log-created",
        bucket: {
          name: bucket,
          ownerIdentity: { principalId: "A3NL1KOZZKEXAMPLE" },
          arn: `arn:aws:s3:::${bucket}`,
        },
        object: {
          key: s3EventKey(key),
          size: options.size ?? 0,
          eTag: createHash("md5").update(key).digest("hex"),
          sequencer: (Date.parse(eventTime) * 1000 + index).toString(16).toUpperCase().padStart(18, "0"),
        },
      },
    })),
  });
}

/** What S3 sends to a queue when event notifications are first configured on a bucket. */
export function s3TestEvent(bucket: string, options: { time?: Date } = {}): string {
  return JSON.stringify({
    Service: "Amazon S3",
    Event: "s3:TestEvent",
    Time: (options.time ?? new Date()).toISOString(),
    Bucket: bucket,
    RequestId: requestId(),
    HostId: randomBytes(48).toString("base64"),
  });
}

export interface EventBridgeObjectCreatedOptions {
  accountId?: string;
  region?: string;
  time?: Date;
  size?: number;
}

/** An S3 "Object Created" event routed by EventBridge to a queue. Its key is not URL-encoded. */
export function eventBridgeObjectCreated(
  bucket: string,
  key: string,
  options: EventBridgeObjectCreatedOptions = {},
): string {
  const accountId = options.accountId ?? "111122223333";
  const time = (options.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "Object Created",
    source: "aws.s3",
    account: accountId,
    time,
    region: options.region ?? "us-east-1",
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: "0",
      bucket: { name: bucket },
      object: {
        key,
        size: options.size ?? 0,
        etag: createHash("md5").update(key).digest("hex"),
        sequencer: (Date.parse(time) * 1000).toString(16).toUpperCase().padStart(18, "0"),
      },
      "request-id": requestId(),
      requester: "cloudtrail.amazonaws.com",
      "source-ip-address": "cloudtrail.amazonaws.com",
      reason: "PutObject",
    },
  });
}
