import {
  CLOUDTRAIL_VALIDATION_MESSAGE,
  cloudTrailNotification,
  eventBridgeObjectCreated,
  s3EventKey,
  s3EventNotification,
  s3TestEvent,
  snsEnvelope,
} from "@trailrouter/local-aws";
import { describe, expect, it } from "vitest";

const TOPIC = "arn:aws:sns:eu-west-1:111122223333:cloudtrail-logs";
const KEY =
  "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/26/111122223333_CloudTrail_eu-west-1_20261126T1205Z_0a1B2c3D4e5F6g7H.json.gz";

describe("cloudTrailNotification", () => {
  it("names the bucket and every key", () => {
    expect(cloudTrailNotification("trail-bucket", [KEY, "b.json.gz"])).toBe(
      `{"s3Bucket":"trail-bucket","s3ObjectKey":["${KEY}","b.json.gz"]}`,
    );
  });
});

describe("snsEnvelope", () => {
  it("wraps a message the way SNS delivers it to SQS", () => {
    const message = cloudTrailNotification("trail-bucket", [KEY]);
    const body = snsEnvelope(message, {
      topicArn: TOPIC,
      messageId: "5c0f3a2e-1111-4222-8333-944444444444",
      timestamp: new Date("2026-11-26T12:05:43.210Z"),
      subscriptionId: "0b1c2d3e-aaaa-4bbb-8ccc-ddddeeeeffff",
    });
    expect(body.startsWith('{\n  "Type" : "Notification",\n  "MessageId" : "5c0f3a2e-')).toBe(true);
    const envelope = JSON.parse(body);
    expect(Object.keys(envelope)).toEqual([
      "Type",
      "MessageId",
      "TopicArn",
      "Message",
      "Timestamp",
      "SignatureVersion",
      "Signature",
      "SigningCertURL",
      "UnsubscribeURL",
    ]);
    expect(envelope).toMatchObject({
      Type: "Notification",
      TopicArn: TOPIC,
      Message: message,
      Timestamp: "2026-11-26T12:05:43.210Z",
      SignatureVersion: "1",
      UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:0b1c2d3e-aaaa-4bbb-8ccc-ddddeeeeffff`,
    });
    expect(envelope.Signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(envelope.SigningCertURL).toMatch(
      /^https:\/\/sns\.eu-west-1\.amazonaws\.com\/SimpleNotificationService-\w+\.pem$/,
    );
    expect(JSON.parse(envelope.Message)).toEqual({ s3Bucket: "trail-bucket", s3ObjectKey: [KEY] });
  });

  it("carries a subject only when one is given", () => {
    const withSubject = JSON.parse(
      snsEnvelope(CLOUDTRAIL_VALIDATION_MESSAGE, { topicArn: TOPIC, subject: "hello" }),
    );
    expect(withSubject.Subject).toBe("hello");
    expect(Object.keys(withSubject).indexOf("Subject")).toBe(3);
    expect(withSubject.Message).toBe("CloudTrail validation message.");
    expect(JSON.parse(snsEnvelope("x", { topicArn: TOPIC }))).not.toHaveProperty("Subject");
  });

  it("gives each envelope its own message id unless told", () => {
    const ids = new Set([1, 2, 3].map(() => JSON.parse(snsEnvelope("x", { topicArn: TOPIC })).MessageId));
    expect(ids.size).toBe(3);
    expect(() => snsEnvelope("x", { topicArn: "not-an-arn" })).toThrow(/ARN/);
  });
});

describe("S3 event notifications", () => {
  it("URL-encodes keys the way S3 does", () => {
    expect(s3EventKey("AWSLogs/a b/c+d/(1)!~'*_.-é:=.json.gz")).toBe(
      "AWSLogs/a+b/c%2Bd/%281%29%21%7E%27*_.-%C3%A9%3A%3D.json.gz",
    );
    expect(decodeURIComponent(s3EventKey("a b/c+d").replace(/\+/g, " "))).toBe("a b/c+d");
  });

  it("has one aws:s3 record per key", () => {
    const event = JSON.parse(
      s3EventNotification("trail-bucket", [KEY, "logs/with space.json.gz"], {
        region: "eu-west-1",
        eventTime: new Date("2026-11-26T12:05:43.210Z"),
        size: 1234,
      }),
    );
    expect(event.Records).toHaveLength(2);
    const [first, second] = event.Records;
    expect(first).toMatchObject({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "eu-west-1",
      eventTime: "2026-11-26T12:05:43.210Z",
      eventName: "ObjectCreated:Put",
      s3: {
        s3SchemaVersion: "1.0",
        bucket: { name: "trail-bucket", arn: "arn:aws:s3:::trail-bucket" },
        object: { key: KEY, size: 1234 },
      },
    });
    expect(first.s3.object.eTag).toMatch(/^[0-9a-f]{32}$/);
    expect(second.s3.object.key).toBe("logs/with+space.json.gz");
    expect(second.s3.object.sequencer > first.s3.object.sequencer).toBe(true);
  });

  it("writes the test event S3 sends when notifications are configured", () => {
    const event = JSON.parse(s3TestEvent("trail-bucket", { time: new Date("2026-11-26T12:00:00Z") }));
    expect(event).toMatchObject({
      Service: "Amazon S3",
      Event: "s3:TestEvent",
      Time: "2026-11-26T12:00:00.000Z",
      Bucket: "trail-bucket",
    });
    expect(event.RequestId).toMatch(/^[0-9A-F]{16}$/);
  });
});

describe("eventBridgeObjectCreated", () => {
  it("describes the object in detail, key not encoded", () => {
    const event = JSON.parse(
      eventBridgeObjectCreated("trail-bucket", "logs/with space.json.gz", {
        accountId: "444455556666",
        region: "eu-west-1",
        time: new Date("2026-11-26T12:05:43.210Z"),
        size: 99,
      }),
    );
    expect(event).toMatchObject({
      version: "0",
      "detail-type": "Object Created",
      source: "aws.s3",
      account: "444455556666",
      time: "2026-11-26T12:05:43Z",
      region: "eu-west-1",
      resources: ["arn:aws:s3:::trail-bucket"],
      detail: {
        bucket: { name: "trail-bucket" },
        object: { key: "logs/with space.json.gz", size: 99 },
        reason: "PutObject",
      },
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
