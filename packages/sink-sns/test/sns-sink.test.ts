import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import {
  awsClientFactory,
  DeliveryError,
  type Sink,
  type TrailRecord,
  type WithoutDefaults,
  withDefaults,
} from "@trailrouter/core";
import {
  type EventBridgeCloudTrailEvent,
  messageServicesAccept,
  toEventBridgeEvent,
} from "@trailrouter/delivery";
import { type LocalAws, pluginContext, recordCommands, startLocalAws } from "@trailrouter/local-aws";
import { encodeRecord, type SnsSinkConfig, snsSink } from "@trailrouter/sink-sns";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let localAws: LocalAws;
let resourceCount = 0;
/** Inputs of the PublishBatch commands the sinks under test sent. */
const batchRequests: { TopicArn: string; PublishBatchRequestEntries: { Id: string }[] }[] = [];
const openSinks: Sink[] = [];

beforeAll(async () => {
  localAws = await startLocalAws();
});
afterEach(async () => {
  batchRequests.length = 0;
  await Promise.all(openSinks.splice(0).map((sink) => sink.close()));
});
afterAll(async () => {
  await localAws.stop();
});

async function createSink(options: WithoutDefaults<SnsSinkConfig>): Promise<Sink> {
  const context = pluginContext({
    name: "out",
    // Clients as the pipeline builds them, recording every PublishBatch request they send.
    aws: recordCommands(
      awsClientFactory({ endpoint: localAws.endpoint, region: localAws.region }),
      (command) => {
        if (command.name === "PublishBatchCommand") batchRequests.push(command.input as never);
      },
    ),
  });
  const sink = await snsSink.create(withDefaults(snsSink, options), context);
  openSinks.push(sink);
  return sink;
}

interface Topic {
  readonly name: string;
  readonly topicArn: string;
  /** A new queue subscribed to the topic; returns its URL. */
  subscribe(subscription?: { raw?: boolean; filterPolicy?: unknown }): string;
}

function createTopic(fifo = false): Topic {
  const name = `topic-${++resourceCount}${fifo ? ".fifo" : ""}`;
  const { topicArn } = localAws.server.createTopic(name, {
    attributes: fifo ? { FifoTopic: "true" } : {},
  });
  return {
    name,
    topicArn,
    subscribe({ raw = true, filterPolicy } = {}) {
      const queueName = `subscriber-${++resourceCount}${fifo ? ".fifo" : ""}`;
      const { queueUrl } = localAws.server.createQueue(queueName, {
        attributes: fifo ? { FifoQueue: "true" } : {},
      });
      localAws.server.subscribe({
        topic: name,
        queue: queueName,
        attributes: {
          RawMessageDelivery: String(raw),
          ...(filterPolicy === undefined ? {} : { FilterPolicy: JSON.stringify(filterPolicy) }),
        },
      });
      return queueUrl;
    },
  };
}

function trailRecord(n: number, fields: Partial<TrailRecord> = {}): TrailRecord {
  return {
    eventVersion: "1.08",
    eventID: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    eventTime: "2024-05-01T12:00:00Z",
    eventName: "RunInstances",
    eventSource: "ec2.amazonaws.com",
    awsRegion: "eu-west-1",
    recipientAccountId: "123456789012",
    requestParameters: { instanceType: "t3.micro", n },
    ...fields,
  };
}

/** A record whose encoded entry is exactly `bytes` long, as the sink counts it. */
function recordOfSize(n: number, bytes: number): TrailRecord {
  const record = trailRecord(n, { padding: "" });
  const overhead = encodeRecord(record).bytes;
  return { ...record, padding: "x".repeat(bytes - overhead) };
}

const expectedAttributes = (record: TrailRecord) =>
  Object.fromEntries(
    (["eventName", "eventSource", "awsRegion", "recipientAccountId"] as const)
      .filter((name) => record[name])
      .map((name) => [name, { DataType: "String", StringValue: record[name] }]),
  );

/** Receives (and deletes) until `expected` messages arrived or the queue answers empty. */
async function receiveAll(queueUrl: string, expected: number): Promise<Message[]> {
  const received: Message[] = [];
  while (received.length < expected) {
    const { Messages = [] } = await localAws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["MessageGroupId", "MessageDeduplicationId"],
      }),
    );
    if (Messages.length === 0) break;
    received.push(...Messages);
    await localAws.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return received;
}

const byEventId = (a: TrailRecord, b: TrailRecord) => String(a.eventID).localeCompare(String(b.eventID));

const bodyIds = (messages: Message[]) =>
  messages.map((m) => (JSON.parse(m.Body ?? "{}") as TrailRecord).eventID).sort();

describe("sns sink against SNS fanning out to SQS", () => {
  it("publishes 25 records in 3 requests, each with its record and attributes, raw or in the SNS envelope", async () => {
    const topic = createTopic();
    const rawQueue = topic.subscribe({ raw: true });
    const enveloped = topic.subscribe({ raw: false });
    const sink = await createSink({ topicArn: topic.topicArn });
    const records = Array.from({ length: 25 }, (_, n) => trailRecord(n));
    records[3] = trailRecord(3, { awsRegion: "" });
    delete records[4]?.recipientAccountId;

    expect(await sink.deliver(records)).toEqual({ delivered: 25, failed: [] });
    expect(batchRequests.map((r) => r.PublishBatchRequestEntries.length)).toEqual([10, 10, 5]);
    expect(batchRequests.every((r) => r.TopicArn === topic.topicArn)).toBe(true);

    const raw = await receiveAll(rawQueue, 26);
    expect(raw).toHaveLength(25);
    const rawById = new Map(raw.map((m) => [(JSON.parse(m.Body ?? "{}") as TrailRecord).eventID, m]));
    for (const record of records) {
      const message = rawById.get(record.eventID);
      expect(JSON.parse(message?.Body ?? "null")).toEqual(record);
      expect(message?.MessageAttributes).toEqual(expectedAttributes(record));
    }
    expect(rawById.get(records[3]?.eventID)?.MessageAttributes).not.toHaveProperty("awsRegion");
    expect(rawById.get(records[4]?.eventID)?.MessageAttributes).not.toHaveProperty("recipientAccountId");

    const notifications = (await receiveAll(enveloped, 26)).map(
      (m) =>
        JSON.parse(m.Body ?? "{}") as {
          Type: string;
          TopicArn: string;
          Message: string;
          MessageAttributes: Record<string, { Type: string; Value: string }>;
        },
    );
    expect(notifications).toHaveLength(25);
    const notificationById = new Map(
      notifications.map((n) => [(JSON.parse(n.Message) as TrailRecord).eventID, n]),
    );
    for (const record of records) {
      const notification = notificationById.get(record.eventID);
      expect(notification).toMatchObject({ Type: "Notification", TopicArn: topic.topicArn });
      expect(JSON.parse(notification?.Message ?? "null")).toEqual(record);
      expect(notification?.MessageAttributes).toEqual(
        Object.fromEntries(
          Object.entries(expectedAttributes(record)).map(([name, value]) => [
            name,
            { Type: "String", Value: value.StringValue },
          ]),
        ),
      );
    }
  });

  it("lets a subscription filter policy on eventName pick the records it receives", async () => {
    const topic = createTopic();
    const everything = topic.subscribe();
    const userChanges = topic.subscribe({ filterPolicy: { eventName: ["CreateUser", "DeleteUser"] } });
    const sink = await createSink({ topicArn: topic.topicArn });
    const names = ["RunInstances", "CreateUser", "GetObject", "DeleteUser", "CreateUser", "PutObject"];
    const records = names.map((eventName, n) => trailRecord(n, { eventName }));

    expect(await sink.deliver(records)).toEqual({ delivered: 6, failed: [] });

    expect(await receiveAll(everything, 7)).toHaveLength(6);
    const filtered = await receiveAll(userChanges, 7);
    expect(bodyIds(filtered)).toEqual([records[1], records[3], records[4]].map((r) => r?.eventID).sort());
  });

  it("gives messages of a FIFO topic group and deduplication ids that a FIFO queue keeps in order", async () => {
    const topic = createTopic(true);
    const queueUrl = topic.subscribe();
    const sink = await createSink({ topicArn: topic.topicArn });
    const fromAccountA = Array.from({ length: 12 }, (_, n) =>
      trailRecord(n, { recipientAccountId: "111111111111" }),
    );
    const withoutAccount = trailRecord(50);
    delete withoutAccount.recipientAccountId;
    const records = [...fromAccountA, withoutAccount];

    expect(await sink.deliver(records)).toEqual({ delivered: 13, failed: [] });
    // The same records again are deduplicated, not queued twice.
    expect(await sink.deliver(records)).toEqual({ delivered: 13, failed: [] });
    expect(batchRequests.map((r) => r.PublishBatchRequestEntries.length)).toEqual([10, 3, 10, 3]);

    const messages = await receiveAll(queueUrl, 14);
    expect(messages).toHaveLength(13);
    const groupA = messages.filter((m) => m.Attributes?.MessageGroupId === "111111111111");
    expect(groupA.map((m) => (JSON.parse(m.Body ?? "{}") as TrailRecord).eventID)).toEqual(
      fromAccountA.map((r) => r.eventID),
    );
    expect(groupA.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual(
      fromAccountA.map((r) => r.eventID),
    );
    const other = messages.find((m) => m.Attributes?.MessageGroupId !== "111111111111");
    expect(other?.Attributes).toMatchObject({
      MessageGroupId: "ec2.amazonaws.com",
      MessageDeduplicationId: withoutAccount.eventID,
    });
  });

  it("reports a record over 256 KiB as RecordTooLarge and delivers the rest", async () => {
    const topic = createTopic();
    const queueUrl = topic.subscribe();
    const sink = await createSink({ topicArn: topic.topicArn });
    const huge = recordOfSize(99, 262_145);
    const records = [trailRecord(1), huge, recordOfSize(2, 262_144)];

    const result = await sink.deliver(records);

    expect(result.delivered).toBe(2);
    expect(result.failed.map((f) => f.record)).toEqual([huge]);
    const error = result.failed[0]?.error;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({
      code: "RecordTooLarge",
      context: { sink: "out", pipeline: "test", eventID: huge.eventID, bytes: 262_145, limit: 262_144 },
    });
    expect(result.failed[0]?.permanent).toBe(true);
    expect(sink.maxRecordBytes).toBe(262_144);
    // The record of exactly 256 KiB fills a request of its own.
    expect(batchRequests.map((r) => r.PublishBatchRequestEntries.length)).toEqual([1, 1]);
    expect(bodyIds(await receiveAll(queueUrl, 3))).toEqual([records[0]?.eventID, records[2]?.eventID].sort());
  });

  it("reports, without retrying, the entry a topic refuses when the limits are set above its own", async () => {
    const topic = createTopic();
    const queueUrl = topic.subscribe();
    const sink = await createSink({
      topicArn: topic.topicArn,
      maxMessageBytes: 1_048_576,
      maxBatchBytes: 1_048_576,
    });
    const tooBig = recordOfSize(2, 300_000);
    const records = [trailRecord(1), tooBig, trailRecord(3)];

    const result = await sink.deliver(records);

    // The emulator, like SNS, fails the one entry (SenderFault) and publishes the others.
    expect(result.delivered).toBe(2);
    expect(result.failed.map((f) => f.record)).toEqual([tooBig]);
    expect(result.failed[0]?.error).toMatchObject({
      code: "InvalidParameter",
      context: { sink: "out", eventID: tooBig.eventID, attempts: 1, retryable: false },
    });
    // The entry itself is too long for the topic: it would be refused every time.
    expect(result.failed[0]?.permanent).toBe(true);
    expect(batchRequests.flatMap((r) => r.PublishBatchRequestEntries)).toHaveLength(3);
    expect(bodyIds(await receiveAll(queueUrl, 3))).toEqual([records[0]?.eventID, records[2]?.eventID].sort());
  });

  it("splits requests by the batch byte limit", async () => {
    const topic = createTopic();
    const queueUrl = topic.subscribe();
    const sink = await createSink({ topicArn: topic.topicArn });
    const records = Array.from({ length: 5 }, (_, n) => recordOfSize(n, 100_000));

    expect(await sink.deliver(records)).toEqual({ delivered: 5, failed: [] });
    expect(batchRequests.map((r) => r.PublishBatchRequestEntries.length)).toEqual([2, 2, 1]);
    expect(await receiveAll(queueUrl, 6)).toHaveLength(5);
  });

  it("reports every record when the topic does not exist, after one request", async () => {
    const topicArn = `${createTopic().topicArn.replace(/topic-\d+$/, "")}no-such-topic`;
    const sink = await createSink({ topicArn });
    const records = Array.from({ length: 3 }, (_, n) => trailRecord(n));

    const result = await sink.deliver(records);

    expect(batchRequests).toHaveLength(1);
    expect(result.delivered).toBe(0);
    expect(result.failed.map((f) => f.record)).toEqual(records);
    for (const { error, permanent } of result.failed) {
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({
        code: "NotFoundException",
        context: { sink: "out", attempts: 1, retryable: false },
      });
      // About the sink, not the records: they are kept for redelivery, not dead-lettered.
      expect(permanent).toBe(false);
    }
  });

  it("delivers records with U+FFFE and U+FFFF in a string to a subscribed queue, parsed back as they were", async () => {
    const topic = createTopic();
    const rawQueue = topic.subscribe({ raw: true });
    const enveloped = topic.subscribe({ raw: false });
    const sink = await createSink({ topicArn: topic.topicArn });
    const inUserAgent = trailRecord(1, { userAgent: "aws-cli/2.15\ufffe exec-env/\uffff" });
    // An attribute cannot be escaped: eventName is left out of the attributes, kept in the body.
    const inEventName = trailRecord(2, { eventName: "Run\uffffInstances" });
    const records = [inUserAgent, inEventName, trailRecord(3)];

    expect(await sink.deliver(records)).toEqual({ delivered: 3, failed: [] });
    // fauxqs lets any character through a topic; SNS delivers to queues, which refuse these two.
    const published = batchRequests.flatMap((r) => r.PublishBatchRequestEntries) as { Message: string }[];
    expect(published.every((entry) => messageServicesAccept(entry.Message))).toBe(true);
    expect(published[0]?.Message).toContain("2.15\\ufffe exec-env/\\uffff");

    const raw = await receiveAll(rawQueue, 4);
    expect(raw).toHaveLength(3);
    const rawById = new Map(raw.map((m) => [(JSON.parse(m.Body ?? "{}") as TrailRecord).eventID, m]));
    for (const record of records) {
      expect(JSON.parse(rawById.get(record.eventID)?.Body ?? "null")).toEqual(record);
    }
    const { eventName: _left, ...otherAttributes } = expectedAttributes(inEventName);
    expect(rawById.get(inEventName.eventID)?.MessageAttributes).toEqual(otherAttributes);
    expect(rawById.get(inUserAgent.eventID)?.MessageAttributes).toEqual(expectedAttributes(inUserAgent));

    const notifications = (await receiveAll(enveloped, 4)).map(
      (m) => JSON.parse(m.Body ?? "{}") as { Message: string },
    );
    expect(notifications.map((n) => JSON.parse(n.Message)).sort(byEventId)).toEqual(records);
  });

  it("publishes EventBridge's CloudTrail envelope with format: eventbridge, filterable on the record's attributes", async () => {
    const topic = createTopic();
    const userChanges = topic.subscribe({ filterPolicy: { eventName: ["CreateUser"] } });
    const sink = await createSink({ topicArn: topic.topicArn, format: "eventbridge" });
    const createUser = trailRecord(1, {
      eventName: "CreateUser",
      eventSource: "iam.amazonaws.com",
      awsRegion: "us-east-1",
    });
    const records = [trailRecord(0), createUser];

    expect(await sink.deliver(records)).toEqual({ delivered: 2, failed: [] });

    const [message, ...more] = await receiveAll(userChanges, 2);
    expect(more).toHaveLength(0);
    const event = JSON.parse(message?.Body ?? "null") as EventBridgeCloudTrailEvent;
    expect(event).toEqual(toEventBridgeEvent(createUser));
    expect(event).toMatchObject({
      version: "0",
      "detail-type": "AWS API Call via CloudTrail",
      source: "aws.iam",
      account: "123456789012",
      region: "us-east-1",
      detail: createUser,
    });
    expect(message?.MessageAttributes).toEqual(expectedAttributes(createUser));
  });
});
