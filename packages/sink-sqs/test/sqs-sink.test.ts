import { createHash } from "node:crypto";
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import {
  awsClientFactory,
  builtinPlugins,
  checkPipelineFile,
  DeliveryError,
  PluginRegistry,
  type Sink,
  type TrailRecord,
  type WithoutDefaults,
  withDefaults,
} from "@trailrouter/core";
import { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { type EventBridgeCloudTrailEvent, toEventBridgeEvent } from "@trailrouter/delivery";
import { type LocalAws, pluginContext, recordCommands, startLocalAws } from "@trailrouter/local-aws";
import { encodeRecord, type SqsSinkConfig, sqsSink } from "@trailrouter/sink-sqs";
import { sqsSource } from "@trailrouter/source-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let localAws: LocalAws;
let queueCount = 0;
/** Inputs of the SendMessageBatch commands the sinks under test sent. */
const batchRequests: { QueueUrl: string; Entries: { Id: string }[] }[] = [];
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

async function createSink(options: WithoutDefaults<SqsSinkConfig>): Promise<Sink> {
  const context = pluginContext({
    name: "out",
    // Clients as the pipeline builds them, recording every SendMessageBatch request they send.
    aws: recordCommands(
      awsClientFactory({ endpoint: localAws.endpoint, region: localAws.region }),
      (command) => {
        if (command.name === "SendMessageBatchCommand") batchRequests.push(command.input as never);
      },
    ),
  });
  const sink = await sqsSink.create(withDefaults(sqsSink, options), context);
  openSinks.push(sink);
  return sink;
}

function createQueue(attributes: Record<string, string> = {}, suffix = ""): string {
  return localAws.server.createQueue(`sink-${++queueCount}${suffix}`, { attributes }).queueUrl;
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
  const overhead = encodeRecord(record, { fifo: false, messageGroupIdField: "recipientAccountId" }).bytes;
  return { ...record, padding: "x".repeat(bytes - overhead) };
}

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

const bodyIds = (messages: Message[]) =>
  messages.map((m) => (JSON.parse(m.Body ?? "{}") as TrailRecord).eventID).sort();

describe("sqs sink against SQS", () => {
  it("sends 25 records in 3 requests, each message with its record as body and its attributes", async () => {
    const queueUrl = createQueue();
    const sink = await createSink({ queueUrl });
    const records = Array.from({ length: 25 }, (_, n) => trailRecord(n));
    records[3] = trailRecord(3, { awsRegion: "" });
    delete records[4]?.recipientAccountId;

    const result = await sink.deliver(records);

    expect(result).toEqual({ delivered: 25, failed: [] });
    expect(batchRequests.map((r) => r.Entries.length)).toEqual([10, 10, 5]);
    for (const request of batchRequests) {
      expect(new Set(request.Entries.map((e) => e.Id)).size).toBe(request.Entries.length);
    }
    const messages = await receiveAll(queueUrl, 25);
    expect(messages).toHaveLength(25);
    const byId = new Map(messages.map((m) => [(JSON.parse(m.Body ?? "{}") as TrailRecord).eventID, m]));
    for (const record of records) {
      const message = byId.get(record.eventID);
      expect(JSON.parse(message?.Body ?? "null")).toEqual(record);
      const expectedAttributes = Object.fromEntries(
        (["eventName", "eventSource", "awsRegion", "recipientAccountId"] as const)
          .filter((name) => record[name])
          .map((name) => [name, { DataType: "String", StringValue: record[name] }]),
      );
      expect(message?.MessageAttributes).toEqual(expectedAttributes);
    }
    expect(byId.get(records[3]?.eventID)?.MessageAttributes).not.toHaveProperty("awsRegion");
    expect(byId.get(records[4]?.eventID)?.MessageAttributes).not.toHaveProperty("recipientAccountId");
  });

  it("sends the records of concurrent deliver calls in shared requests, each call told of its own records", async () => {
    const queueUrl = createQueue();
    const sink = await createSink({ queueUrl });
    // Six messages in flight, each routing four records to this sink.
    const calls = Array.from({ length: 6 }, (_, call) =>
      Array.from({ length: 4 }, (_, n) => trailRecord(call * 10 + n)),
    );

    const results = await Promise.all(calls.map((records) => sink.deliver(records)));

    expect(results).toEqual(calls.map(() => ({ delivered: 4, failed: [] })));
    expect(batchRequests.map((r) => r.Entries.length)).toEqual([10, 10, 4]);
    const messages = await receiveAll(queueUrl, 24);
    expect(bodyIds(messages)).toEqual(
      calls
        .flat()
        .map((record) => record.eventID)
        .sort(),
    );
  });

  it("gives FIFO messages a group id from the configured field and a deduplication id", async () => {
    const queueUrl = createQueue({ FifoQueue: "true" }, ".fifo");
    const sink = await createSink({ queueUrl });
    const fromAccountA = trailRecord(1, { recipientAccountId: "111111111111" });
    const fromAccountB = trailRecord(2, { recipientAccountId: "222222222222" });
    const withoutAccount = trailRecord(3);
    delete withoutAccount.recipientAccountId;
    const withoutEventId = trailRecord(4);
    delete withoutEventId.eventID;
    const records = [fromAccountA, fromAccountB, withoutAccount, withoutEventId];

    expect(await sink.deliver(records)).toEqual({ delivered: 4, failed: [] });
    // The same records again are deduplicated by SQS, not queued twice.
    expect(await sink.deliver(records)).toEqual({ delivered: 4, failed: [] });

    const messages = await receiveAll(queueUrl, 5);
    expect(messages).toHaveLength(4);
    const ids = Object.fromEntries(
      messages.map((m) => [
        m.Body,
        { group: m.Attributes?.MessageGroupId, dedup: m.Attributes?.MessageDeduplicationId },
      ]),
    );
    const body = (record: TrailRecord) => JSON.stringify(record);
    expect(ids[body(fromAccountA)]).toEqual({ group: "111111111111", dedup: fromAccountA.eventID });
    expect(ids[body(fromAccountB)]).toEqual({ group: "222222222222", dedup: fromAccountB.eventID });
    expect(ids[body(withoutAccount)]).toEqual({ group: "ec2.amazonaws.com", dedup: withoutAccount.eventID });
    expect(ids[body(withoutEventId)]).toEqual({
      group: "123456789012",
      dedup: createHash("sha256").update(body(withoutEventId)).digest("hex"),
    });
  });

  it("groups FIFO messages by a nested field when configured", async () => {
    const queueUrl = createQueue({ FifoQueue: "true" }, ".fifo");
    const sink = await createSink({ queueUrl, messageGroupIdField: "userIdentity.accountId" });
    const record = trailRecord(1, { userIdentity: { type: "IAMUser", accountId: "333333333333" } });

    expect(await sink.deliver([record])).toEqual({ delivered: 1, failed: [] });
    const [message] = await receiveAll(queueUrl, 1);
    expect(message?.Attributes?.MessageGroupId).toBe("333333333333");
  });

  it("reports a 1.1 MB record as RecordTooLarge and delivers the rest", async () => {
    const queueUrl = createQueue();
    const sink = await createSink({ queueUrl });
    const huge = trailRecord(99, { responseElements: { blob: "x".repeat(1_100_000) } });
    const records = [trailRecord(1), huge, trailRecord(2)];

    const result = await sink.deliver(records);

    expect(result.delivered).toBe(2);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]?.record).toBe(huge);
    expect(result.failed[0]?.error).toMatchObject({
      name: "DeliveryError",
      code: "RecordTooLarge",
      context: { sink: "out", pipeline: "test", eventID: huge.eventID, limit: 1_048_576 },
    });
    expect(result.failed[0]?.permanent).toBe(true);
    const tooLarge = result.failed[0]?.error;
    expect(tooLarge).toBeInstanceOf(DeliveryError);
    expect((tooLarge as DeliveryError).context.bytes).toBeGreaterThan(1_100_000);
    expect(batchRequests.flatMap((r) => r.Entries)).toHaveLength(2);
    expect(bodyIds(await receiveAll(queueUrl, 3))).toEqual([records[0]?.eventID, records[2]?.eventID].sort());
  });

  it("reports the entry SQS refuses for the queue's MaximumMessageSize, without retrying it", async () => {
    const queueUrl = createQueue({ MaximumMessageSize: "1024" });
    const sink = await createSink({ queueUrl });
    const tooBig = recordOfSize(2, 2048);
    const records = [trailRecord(1), tooBig, trailRecord(3)];

    const result = await sink.deliver(records);

    // fauxqs, like SQS, fails the one entry (SenderFault) and accepts the others of the batch.
    expect(batchRequests).toHaveLength(1);
    expect(result.delivered).toBe(2);
    expect(result.failed.map((f) => f.record)).toEqual([tooBig]);
    expect(result.failed[0]?.error).toMatchObject({
      code: "InvalidParameterValue",
      context: { sink: "out", eventID: tooBig.eventID, attempts: 1, retryable: false },
    });
    expect(result.failed[0]?.error.message).toMatch(/shorter than 1024 bytes/);
    // The entry itself is too long for the queue: it would be refused every time.
    expect(result.failed[0]?.permanent).toBe(true);
    expect(bodyIds(await receiveAll(queueUrl, 3))).toEqual([records[0]?.eventID, records[2]?.eventID].sort());
  });

  it("counts message size as SQS does: body plus attribute names, types and values", async () => {
    const queueUrl = createQueue({ MaximumMessageSize: "1024" });
    const exactly = recordOfSize(1, 1024);
    const oneOver = recordOfSize(2, 1025);

    // With the limit left at 1 MiB, SQS itself judges the sizes we computed.
    const judgedBySqs = await (await createSink({ queueUrl })).deliver([exactly, oneOver]);
    expect(judgedBySqs.delivered).toBe(1);
    expect(judgedBySqs.failed.map((f) => [f.record.eventID, (f.error as DeliveryError).code])).toEqual([
      [oneOver.eventID, "InvalidParameterValue"],
    ]);

    // With maxMessageBytes set to the queue's limit, the sink refuses the same record itself.
    batchRequests.length = 0;
    const judgedLocally = await (await createSink({ queueUrl, maxMessageBytes: 1024 })).deliver([
      exactly,
      oneOver,
    ]);
    expect(judgedLocally.failed.map((f) => [f.record.eventID, (f.error as DeliveryError).code])).toEqual([
      [oneOver.eventID, "RecordTooLarge"],
    ]);
    expect(judgedLocally.failed[0]?.permanent).toBe(true);
    expect((await createSink({ queueUrl, maxMessageBytes: 1024 })).maxRecordBytes).toBe(1024);
    expect(batchRequests.flatMap((r) => r.Entries)).toHaveLength(1);
    expect(await receiveAll(queueUrl, 3)).toHaveLength(2);
  });

  it("splits requests by maxBatchEntries and maxBatchBytes", async () => {
    const queueUrl = createQueue();
    const sink = await createSink({ queueUrl, maxBatchEntries: 4, maxBatchBytes: 2500 });
    const records = Array.from({ length: 9 }, (_, n) => recordOfSize(n, 1000));

    expect(await sink.deliver(records)).toEqual({ delivered: 9, failed: [] });
    expect(batchRequests.map((r) => r.Entries.length)).toEqual([2, 2, 2, 2, 1]);
    expect(await receiveAll(queueUrl, 10)).toHaveLength(9);
  });

  it("reports every record when the queue does not exist, after one request", async () => {
    const queueUrl = createQueue().replace(/sink-\d+$/, "no-such-queue");
    const sink = await createSink({ queueUrl });
    const records = Array.from({ length: 3 }, (_, n) => trailRecord(n));

    const result = await sink.deliver(records);

    expect(batchRequests).toHaveLength(1);
    expect(result.delivered).toBe(0);
    expect(result.failed.map((f) => f.record)).toEqual(records);
    for (const { error, permanent } of result.failed) {
      expect(error).toMatchObject({ code: "QueueDoesNotExist", context: { sink: "out", retryable: false } });
      // About the sink, not the records: they are kept for redelivery, not dead-lettered.
      expect(permanent).toBe(false);
    }
  });
});

describe("sqs sink, characters SQS refuses", () => {
  it("delivers records with U+FFFE and U+FFFF in a string, parsed back as they were, in both formats", async () => {
    for (const format of ["record", "eventbridge"] as const) {
      const queueUrl = createQueue();
      const sink = await createSink({ queueUrl, format });
      const inUserAgent = trailRecord(1, { userAgent: "aws-cli/2.15\ufffe exec-env/\uffff" });
      // An attribute cannot be escaped: eventName is left out of the attributes, kept in the body.
      const inEventName = trailRecord(2, { eventName: "Run\uffffInstances" });
      const records = [inUserAgent, inEventName, trailRecord(3)];

      expect(await sink.deliver(records)).toEqual({ delivered: 3, failed: [] });

      const messages = await receiveAll(queueUrl, 4);
      expect(messages).toHaveLength(3);
      const byId = new Map(
        messages.map((m) => {
          const parsed = JSON.parse(m.Body ?? "{}");
          return [(format === "record" ? parsed : parsed.detail).eventID, { parsed, message: m }];
        }),
      );
      for (const record of records) {
        const expected = format === "record" ? record : toEventBridgeEvent(record);
        expect(byId.get(record.eventID)?.parsed).toEqual(expected);
      }
      expect(Object.keys(byId.get(inEventName.eventID)?.message.MessageAttributes ?? {}).sort()).toEqual([
        "awsRegion",
        "eventSource",
        "recipientAccountId",
      ]);
      expect(byId.get(inUserAgent.eventID)?.message.MessageAttributes?.eventName).toEqual({
        DataType: "String",
        StringValue: "RunInstances",
      });
    }
  });

  it("reports an entry SQS refuses for its content as permanent, sent once, and delivers the rest", async () => {
    const queueUrl = createQueue();
    const sink = await createSink({ queueUrl });
    // Characters above U+FFFF are valid in SQS, but fauxqs refuses them per entry (SenderFault),
    // as SQS refuses the characters it does not take: the entry is refused for good.
    const astral = trailRecord(2, { userAgent: "🦆" });
    const records = [trailRecord(1), astral, trailRecord(3)];

    const result = await sink.deliver(records);

    expect(batchRequests).toHaveLength(1);
    expect(result.delivered).toBe(2);
    expect(result.failed.map((f) => [f.record, f.permanent])).toEqual([[astral, true]]);
    expect(result.failed[0]?.error).toMatchObject({
      code: "InvalidMessageContents",
      context: { sink: "out", eventID: astral.eventID, attempts: 1, retryable: false },
    });
    expect(bodyIds(await receiveAll(queueUrl, 3))).toEqual([records[0]?.eventID, records[2]?.eventID].sort());
  });
});

describe("sqs sink with format: eventbridge", () => {
  it("sends EventBridge's CloudTrail envelope as body, with the record's attributes", async () => {
    const queueUrl = createQueue();
    const sink = await createSink({ queueUrl, format: "eventbridge" });
    const records = [
      trailRecord(1),
      trailRecord(2, { eventName: "CreateUser", eventSource: "iam.amazonaws.com", awsRegion: "us-east-1" }),
    ];

    expect(await sink.deliver(records)).toEqual({ delivered: 2, failed: [] });

    const messages = await receiveAll(queueUrl, 3);
    expect(messages).toHaveLength(2);
    const byId = new Map(
      messages.map((m) => [(JSON.parse(m.Body ?? "{}") as EventBridgeCloudTrailEvent).detail.eventID, m]),
    );
    const iam = byId.get(records[1]?.eventID);
    expect(JSON.parse(iam?.Body ?? "null")).toEqual({
      version: "0",
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      "detail-type": "AWS API Call via CloudTrail",
      source: "aws.iam",
      account: "123456789012",
      time: "2024-05-01T12:00:00Z",
      region: "us-east-1",
      resources: [],
      detail: records[1],
    });
    expect(iam?.MessageAttributes).toEqual({
      eventName: { DataType: "String", StringValue: "CreateUser" },
      eventSource: { DataType: "String", StringValue: "iam.amazonaws.com" },
      awsRegion: { DataType: "String", StringValue: "us-east-1" },
      recipientAccountId: { DataType: "String", StringValue: "123456789012" },
    });
    expect(JSON.parse(byId.get(records[0]?.eventID)?.Body ?? "null")).toEqual(
      toEventBridgeEvent(records[0] as TrailRecord),
    );
  });

  it("takes FIFO ids from the record, not from the envelope", async () => {
    const queueUrl = createQueue({ FifoQueue: "true" }, ".fifo");
    const sink = await createSink({ queueUrl, format: "eventbridge" });
    const record = trailRecord(1, { recipientAccountId: "444444444444" });

    expect(await sink.deliver([record])).toEqual({ delivered: 1, failed: [] });

    const [message] = await receiveAll(queueUrl, 1);
    expect(message?.Attributes).toMatchObject({
      MessageGroupId: "444444444444",
      MessageDeduplicationId: record.eventID,
    });
    expect(JSON.parse(message?.Body ?? "null")).toMatchObject({
      "detail-type": "AWS API Call via CloudTrail",
    });
  });

  it("counts the envelope, not the bare record, against maxMessageBytes", async () => {
    const queueUrl = createQueue();
    const fitsBare = recordOfSize(1, 2048);
    const sink = await createSink({ queueUrl, format: "eventbridge", maxMessageBytes: 2048 });

    const result = await sink.deliver([fitsBare]);

    expect(result.failed.map((f) => (f.error as DeliveryError).code)).toEqual(["RecordTooLarge"]);
    expect((result.failed[0]!.error as DeliveryError).context.bytes).toBeGreaterThan(2048);
    expect(batchRequests).toHaveLength(0);
  });
});

describe("sqs sink options in a pipeline file", () => {
  const registry = () => new PluginRegistry([...builtinPlugins, cloudtrailDecoder, sqsSource, sqsSink]);
  const pipelineFile = (sink: Record<string, unknown>) => ({
    pipelines: [
      {
        name: "trail",
        source: { type: "sqs", queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail" },
        routes: [{ name: "all", match: { type: "event-name", names: ["RunInstances"] }, to: ["out"] }],
        sinks: { out: { type: "sqs", ...sink } },
      },
    ],
  });

  it("defaults format to record and accepts eventbridge", () => {
    const plain = pipelineFile({ queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/out" });
    expect(checkPipelineFile(plain, registry())).toEqual([]);
    expect(plain.pipelines[0]?.sinks.out).toMatchObject({ format: "record" });
    const wrapped = pipelineFile({
      queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/out",
      format: "eventbridge",
    });
    expect(checkPipelineFile(wrapped, registry())).toEqual([]);
  });

  it("refuses an unknown format with its path", () => {
    const file = pipelineFile({
      queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/out",
      format: "xml",
    });
    expect(checkPipelineFile(file, registry())).toEqual([
      { path: "pipelines[0].sinks.out.format", message: expect.stringMatching(/record.*eventbridge/) },
    ]);
  });
});
