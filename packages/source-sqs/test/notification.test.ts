import { NotificationError } from "@trailrouter/core";
import { classifyTrailKey, parseNotification } from "@trailrouter/source-sqs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const context = { messageId: "3b1c5a9e-6f0e-4c1e-9a43-0d5c7f1e2a11" };

const LOG_KEY_1 =
  "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/111122223333_CloudTrail_us-east-1_20261126T1205Z_Qb3XxYb2GZRzXKkK.json.gz";
const LOG_KEY_2 =
  "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/26/111122223333_CloudTrail_eu-west-1_20261126T1205Z_8fJ2mNq0cA1rT5Wd.json.gz";

/** The envelope SNS wraps around a message delivered to SQS without raw message delivery. */
function snsEnvelope(message: string): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: "5e4f3a2b-8c1d-5b9e-a7f6-0e1d2c3b4a59",
    TopicArn: "arn:aws:sns:us-east-1:111122223333:cloudtrail-log-delivery",
    Subject: "[AWS CloudTrail] New log files delivered",
    Message: message,
    Timestamp: "2026-11-26T12:05:31.412Z",
    SignatureVersion: "1",
    Signature: "b0VzRUhTQnFxWmp0Rm1qYlZyY0J6V2dNdWZ0cWdnT3F6Y3ZtQk5YbG9jcm9hT0R4U3Z2RkJrY2xwQ3Jla2h1eFF3PT0=",
    SigningCertURL:
      "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
    UnsubscribeURL:
      "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:111122223333:cloudtrail-log-delivery:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
  });
}

function s3Event(records: { eventName: string; bucket?: string; key?: string }[]): string {
  return JSON.stringify({
    Records: records.map(({ eventName, bucket, key }) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: "2026-11-26T12:05:31.123Z",
      eventName,
      userIdentity: { principalId: "AWS:AROAEXAMPLEID:regionalDeliverySession" },
      requestParameters: { sourceIPAddress: "10.0.12.34" },
      responseElements: {
        "x-amz-request-id": "C3D13FE58DE4C810",
        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
      },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "cloudtrail-logs",
        bucket: {
          ...(bucket === undefined ? {} : { name: bucket }),
          ownerIdentity: { principalId: "A3NL1KOZZKExample" },
          arn: `arn:aws:s3:::${bucket}`,
        },
        object: {
          ...(key === undefined ? {} : { key }),
          size: 1024,
          eTag: "d41d8cd98f00b204e9800998ecf8427e",
          sequencer: "0055AED6DCD90281E5",
        },
      },
    })),
  });
}

function eventBridgeEvent(detailType: string, detail: Record<string, unknown>): string {
  return JSON.stringify({
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": detailType,
    source: "aws.s3",
    account: "111122223333",
    time: "2026-11-26T12:05:31Z",
    region: "us-east-1",
    resources: ["arn:aws:s3:::trail-bucket"],
    detail,
  });
}

const S3_TEST_EVENT = JSON.stringify({
  Service: "Amazon S3",
  Event: "s3:TestEvent",
  Time: "2026-11-26T12:00:00.000Z",
  Bucket: "trail-bucket",
  RequestId: "5582815E1AEA5ADF",
  HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
});

const cloudTrailMessage = JSON.stringify({ s3Bucket: "trail-bucket", s3ObjectKey: [LOG_KEY_1, LOG_KEY_2] });

function notificationError(body: string): NotificationError {
  try {
    parseNotification(body, context);
  } catch (error) {
    expect(error).toBeInstanceOf(NotificationError);
    return error as NotificationError;
  }
  throw new Error(`expected a NotificationError for ${body}`);
}

describe("parseNotification", () => {
  it("reads every key of CloudTrail's notification inside an SNS envelope", () => {
    expect(parseNotification(snsEnvelope(cloudTrailMessage), context)).toEqual({
      type: "cloudtrail",
      viaSns: true,
      objects: [
        { bucket: "trail-bucket", key: LOG_KEY_1 },
        { bucket: "trail-bucket", key: LOG_KEY_2 },
      ],
    });
  });

  it("reads CloudTrail's notification delivered raw", () => {
    expect(parseNotification(cloudTrailMessage, context)).toEqual({
      type: "cloudtrail",
      viaSns: false,
      objects: [
        { bucket: "trail-bucket", key: LOG_KEY_1 },
        { bucket: "trail-bucket", key: LOG_KEY_2 },
      ],
    });
  });

  it("decodes S3 event keys: `+` is a space, %XX an escaped character", () => {
    const body = s3Event([
      {
        eventName: "ObjectCreated:Put",
        bucket: "trail-bucket",
        key: "audit+logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/111122223333_CloudTrail_us-east-1_20261126T1205Z_a%3Ab.json.gz",
      },
    ]);
    expect(parseNotification(body, context)).toEqual({
      type: "s3-event",
      viaSns: false,
      objects: [
        {
          bucket: "trail-bucket",
          key: "audit logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/111122223333_CloudTrail_us-east-1_20261126T1205Z_a:b.json.gz",
          keyAsWritten:
            "audit+logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/111122223333_CloudTrail_us-east-1_20261126T1205Z_a%3Ab.json.gz",
        },
      ],
    });
  });

  it("reads an S3 event inside an SNS envelope, one object per ObjectCreated record", () => {
    const body = snsEnvelope(
      s3Event([
        { eventName: "ObjectCreated:Put", bucket: "trail-bucket", key: LOG_KEY_1 },
        { eventName: "ObjectCreated:CompleteMultipartUpload", bucket: "trail-bucket", key: LOG_KEY_2 },
      ]),
    );
    expect(parseNotification(body, context)).toEqual({
      type: "s3-event",
      viaSns: true,
      objects: [
        { bucket: "trail-bucket", key: LOG_KEY_1 },
        { bucket: "trail-bucket", key: LOG_KEY_2 },
      ],
    });
  });

  it("understands S3 events that announce no log (ObjectRemoved)", () => {
    const body = s3Event([{ eventName: "ObjectRemoved:Delete", bucket: "trail-bucket", key: LOG_KEY_1 }]);
    expect(parseNotification(body, context)).toEqual({ type: "s3-event", viaSns: false, objects: [] });
  });

  it("keeps only the ObjectCreated records of a mixed S3 event", () => {
    const body = s3Event([
      { eventName: "ObjectRemoved:Delete", bucket: "trail-bucket", key: LOG_KEY_1 },
      { eventName: "ObjectCreated:Copy", bucket: "trail-bucket", key: LOG_KEY_2 },
    ]);
    expect(parseNotification(body, context).objects).toEqual([{ bucket: "trail-bucket", key: LOG_KEY_2 }]);
  });

  it("reads an S3 Object Created event from EventBridge, decoding its key", () => {
    const body = eventBridgeEvent("Object Created", {
      version: "0",
      bucket: { name: "trail-bucket" },
      object: {
        key: "org+trail/AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/11/26/f%3Ag.json.gz",
        size: 5,
      },
      "request-id": "N4N7GDK58NMKJ12R",
      requester: "cloudtrail.amazonaws.com",
      reason: "PutObject",
    });
    expect(parseNotification(body, context)).toEqual({
      type: "eventbridge",
      viaSns: false,
      objects: [
        {
          bucket: "trail-bucket",
          key: "org trail/AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/11/26/f:g.json.gz",
          keyAsWritten:
            "org+trail/AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2026/11/26/f%3Ag.json.gz",
        },
      ],
    });
  });

  it("understands other S3 object events from EventBridge as announcing nothing", () => {
    const body = eventBridgeEvent("Object Deleted", {
      bucket: { name: "trail-bucket" },
      object: { key: LOG_KEY_1 },
      reason: "DeleteObject",
    });
    expect(parseNotification(body, context)).toEqual({ type: "eventbridge", viaSns: false, objects: [] });
  });

  it("recognises CloudTrail's validation message through SNS and raw", () => {
    expect(parseNotification(snsEnvelope("CloudTrail validation message."), context)).toEqual({
      type: "validation",
      viaSns: true,
      objects: [],
    });
    expect(parseNotification("CloudTrail validation message.", context)).toEqual({
      type: "validation",
      viaSns: false,
      objects: [],
    });
  });

  it("recognises S3's test event directly and through SNS", () => {
    expect(parseNotification(S3_TEST_EVENT, context)).toEqual({
      type: "s3-test-event",
      viaSns: false,
      objects: [],
    });
    expect(parseNotification(snsEnvelope(S3_TEST_EVENT), context)).toEqual({
      type: "s3-test-event",
      viaSns: true,
      objects: [],
    });
  });

  describe("refuses what it does not understand, with a code and the message id", () => {
    const cases: [string, string, string][] = [
      ["an empty body", "", "MalformedBody"],
      ["text that is not JSON", "hello world", "MalformedBody"],
      ["truncated JSON", '{"s3Bucket":"trail-bucket","s3ObjectKey":["AWSLogs/', "MalformedBody"],
      ["a JSON array", "[]", "UnrecognizedNotification"],
      ["a JSON number", "42", "UnrecognizedNotification"],
      ["JSON null", "null", "UnrecognizedNotification"],
      ["an unrelated JSON object", '{"orderId":42,"status":"shipped"}', "UnrecognizedNotification"],
      ["an SNS envelope with a text message", snsEnvelope("Hello from SNS"), "UnrecognizedNotification"],
      ["an SNS envelope with unrelated JSON", snsEnvelope('{"orderId":42}'), "UnrecognizedNotification"],
      ["an SNS envelope with a JSON array", snsEnvelope("[1,2]"), "UnrecognizedNotification"],
      [
        "an SNS subscription confirmation",
        JSON.stringify({
          Type: "SubscriptionConfirmation",
          MessageId: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
          Token: "2336412f37f",
          TopicArn: "arn:aws:sns:us-east-1:111122223333:cloudtrail-log-delivery",
          Message: "You have chosen to subscribe to the topic",
          SubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
        }),
        "UnrecognizedNotification",
      ],
      [
        "a CloudTrail notification with no key",
        JSON.stringify({ s3Bucket: "trail-bucket", s3ObjectKey: [] }),
        "NoObjectKeys",
      ],
      [
        "a CloudTrail notification with a key string",
        JSON.stringify({ s3Bucket: "b", s3ObjectKey: LOG_KEY_1 }),
        "NoObjectKeys",
      ],
      [
        "a CloudTrail notification with no bucket",
        JSON.stringify({ s3ObjectKey: [LOG_KEY_1] }),
        "MissingBucket",
      ],
      [
        "a CloudTrail notification with an empty bucket",
        JSON.stringify({ s3Bucket: "", s3ObjectKey: [LOG_KEY_1] }),
        "MissingBucket",
      ],
      [
        "a CloudTrail notification with a non-string key",
        JSON.stringify({ s3Bucket: "b", s3ObjectKey: [LOG_KEY_1, 7] }),
        "InvalidObjectKey",
      ],
      ["an S3 event with no record", JSON.stringify({ Records: [] }), "NoObjectKeys"],
      [
        "CloudTrail log records instead of a notification",
        JSON.stringify({ Records: [{ eventSource: "ec2.amazonaws.com", eventName: "RunInstances" }] }),
        "UnrecognizedNotification",
      ],
      [
        "an S3 event without bucket",
        s3Event([{ eventName: "ObjectCreated:Put", key: LOG_KEY_1 }]),
        "MissingBucket",
      ],
      [
        "an S3 event without key",
        s3Event([{ eventName: "ObjectCreated:Put", bucket: "trail-bucket" }]),
        "NoObjectKeys",
      ],
      [
        "an EventBridge event from aws.s3 that is no object event",
        eventBridgeEvent("AWS API Call via CloudTrail", { eventName: "PutBucketPolicy" }),
        "UnrecognizedNotification",
      ],
      [
        "an EventBridge Object Created event without key",
        eventBridgeEvent("Object Created", { bucket: { name: "trail-bucket" }, object: {} }),
        "NoObjectKeys",
      ],
      [
        "an EventBridge Object Created event without bucket",
        eventBridgeEvent("Object Created", { object: { key: LOG_KEY_1 } }),
        "MissingBucket",
      ],
      [
        "an S3 event of another service",
        JSON.stringify({ Service: "Amazon S3", Event: "s3:Other" }),
        "UnrecognizedNotification",
      ],
    ];

    it.each(cases)("%s", (_name, body, code) => {
      const error = notificationError(body);
      expect(error.code).toBe(code);
      expect(error.stage).toBe("unwrap");
      expect(error.context.messageId).toBe(context.messageId);
    });
  });

  it("decodes any key S3 form-encodes back to the original", () => {
    const formEncode = (key: string) => encodeURIComponent(key).replace(/%20/g, "+");
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1 }), (key) => {
        const body = s3Event([
          { eventName: "ObjectCreated:Put", bucket: "trail-bucket", key: formEncode(key) },
        ]);
        expect(parseNotification(body, context).objects.map((object) => object.key)).toEqual([key]);
      }),
    );
  });

  it("keeps a key that decoding leaves alone without a second spelling", () => {
    const body = s3Event([{ eventName: "ObjectCreated:Put", bucket: "trail-bucket", key: LOG_KEY_1 }]);
    expect(parseNotification(body, context).objects).toStrictEqual([
      { bucket: "trail-bucket", key: LOG_KEY_1 },
    ]);
  });

  it("takes a key that is not valid URL encoding as written, in S3 events and from EventBridge", () => {
    for (const key of ["AWSLogs/%E0%A4%A.json.gz", "logs/100%.json.gz"]) {
      const s3 = s3Event([{ eventName: "ObjectCreated:Put", bucket: "trail-bucket", key }]);
      const eventBridge = eventBridgeEvent("Object Created", {
        bucket: { name: "trail-bucket" },
        object: { key },
      });
      expect(parseNotification(s3, context).objects).toStrictEqual([{ bucket: "trail-bucket", key }]);
      expect(parseNotification(eventBridge, context).objects).toStrictEqual([
        { bucket: "trail-bucket", key },
      ]);
    }
  });

  it("throws nothing but NotificationError for arbitrary bodies", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.json().map(snsEnvelope)), (body) => {
        try {
          parseNotification(body, context);
        } catch (error) {
          expect(error).toBeInstanceOf(NotificationError);
        }
      }),
    );
  });
});

describe("classifyTrailKey", () => {
  it("reads account and region of a log file", () => {
    expect(classifyTrailKey(LOG_KEY_1)).toEqual({
      kind: "log",
      accountId: "111122223333",
      region: "us-east-1",
    });
  });

  it("reads the organization of an organization trail's key", () => {
    const key =
      "AWSLogs/o-abc123def4/111122223333/CloudTrail/ap-southeast-2/2026/11/26/111122223333_CloudTrail_ap-southeast-2_20261126T1205Z_x.json.gz";
    expect(classifyTrailKey(key)).toEqual({
      kind: "log",
      organizationId: "o-abc123def4",
      accountId: "111122223333",
      region: "ap-southeast-2",
    });
  });

  it("recognises digest files", () => {
    const key =
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/26/111122223333_CloudTrail-Digest_us-east-1_management_us-east-1_20261126T120000Z.json.gz";
    expect(classifyTrailKey(key)).toEqual({ kind: "digest", accountId: "111122223333", region: "us-east-1" });
  });

  it("recognises Insights files of an organization trail", () => {
    const key =
      "AWSLogs/o-abc123def4/111122223333/CloudTrail-Insight/eu-central-1/2026/11/26/111122223333_CloudTrail-Insight_eu-central-1_20261126T1205Z_y.json.gz";
    expect(classifyTrailKey(key)).toEqual({
      kind: "insight",
      organizationId: "o-abc123def4",
      accountId: "111122223333",
      region: "eu-central-1",
    });
  });

  it("accepts a prefix before AWSLogs/", () => {
    const key =
      "security/prod/AWSLogs/111122223333/CloudTrail-Digest/us-west-2/2026/11/26/111122223333_CloudTrail-Digest_us-west-2_t_us-west-2_20261126T120000Z.json.gz";
    expect(classifyTrailKey(key)).toEqual({ kind: "digest", accountId: "111122223333", region: "us-west-2" });
  });

  it("reads a log by its own layout when a digest folder sits in its prefix", () => {
    const digestPrefix = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/";
    expect(classifyTrailKey(`${digestPrefix}${LOG_KEY_1}`)).toEqual({
      kind: "log",
      accountId: "111122223333",
      region: "us-east-1",
    });
    expect(classifyTrailKey(`archive/${digestPrefix}2026/mirror/${LOG_KEY_2}`)).toEqual({
      kind: "log",
      accountId: "111122223333",
      region: "eu-west-1",
    });
  });

  it("reads a digest by its own layout when a log folder sits in its prefix", () => {
    const key =
      "AWSLogs/444455556666/CloudTrail/eu-west-1/copies/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/26/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261126T120000Z.json.gz";
    expect(classifyTrailKey(key)).toEqual({ kind: "digest", accountId: "111122223333", region: "us-east-1" });
  });

  it("takes the kind from a file name with CloudTrail's naming over the folder", () => {
    const logUnderDigestFolder =
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/111122223333_CloudTrail_us-east-1_20261126T1205Z_x.json.gz";
    expect(classifyTrailKey(logUnderDigestFolder).kind).toBe("log");
    const digestUnderLogFolder =
      "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261126T120000Z.json.gz";
    expect(classifyTrailKey(digestUnderLogFolder).kind).toBe("digest");
    const insightUnderLogFolder =
      "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/111122223333_CloudTrail-Insight_us-east-1_20261126T1205Z_y.json.gz";
    expect(classifyTrailKey(insightUnderLogFolder).kind).toBe("insight");
  });

  it.each([
    "notes/readme.txt",
    "AWSLogs/111122223333/Config/us-east-1/2026/11/26/ConfigSnapshot/x.json.gz",
    "AWSLogs/1111/CloudTrail/us-east-1/2026/11/26/x.json.gz",
    "myAWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/x.json.gz",
    "AWSLogs/111122223333/CloudTrail/",
  ])("calls %s other", (key) => {
    expect(classifyTrailKey(key)).toEqual({ kind: "other" });
  });
});
