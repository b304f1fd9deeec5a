import { randomUUID } from "node:crypto";
import { getEventListeners } from "node:events";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateTopicCommand, PublishCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  awsClientFactory,
  type Clock,
  type Envelope,
  type Logger,
  ObjectFetchError,
  RouterMetrics,
  type Source,
  systemClock,
  TrailrouterError,
  type WithoutDefaults,
  withDefaults,
} from "@trailrouter/core";
import {
  awsOperation,
  type LocalAws,
  pluginContext,
  recordCommands,
  type SentCommand,
  startFaultProxy,
  startLocalAws,
} from "@trailrouter/local-aws";
import {
  MIN_VISIBILITY_TIMEOUT_SECONDS,
  NOTIFICATIONS_METRIC,
  type SqsSourceConfig,
  sqsSource,
} from "@trailrouter/source-sqs";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const TRAIL_BUCKET = "trail-bucket";
const FOREIGN_BUCKET = "foreign-bucket";
const logKey = (name: string) =>
  `AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/111122223333_CloudTrail_us-east-1_20261126T1205Z_${name}.json.gz`;
const digestKey = (name: string) =>
  `AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/26/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_${name}.json.gz`;

let localAws: LocalAws;
const openSources: Source[] = [];

beforeAll(async () => {
  localAws = await startLocalAws();
  localAws.server.createBucket(TRAIL_BUCKET);
  localAws.server.createBucket(FOREIGN_BUCKET);
});

afterEach(async () => {
  await Promise.all(openSources.splice(0).map((source) => source.close()));
});

afterAll(async () => {
  await localAws.stop();
});

interface Harness {
  readonly source: Source;
  readonly commands: SentCommand[];
  readonly logs: { level: number; msg: string; [field: string]: unknown }[];
  readonly metrics: RouterMetrics;
  commandNames(): string[];
}

async function createSource(
  config: WithoutDefaults<SqsSourceConfig> & { queueUrl: string },
  options: {
    clock?: Clock;
    onCommand?: (command: SentCommand) => void;
    requestTimeoutMs?: number;
    /** A fault proxy in front of the emulator, say. */
    endpoint?: string;
    maxAttempts?: number;
  } = {},
): Promise<Harness> {
  const commands: SentCommand[] = [];
  const logs: Harness["logs"] = [];
  const logger: Logger = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const metrics = new RouterMetrics();
  const aws = recordCommands(
    awsClientFactory({
      endpoint: options.endpoint ?? localAws.endpoint,
      region: "us-east-1",
      requestTimeoutMs: options.requestTimeoutMs,
      maxAttempts: options.maxAttempts,
    }),
    (command) => {
      commands.push(command);
      options.onCommand?.(command);
    },
  );
  const source = await sqsSource.create(
    // No long poll unless a test asks for one: a `once` run then ends as soon as the queue is empty.
    withDefaults(sqsSource, { waitTimeSeconds: 0, ...config }),
    pluginContext({
      name: "source",
      logger,
      metrics: metrics.forPipeline("test"),
      clock: options.clock ?? systemClock,
      aws,
    }),
  );
  openSources.push(source);
  return { source, commands, logs, metrics, commandNames: () => commands.map((c) => c.name) };
}

function createQueue(attributes?: Record<string, string>) {
  const queueName = `trail-${randomUUID()}`;
  const { queueUrl } = localAws.server.createQueue(queueName, attributes ? { attributes } : undefined);
  return { queueName, queueUrl };
}

function queueState(queueName: string) {
  const state = localAws.server.inspectQueue(queueName);
  if (!state) throw new Error(`no queue ${queueName}`);
  return state.messages;
}

async function send(queueUrl: string, body: string): Promise<string> {
  const { MessageId } = await localAws.sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }),
  );
  return MessageId!;
}

async function putObject(bucket: string, key: string, body: string): Promise<void> {
  await localAws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

const cloudTrailNotification = (bucket: string, keys: string[]) =>
  JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `condition` holds, checking every 25 ms; rejects after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Runs a receive to its end, and what ended it: undefined, or the error it threw. */
async function receiveUntilEnd(
  source: Source,
  options: { signal?: AbortSignal; once: boolean },
  onEnvelope: (envelope: Envelope) => void | Promise<void> = () => {},
): Promise<unknown> {
  try {
    for await (const envelope of source.receive({
      signal: options.signal ?? new AbortController().signal,
      once: options.once,
    })) {
      await onEnvelope(envelope);
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

const s3EventNotification = (bucket: string, keys: string[]) =>
  JSON.stringify({
    Records: keys.map((key) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      eventName: "ObjectCreated:Put",
      s3: { bucket: { name: bucket }, object: { key } },
    })),
  });

const eventBridgeNotification = (bucket: string, key: string) =>
  JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "Object Created",
    source: "aws.s3",
    account: "111122223333",
    time: "2026-11-26T12:05:31Z",
    region: "us-east-1",
    resources: [`arn:aws:s3:::${bucket}`],
    detail: { version: "0", bucket: { name: bucket }, object: { key, size: 5 }, reason: "PutObject" },
  });

/** Every envelope of a `once` run, left unsettled. */
async function receiveAll(source: Source): Promise<Envelope[]> {
  const envelopes: Envelope[] = [];
  for await (const envelope of source.receive({ signal: new AbortController().signal, once: true })) {
    envelopes.push(envelope);
  }
  return envelopes;
}

async function readObjects(envelope: Envelope) {
  const objects = [];
  for await (const object of envelope.objects()) {
    objects.push({ bucket: object.bucket, key: object.key, body: Buffer.from(object.body).toString() });
  }
  return objects;
}

describe("sqs source against SQS and S3", () => {
  it("hands out each message with its receive count and fetches every key it announces", async () => {
    const { queueName, queueUrl } = createQueue();
    await putObject(TRAIL_BUCKET, logKey("first"), "first log");
    await putObject(TRAIL_BUCKET, logKey("second"), "second log");
    const messageId = await send(
      queueUrl,
      cloudTrailNotification(TRAIL_BUCKET, [logKey("first"), logKey("second")]),
    );
    const { source, commands, metrics } = await createSource({ queueUrl, maxMessages: 5, concurrency: 4 });

    const [envelope, ...others] = await receiveAll(source);
    expect(others).toEqual([]);
    expect(envelope!.id).toBe(messageId);
    expect(envelope!.receiveCount).toBe(1);
    expect(await readObjects(envelope!)).toEqual([
      { bucket: TRAIL_BUCKET, key: logKey("first"), body: "first log" },
      { bucket: TRAIL_BUCKET, key: logKey("second"), body: "second log" },
    ]);
    expect(await metrics.values(metrics.pluginCounter(NOTIFICATIONS_METRIC)!)).toEqual([
      { labels: { pipeline: "test", type: "cloudtrail" }, value: 1 },
    ]);
    const receive = commands.find((c) => c.name === "ReceiveMessageCommand")!;
    expect(receive.input).toMatchObject({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 4,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
    });
    expect(receive.input).not.toHaveProperty("VisibilityTimeout");

    await envelope!.ack();
    expect(queueState(queueName)).toEqual({ ready: [], delayed: [], inflight: [] });
  });

  it("acks exactly once: a second ack or a late nack sends nothing", async () => {
    const { queueUrl } = createQueue();
    await send(queueUrl, "CloudTrail validation message.");
    const { source, commandNames } = await createSource({ queueUrl });
    const [envelope] = await receiveAll(source);
    expect(await readObjects(envelope!)).toEqual([]);

    await envelope!.ack();
    await envelope!.ack();
    await envelope!.nack(new Error("late"));
    expect(
      commandNames().filter(
        (name) => name !== "ReceiveMessageCommand" && name !== "GetQueueAttributesCommand",
      ),
    ).toEqual(["DeleteMessageBatchCommand"]);
  });

  it("asks for the configured visibility timeout", async () => {
    const { queueName, queueUrl } = createQueue();
    await send(queueUrl, "CloudTrail validation message.");
    const { source, commands } = await createSource({ queueUrl, visibilityTimeout: 120 });
    const before = Date.now();
    await receiveAll(source);
    expect(commands.find((c) => c.name === "ReceiveMessageCommand")!.input.VisibilityTimeout).toBe(120);
    const [inflight] = queueState(queueName).inflight;
    expect(inflight!.visibilityDeadline).toBeGreaterThanOrEqual(before + 119_000);
  });

  it("nack makes the message visible again and the next receive counts 2", async () => {
    const { queueUrl } = createQueue();
    const messageId = await send(queueUrl, "CloudTrail validation message.");
    const { source, commands } = await createSource({
      queueUrl,
      waitTimeSeconds: 1,
      redeliveryDelaySeconds: 0,
    });
    const abort = new AbortController();
    const seen: { id: string; receiveCount: number }[] = [];
    for await (const envelope of source.receive({ signal: abort.signal, once: false })) {
      seen.push({ id: envelope.id, receiveCount: envelope.receiveCount });
      if (seen.length === 2) {
        abort.abort();
        await envelope.ack();
      } else {
        await envelope.nack(new Error("sink down"));
      }
    }
    expect(seen).toEqual([
      { id: messageId, receiveCount: 1 },
      { id: messageId, receiveCount: 2 },
    ]);
    const visibilityChange = commands.find((c) => c.name === "ChangeMessageVisibilityCommand");
    expect(visibilityChange?.input.VisibilityTimeout).toBe(0);
  });

  it("leaves no listener behind on the run's signal, however many receives it makes", async () => {
    const { queueUrl } = createQueue();
    for (let i = 0; i < 12; i++) await send(queueUrl, "CloudTrail validation message.");
    const { source, commandNames } = await createSource({
      queueUrl,
      waitTimeSeconds: 0,
      maxMessages: 1,
      concurrency: 1,
    });
    const abort = new AbortController();
    let most = 0;
    let received = 0;
    for await (const envelope of source.receive({ signal: abort.signal, once: true })) {
      most = Math.max(most, getEventListeners(abort.signal, "abort").length);
      received += 1;
      await envelope.ack();
    }
    expect(received).toBe(12);
    expect(commandNames().filter((name) => name === "ReceiveMessageCommand").length).toBeGreaterThanOrEqual(
      12,
    );
    expect(most).toBeLessThanOrEqual(1);
    expect(getEventListeners(abort.signal, "abort")).toHaveLength(0);
  });

  it("nack keeps the message hidden for redeliveryDelaySeconds", async () => {
    const { queueName, queueUrl } = createQueue();
    await send(queueUrl, "CloudTrail validation message.");
    const { source } = await createSource({ queueUrl, redeliveryDelaySeconds: 300 });
    const [envelope] = await receiveAll(source);
    const before = Date.now();
    await envelope!.nack(new Error("sink down"));
    const { ready, inflight } = queueState(queueName);
    expect(ready).toEqual([]);
    expect(inflight[0]!.visibilityDeadline).toBeGreaterThanOrEqual(before + 299_000);
  });

  it("hides a message failing again for twice as long, and by default not at once", async () => {
    const { queueName, queueUrl } = createQueue();
    await send(queueUrl, "CloudTrail validation message.");
    const { source } = await createSource({ queueUrl, redeliveryDelaySeconds: 1, waitTimeSeconds: 1 });
    const abort = new AbortController();
    const deadlines: number[] = [];
    for await (const envelope of source.receive({ signal: abort.signal, once: false })) {
      const before = Date.now();
      await envelope.nack(new Error("sink down"));
      deadlines.push(queueState(queueName).inflight[0]!.visibilityDeadline - before);
      if (deadlines.length === 2) abort.abort();
    }
    expect(deadlines[0]).toBeGreaterThanOrEqual(900);
    expect(deadlines[0]).toBeLessThan(1_500);
    expect(deadlines[1]).toBeGreaterThanOrEqual(1_900);
    expect(deadlines[1]).toBeLessThan(2_500);

    // Without redeliveryDelaySeconds, a failed message waits 10 s, not 0.
    const other = createQueue();
    await send(other.queueUrl, "CloudTrail validation message.");
    const { source: defaults } = await createSource({ queueUrl: other.queueUrl });
    const [envelope] = await receiveAll(defaults);
    const before = Date.now();
    await envelope!.nack(new Error("sink down"));
    expect(queueState(other.queueName).inflight[0]!.visibilityDeadline).toBeGreaterThanOrEqual(
      before + 9_000,
    );
  });

  it("extend pushes the visibility deadline", async () => {
    const { queueName, queueUrl } = createQueue();
    await send(queueUrl, "CloudTrail validation message.");
    const { source } = await createSource({ queueUrl });
    const [envelope] = await receiveAll(source);
    const before = Date.now();
    await envelope!.extend!(900);
    expect(queueState(queueName).inflight[0]!.visibilityDeadline).toBeGreaterThanOrEqual(before + 899_000);
    await envelope!.ack();
    await expect(envelope!.extend!(900)).resolves.toBeUndefined();
  });

  it("keeps a message hidden while its work outlives the visibility timeout, then deletes it", async () => {
    const { queueName, queueUrl } = createQueue();
    const messageId = await send(queueUrl, "CloudTrail validation message.");
    const { source, commands, logs } = await createSource({
      queueUrl,
      visibilityTimeout: 2,
      waitTimeSeconds: 1,
    });
    const abort = new AbortController();
    const receivedHere: string[] = [];
    let receivedElsewhere = 0;
    const work: Promise<void>[] = [];
    let firstReceived: () => void = () => {};
    const received = new Promise<void>((resolve) => {
      firstReceived = resolve;
    });
    const consumer = (async () => {
      for await (const envelope of source.receive({ signal: abort.signal, once: false })) {
        receivedHere.push(envelope.id);
        firstReceived();
        // A sink that takes 5 s, 2.5 times the visibility timeout.
        work.push(new Promise((resolve) => setTimeout(resolve, 5_000)).then(() => envelope.ack()));
      }
    })();
    await received;
    // A second consumer of the same queue, as another replica would be.
    const competitor = (async () => {
      const until = Date.now() + 5_500;
      while (Date.now() < until) {
        const { Messages = [] } = await localAws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0, VisibilityTimeout: 0 }),
        );
        receivedElsewhere += Messages.length;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    await competitor;
    await Promise.all(work);
    abort.abort();
    await consumer;

    expect(receivedHere).toEqual([messageId]);
    expect(receivedElsewhere).toBe(0);
    const beats = commands.filter((c) => c.name === "ChangeMessageVisibilityCommand");
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(beats.every((c) => c.input.VisibilityTimeout === 2)).toBe(true);
    expect(commands.filter((c) => c.name === "DeleteMessageBatchCommand")).toHaveLength(1);
    const { ready, inflight } = queueState(queueName);
    expect([...ready, ...inflight]).toEqual([]);
    expect(logs.filter((l) => l.level >= 40)).toEqual([]);
  });

  it("uses the queue's own visibility timeout for the heartbeat when none is configured", async () => {
    const { queueUrl } = createQueue({ VisibilityTimeout: "2" });
    await send(queueUrl, "CloudTrail validation message.");
    const { source, commands } = await createSource({ queueUrl });
    const [envelope] = await receiveAll(source);
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    await envelope!.ack();
    const beats = commands.filter((c) => c.name === "ChangeMessageVisibilityCommand");
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats.every((c) => c.input.VisibilityTimeout === 2)).toBe(true);
    expect(commands.filter((c) => c.name === "GetQueueAttributesCommand")).toHaveLength(1);
  });

  it("logs a failed extension and tries again at the next beat", async () => {
    const { queueUrl } = createQueue();
    await send(queueUrl, "CloudTrail validation message.");
    let refused = 0;
    const { source, commands, logs } = await createSource(
      { queueUrl, visibilityTimeout: 2 },
      {
        onCommand: (command) => {
          if (command.name === "ChangeMessageVisibilityCommand" && refused++ === 0) {
            throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
          }
        },
      },
    );
    const [envelope] = await receiveAll(source);
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    await envelope!.ack();
    expect(logs.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      "could not extend the visibility timeout; trying again at the next beat",
    ]);
    expect(commands.filter((c) => c.name === "ChangeMessageVisibilityCommand").length).toBeGreaterThanOrEqual(
      2,
    );
    expect(commands.filter((c) => c.name === "DeleteMessageBatchCommand")).toHaveLength(1);
  });

  it("close gives back at once an envelope still unsettled, and its late ack deletes nothing", async () => {
    const { queueName, queueUrl } = createQueue();
    await send(queueUrl, "CloudTrail validation message.");
    const { source, commandNames } = await createSource({ queueUrl, visibilityTimeout: 300 });
    const [envelope] = await receiveAll(source);
    await source.close();
    const { ready, inflight } = queueState(queueName);
    expect(ready).toHaveLength(1);
    expect(inflight).toEqual([]);
    await envelope!.ack();
    expect(commandNames()).not.toContain("DeleteMessageCommand");
    expect(commandNames()).not.toContain("DeleteMessageBatchCommand");
    expect(queueState(queueName).ready).toHaveLength(1);
  });

  it("refuses an object outside allowedBuckets before reading any object", async () => {
    const { queueUrl } = createQueue();
    await putObject(TRAIL_BUCKET, logKey("ours"), "ours");
    await putObject(FOREIGN_BUCKET, logKey("theirs"), "theirs");
    const body = JSON.stringify({
      Records: [TRAIL_BUCKET, FOREIGN_BUCKET].map((bucket, index) => ({
        eventVersion: "2.1",
        eventSource: "aws:s3",
        eventName: "ObjectCreated:Put",
        s3: { bucket: { name: bucket }, object: { key: logKey(index === 0 ? "ours" : "theirs") } },
      })),
    });
    const messageId = await send(queueUrl, body);
    const { source, commandNames } = await createSource({ queueUrl, allowedBuckets: [TRAIL_BUCKET] });
    const [envelope] = await receiveAll(source);

    const error = await readObjects(envelope!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectFetchError);
    expect(error).toMatchObject({
      code: "BucketNotAllowed",
      stage: "fetch",
      context: { messageId, bucket: FOREIGN_BUCKET, key: logKey("theirs") },
    });
    expect(commandNames()).not.toContain("GetObjectCommand");
  });

  it("turns a missing object into ObjectFetchError NoSuchKey with bucket and key", async () => {
    const { queueUrl } = createQueue();
    const messageId = await send(queueUrl, cloudTrailNotification(TRAIL_BUCKET, [logKey("never-written")]));
    const { source } = await createSource({ queueUrl });
    const [envelope] = await receiveAll(source);

    const error = await readObjects(envelope!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectFetchError);
    expect(error).toMatchObject({
      code: "NoSuchKey",
      stage: "fetch",
      context: { messageId, bucket: TRAIL_BUCKET, key: logKey("never-written") },
    });
  });

  it("refuses an object larger than maxObjectBytes without reading its body", async () => {
    const { queueUrl } = createQueue();
    await putObject(TRAIL_BUCKET, logKey("huge"), "x".repeat(4_096));
    const messageId = await send(queueUrl, cloudTrailNotification(TRAIL_BUCKET, [logKey("huge")]));
    const { source } = await createSource({ queueUrl, maxObjectBytes: 1_024 });
    const [envelope] = await receiveAll(source);

    const error = await readObjects(envelope!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectFetchError);
    expect(error).toMatchObject({
      code: "ObjectTooLarge",
      stage: "fetch",
      context: { messageId, bucket: TRAIL_BUCKET, key: logKey("huge"), size: 4_096 },
    });
  });

  it("turns a message it cannot understand into a NotificationError with the message id", async () => {
    const { queueUrl } = createQueue();
    const messageId = await send(queueUrl, '{"orderId":42}');
    const { source } = await createSource({ queueUrl });
    const [envelope] = await receiveAll(source);
    await expect(readObjects(envelope!)).rejects.toMatchObject({
      name: "NotificationError",
      code: "UnrecognizedNotification",
      context: { messageId },
    });
  });

  it("skips digests by default and counts them; passes them on when asked", async () => {
    const { queueUrl } = createQueue();
    await putObject(TRAIL_BUCKET, logKey("log"), "log");
    await putObject(TRAIL_BUCKET, digestKey("digest"), "digest");
    const body = cloudTrailNotification(TRAIL_BUCKET, [digestKey("digest"), logKey("log")]);

    await send(queueUrl, body);
    const skipping = await createSource({ queueUrl });
    const [first] = await receiveAll(skipping.source);
    expect((await readObjects(first!)).map((o) => o.key)).toEqual([logKey("log")]);
    expect(await skipping.metrics.values(skipping.metrics.objectsSkipped)).toEqual([
      { labels: { pipeline: "test", reason: "digest" }, value: 1 },
    ]);
    expect(skipping.commands.filter((c) => c.name === "GetObjectCommand").map((c) => c.input.Key)).toEqual([
      logKey("log"),
    ]);
    await first!.ack();

    await send(queueUrl, body);
    const passing = await createSource({ queueUrl, ignoreDigests: false });
    const [second] = await receiveAll(passing.source);
    expect((await readObjects(second!)).map((o) => o.key)).toEqual([digestKey("digest"), logKey("log")]);
    expect(await passing.metrics.values(passing.metrics.objectsSkipped)).toEqual([]);
  });

  it("reads S3 event notifications with encoded keys from the bucket", async () => {
    const { queueUrl } = createQueue();
    const key = "audit logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/26/a:b.json.gz";
    await putObject(TRAIL_BUCKET, key, "encoded");
    await send(
      queueUrl,
      JSON.stringify({
        Records: [
          {
            eventVersion: "2.1",
            eventSource: "aws:s3",
            eventName: "ObjectCreated:Put",
            s3: {
              bucket: { name: TRAIL_BUCKET },
              object: { key: encodeURIComponent(key).replace(/%20/g, "+") },
            },
          },
        ],
      }),
    );
    const { source } = await createSource({ queueUrl });
    const [envelope] = await receiveAll(source);
    expect(await readObjects(envelope!)).toEqual([{ bucket: TRAIL_BUCKET, key, body: "encoded" }]);
  });

  it("understands what SNS delivers, enveloped and raw", async () => {
    await putObject(TRAIL_BUCKET, logKey("via-sns"), "via sns");
    const enveloped = createQueue();
    const raw = createQueue();
    const { TopicArn } = await localAws.sns.send(
      new CreateTopicCommand({ Name: `trail-topic-${randomUUID()}` }),
    );
    for (const [queue, rawDelivery] of [
      [enveloped, "false"],
      [raw, "true"],
    ] as const) {
      await localAws.sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: "sqs",
          Endpoint: `arn:aws:sqs:us-east-1:000000000000:${queue.queueName}`,
          Attributes: { RawMessageDelivery: rawDelivery },
        }),
      );
    }
    await localAws.sns.send(
      new PublishCommand({ TopicArn, Message: cloudTrailNotification(TRAIL_BUCKET, [logKey("via-sns")]) }),
    );

    for (const queue of [enveloped, raw]) {
      const { source, metrics } = await createSource({ queueUrl: queue.queueUrl });
      const [envelope] = await receiveAll(source);
      expect(await readObjects(envelope!)).toEqual([
        { bucket: TRAIL_BUCKET, key: logKey("via-sns"), body: "via sns" },
      ]);
      expect(await metrics.values(metrics.pluginCounter(NOTIFICATIONS_METRIC)!)).toEqual([
        { labels: { pipeline: "test", type: "cloudtrail" }, value: 1 },
      ]);
    }
  });

  it("once ends on an empty queue, waiting at most a second", async () => {
    const { queueUrl } = createQueue();
    const { source, commands } = await createSource({ queueUrl, waitTimeSeconds: 20 });
    const started = Date.now();
    expect(await receiveAll(source)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(commands.map((c) => [c.name, c.input.WaitTimeSeconds])).toEqual([
      ["GetQueueAttributesCommand", undefined],
      ["ReceiveMessageCommand", 1],
    ]);
  });

  it("never has more than `concurrency` envelopes unsettled", async () => {
    const { queueName, queueUrl } = createQueue();
    const sent = await Promise.all(
      Array.from({ length: 6 }, () => send(queueUrl, "CloudTrail validation message.")),
    );
    let inHand = 0;
    let mostInHand = 0;
    const receives: { inHand: number; maxMessages: unknown }[] = [];
    const { source } = await createSource(
      { queueUrl, concurrency: 2 },
      {
        onCommand: (command) => {
          if (command.name === "ReceiveMessageCommand") {
            receives.push({ inHand, maxMessages: command.input.MaxNumberOfMessages });
          }
        },
      },
    );
    const received: string[] = [];
    const settling: Promise<void>[] = [];
    for await (const envelope of source.receive({ signal: new AbortController().signal, once: true })) {
      inHand += 1;
      mostInHand = Math.max(mostInHand, inHand);
      received.push(envelope.id);
      settling.push(
        new Promise<void>((resolve) => setTimeout(resolve, 30)).then(() => {
          inHand -= 1;
          return envelope.ack();
        }),
      );
    }
    await Promise.all(settling);

    expect(received.sort()).toEqual([...sent].sort());
    expect(mostInHand).toBe(2);
    for (const receive of receives) {
      expect(receive.inHand).toBeLessThan(2);
      expect(receive.maxMessages).toBeLessThanOrEqual(2 - receive.inHand);
    }
    expect(queueState(queueName)).toEqual({ ready: [], delayed: [], inflight: [] });
  });

  it("in once mode hands a nacked message out only once, gives it back, and ends", async () => {
    const { queueName, queueUrl } = createQueue();
    const poison = await send(queueUrl, "not a notification");
    const good = await send(queueUrl, "CloudTrail validation message.");
    const { source } = await createSource({ queueUrl, maxMessages: 1, redeliveryDelaySeconds: 0 });

    const handedOut: string[] = [];
    for await (const envelope of source.receive({ signal: new AbortController().signal, once: true })) {
      handedOut.push(envelope.id);
      try {
        await readObjects(envelope);
        await envelope.ack();
      } catch (error) {
        await envelope.nack(error as Error);
      }
    }

    expect(handedOut.sort()).toEqual([poison, good].sort());
    const { ready, inflight } = queueState(queueName);
    expect(inflight).toEqual([]);
    expect(ready.map((m) => m.messageId)).toEqual([poison]);
    expect(ready[0]!.approximateReceiveCount).toBe(2);
  });

  it("stops receiving promptly when aborted during a long poll", async () => {
    const { queueUrl } = createQueue();
    const { source } = await createSource({ queueUrl, waitTimeSeconds: 20 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const started = Date.now();
    const envelopes: Envelope[] = [];
    for await (const envelope of source.receive({ signal: abort.signal, once: false }))
      envelopes.push(envelope);
    expect(envelopes).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("waits a whole long poll even when the request timeout is shorter than the wait", async () => {
    const { queueUrl } = createQueue();
    const { source, logs, metrics } = await createSource(
      { queueUrl, waitTimeSeconds: 1 },
      { requestTimeoutMs: 300 },
    );
    const abort = new AbortController();
    let messageId = "";
    setTimeout(async () => {
      messageId = await send(queueUrl, "CloudTrail validation message.");
    }, 2_500);
    const received: string[] = [];
    for await (const envelope of source.receive({ signal: abort.signal, once: false })) {
      received.push(envelope.id);
      abort.abort();
      await envelope.ack();
    }
    expect(received).toEqual([messageId]);
    expect(await metrics.values(metrics.failures)).toEqual([]);
    expect(logs.filter((entry) => entry.level >= 40)).toEqual([]);
  });

  it("stops receiving promptly when aborted while every slot is taken", async () => {
    const { queueUrl } = createQueue();
    await send(queueUrl, "CloudTrail validation message.");
    await send(queueUrl, "CloudTrail validation message.");
    const { source, commandNames } = await createSource({ queueUrl, concurrency: 1, waitTimeSeconds: 1 });
    const abort = new AbortController();
    const envelopes: Envelope[] = [];
    for await (const envelope of source.receive({ signal: abort.signal, once: false })) {
      envelopes.push(envelope);
      setTimeout(() => abort.abort(), 200);
    }
    expect(envelopes).toHaveLength(1);
    expect(commandNames().filter((name) => name === "ReceiveMessageCommand")).toHaveLength(1);
  });

  it("in once mode, a receive error ends the iteration with a receive-stage error", async () => {
    const { queueName, queueUrl } = createQueue();
    localAws.server.deleteQueue(queueName);
    const { source, metrics } = await createSource({ queueUrl });
    const error = await receiveAll(source).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrailrouterError);
    expect(error).toMatchObject({ stage: "receive", code: "QueueDoesNotExist", context: { queueUrl } });
    // The caller sees this error and counts it; the source counts only what it retries.
    expect(await metrics.values(metrics.failures)).toEqual([]);
  });

  it("as a daemon, ends the receive at once on a failure retrying cannot help, logged at error", async () => {
    const missing = createQueue();
    localAws.server.deleteQueue(missing.queueName);
    const denied = createQueue();
    const cases = [
      { queueUrl: missing.queueUrl, code: "QueueDoesNotExist", onCommand: undefined },
      {
        queueUrl: denied.queueUrl,
        code: "AccessDenied",
        onCommand: (command: SentCommand) => {
          if (command.name === "ReceiveMessageCommand") {
            throw Object.assign(new Error("not authorized to receive"), {
              name: "AccessDenied",
              $metadata: { httpStatusCode: 403 },
            });
          }
        },
      },
    ];
    for (const { queueUrl, code, onCommand } of cases) {
      const { source, logs, metrics } = await createSource({ queueUrl, waitTimeSeconds: 1 }, { onCommand });
      const started = Date.now();
      const error = await receiveUntilEnd(source, { once: false });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(TrailrouterError);
      expect(error).toMatchObject({ stage: "receive", code, context: { queueUrl } });
      expect(logs.filter((entry) => entry.level === 50)).toEqual([
        expect.objectContaining({
          msg: "receiving from the queue failed and retrying cannot help: the source stops",
          queueUrl,
          err: expect.objectContaining({ code, stage: "receive" }),
        }),
      ]);
      // The caller sees this error and counts it; the source counts only what it retries.
      expect(await metrics.values(metrics.failures)).toEqual([]);
    }
  });

  it("otherwise retries an unreachable queue from 1 s doubling to 30 s, warns at each longest wait, and recovers", async () => {
    const { queueUrl } = createQueue();
    const proxy = await startFaultProxy({ target: localAws.endpoint });
    proxy.down();
    const sleeps: number[] = [];
    let messageId = "";
    const clock: Clock = {
      now: () => Date.now(),
      async sleep(ms) {
        sleeps.push(ms);
        if (sleeps.length === 7) {
          proxy.up();
          messageId = await send(queueUrl, "CloudTrail validation message.");
        }
      },
    };
    try {
      const { source, logs, metrics } = await createSource(
        { queueUrl, waitTimeSeconds: 1 },
        { clock, endpoint: proxy.endpoint, maxAttempts: 1 },
      );
      const abort = new AbortController();
      const received: string[] = [];
      for await (const envelope of source.receive({ signal: abort.signal, once: false })) {
        received.push(envelope.id);
        abort.abort();
        await envelope.ack();
      }

      expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
      expect(received).toEqual([messageId]);
      const failures = await metrics.values(metrics.failures);
      expect(failures.every((failure) => failure.labels.stage === "receive")).toBe(true);
      expect(failures.reduce((sum, failure) => sum + failure.value, 0)).toBe(7);
      const warnings = logs.filter((entry) => entry.level === 40);
      expect(warnings.map((entry) => [entry.msg, entry.retryInMs])).toEqual([
        ["receiving from the queue failed; retrying with backoff", 1_000],
        ["receiving from the queue still fails; retrying at the longest backoff", 30_000],
        ["receiving from the queue still fails; retrying at the longest backoff", 30_000],
      ]);
      expect(warnings.every((entry) => (entry.err as { stage?: string }).stage === "receive")).toBe(true);
      expect(logs.filter((entry) => entry.level >= 50)).toEqual([]);
      expect(logs.filter((entry) => entry.level === 30).map((entry) => entry.msg)).toEqual([
        "queue settings read",
        "receiving from the queue works again",
      ]);
    } finally {
      await proxy.stop();
    }
  });

  it("logs at debug what it receives, acks and nacks, with the message id", async () => {
    const { queueUrl } = createQueue();
    const acked = await send(queueUrl, "CloudTrail validation message.");
    const nacked = await send(queueUrl, "CloudTrail validation message.");
    const { source, logs } = await createSource({ queueUrl, redeliveryDelaySeconds: 60 });
    for (const envelope of await receiveAll(source)) {
      if (envelope.id === acked) await envelope.ack();
      else await envelope.nack(new Error("sink down"));
    }
    const debug = logs.filter((entry) => entry.level === 20).map((entry) => [entry.msg, entry.messageId]);
    expect(debug).toEqual(
      expect.arrayContaining([
        ["message received", acked],
        ["message received", nacked],
        ["message acked (deleted)", acked],
        ["message nacked (given back)", nacked],
      ]),
    );
  });

  it("refuses a queue whose own visibility timeout is below 2 s, in once mode and as a daemon", async () => {
    for (const [queueTimeout, once] of [
      [0, true],
      [0, false],
      [1, false],
    ] as const) {
      const { queueUrl } = createQueue({ VisibilityTimeout: String(queueTimeout) });
      await send(queueUrl, "CloudTrail validation message.");
      const { source, commandNames } = await createSource({ queueUrl, waitTimeSeconds: 1 });
      const handedOut: string[] = [];
      const started = Date.now();
      const error = await receiveUntilEnd(source, { once }, (envelope) => {
        handedOut.push(envelope.id);
      });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(TrailrouterError);
      expect(error).toMatchObject({
        stage: "receive",
        code: "VisibilityTimeoutTooShort",
        context: { queueUrl, visibilityTimeout: queueTimeout, minimum: MIN_VISIBILITY_TIMEOUT_SECONDS },
      });
      const { message } = error as TrailrouterError;
      expect(message).toContain(`queue ${queueUrl} has a VisibilityTimeout of ${queueTimeout} s`);
      expect(message).toContain(`${MIN_VISIBILITY_TIMEOUT_SECONDS} s minimum`);
      expect(message).toContain("set the source's visibilityTimeout");
      expect(handedOut).toEqual([]);
      expect(commandNames()).toEqual(["GetQueueAttributesCommand"]);
    }
  });

  it("takes a configured visibility timeout over the queue's too short one", async () => {
    const { queueUrl } = createQueue({ VisibilityTimeout: "0" });
    const messageId = await send(queueUrl, "CloudTrail validation message.");
    const { source, commands } = await createSource({ queueUrl, visibilityTimeout: 2 });
    const envelopes = await receiveAll(source);
    expect(envelopes.map((envelope) => envelope.id)).toEqual([messageId]);
    expect(commands.find((c) => c.name === "ReceiveMessageCommand")!.input.VisibilityTimeout).toBe(2);
    await envelopes[0]!.ack();
  });

  it("hands out one envelope per message in flight, and deletes it with its newest receipt handle", async () => {
    const { queueName, queueUrl } = createQueue();
    const messageId = await send(queueUrl, "CloudTrail validation message.");
    let refuseBeats = true;
    const { source, logs } = await createSource(
      { queueUrl, visibilityTimeout: 2, waitTimeSeconds: 1 },
      {
        onCommand: (command) => {
          // A heartbeat that cannot keep up: the lease runs out and the message is received again.
          if (refuseBeats && command.name === "ChangeMessageVisibilityCommand") {
            throw Object.assign(new Error("beat timed out"), { name: "TimeoutError" });
          }
        },
      },
    );
    const receivedAgain = () =>
      logs.filter((entry) => entry.msg.startsWith("message received again while in flight"));
    const abort = new AbortController();
    const handedOut: string[] = [];
    let work: Promise<void> | undefined;
    let receivedAgainAfterRecovery = -1;
    const consumer = receiveUntilEnd(source, { signal: abort.signal, once: false }, (envelope) => {
      handedOut.push(envelope.id);
      work ??= (async () => {
        await until(() => receivedAgain().length > 0, 8_000);
        refuseBeats = false;
        const seen = receivedAgain().length;
        // With the newest receipt handle, the heartbeat keeps the message hidden from now on.
        await sleep(3_000);
        receivedAgainAfterRecovery = receivedAgain().length - seen;
        await envelope.ack();
      })();
    });
    await until(() => work !== undefined, 5_000);
    await work;
    abort.abort();
    expect(await consumer).toBeUndefined();

    expect(handedOut).toEqual([messageId]);
    expect(receivedAgain()[0]).toMatchObject({ level: 30, messageId });
    expect(receivedAgainAfterRecovery).toBe(0);
    expect(queueState(queueName)).toEqual({ ready: [], delayed: [], inflight: [] });
  });

  it("deletes with the newer receipt handle a message received again while its ack is under way", async () => {
    const { queueName, queueUrl } = createQueue();
    const messageId = await send(queueUrl, "CloudTrail validation message.");
    // A first delete that takes longer than the lease left once the heartbeat stopped.
    let deletes = 0;
    const proxy = await startFaultProxy({
      target: localAws.endpoint,
      rules: [
        (request) =>
          awsOperation(request) === "DeleteMessageBatch" && deletes++ === 0
            ? { kind: "delay", ms: 4_000 }
            : undefined,
      ],
    });
    try {
      const { source, logs } = await createSource(
        { queueUrl, visibilityTimeout: 2, waitTimeSeconds: 1 },
        { endpoint: proxy.endpoint },
      );
      const abort = new AbortController();
      const handedOut: string[] = [];
      let acking: Promise<void> | undefined;
      const consumer = receiveUntilEnd(source, { signal: abort.signal, once: false }, (envelope) => {
        handedOut.push(envelope.id);
        acking ??= envelope.ack();
      });
      await until(() => acking !== undefined, 5_000);
      await acking;
      abort.abort();
      expect(await consumer).toBeUndefined();

      expect(handedOut).toEqual([messageId]);
      expect(logs.filter((entry) => entry.msg.startsWith("message received again while in flight"))).toEqual([
        expect.objectContaining({ level: 30, messageId, acked: true }),
      ]);
      expect(deletes).toBe(2);
      expect(queueState(queueName)).toEqual({ ready: [], delayed: [], inflight: [] });
    } finally {
      await proxy.stop();
    }
  });

  it("as a daemon, backs off from an idle queue without a long poll, and still receives within a second or so", async () => {
    const { queueUrl } = createQueue();
    const { source, commandNames } = await createSource({ queueUrl, waitTimeSeconds: 0 });
    const abort = new AbortController();
    const received: { id: string; at: number }[] = [];
    const consumer = receiveUntilEnd(source, { signal: abort.signal, once: false }, async (envelope) => {
      received.push({ id: envelope.id, at: Date.now() });
      abort.abort();
      await envelope.ack();
    });
    await sleep(3_000);
    const idleReceives = commandNames().filter((name) => name === "ReceiveMessageCommand").length;
    const sentAt = Date.now();
    const messageId = await send(queueUrl, "CloudTrail validation message.");
    const giveUp = setTimeout(() => abort.abort(), 5_000);
    expect(await consumer).toBeUndefined();
    clearTimeout(giveUp);

    expect(idleReceives).toBeGreaterThanOrEqual(3);
    expect(idleReceives).toBeLessThanOrEqual(8);
    expect(received.map((entry) => entry.id)).toEqual([messageId]);
    expect(received[0]!.at - sentAt).toBeLessThan(1_500);
  });

  it("ends a pause after empty receives at once when aborted", async () => {
    const { queueUrl } = createQueue();
    const { source, commandNames } = await createSource({ queueUrl, waitTimeSeconds: 0 });
    const abort = new AbortController();
    const consumer = receiveUntilEnd(source, { signal: abort.signal, once: false });
    const receives = () => commandNames().filter((name) => name === "ReceiveMessageCommand").length;
    // After six empty receives the pause is a whole second: abort inside it.
    await until(() => receives() >= 6, 5_000);
    await sleep(100);
    expect(receives()).toBe(6);
    const abortedAt = Date.now();
    abort.abort();
    expect(await consumer).toBeUndefined();
    expect(Date.now() - abortedAt).toBeLessThan(200);
  });

  it("pauses not at all between long polls of an idle queue", async () => {
    const { queueUrl } = createQueue();
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (ms, signal) => {
        sleeps.push(ms);
        return systemClock.sleep(ms, signal);
      },
    };
    const { source, commandNames } = await createSource({ queueUrl, waitTimeSeconds: 1 }, { clock });
    const abort = new AbortController();
    const consumer = receiveUntilEnd(source, { signal: abort.signal, once: false });
    await sleep(2_500);
    abort.abort();
    expect(await consumer).toBeUndefined();
    expect(commandNames().filter((name) => name === "ReceiveMessageCommand").length).toBeGreaterThanOrEqual(
      2,
    );
    expect(sleeps).toEqual([]);
  });

  it("fetches an object a notification lists many times once, and counts the others as duplicates", async () => {
    const prefix = `dup-${randomUUID()}/`;
    await putObject(TRAIL_BUCKET, logKey(`${prefix}listed`), "listed");
    await putObject(TRAIL_BUCKET, logKey(`${prefix}other`), "other");
    await putObject(TRAIL_BUCKET, `${prefix}a b.json.gz`, "spaced");
    const { queueUrl } = createQueue();
    await send(
      queueUrl,
      cloudTrailNotification(TRAIL_BUCKET, [
        ...Array.from({ length: 50 }, () => logKey(`${prefix}listed`)),
        logKey(`${prefix}other`),
        logKey(`${prefix}listed`),
      ]),
    );
    // Two spellings of one key, the same once decoded.
    await send(
      queueUrl,
      s3EventNotification(TRAIL_BUCKET, [`${prefix}a+b.json.gz`, `${prefix}a%20b.json.gz`]),
    );
    const { source, commands, metrics, logs } = await createSource({ queueUrl });
    const envelopes = await receiveAll(source);
    const read = [];
    for (const envelope of envelopes) read.push(...(await readObjects(envelope)));

    expect(read.map((object) => object.body).sort()).toEqual(["listed", "other", "spaced"]);
    expect(commands.filter((c) => c.name === "GetObjectCommand")).toHaveLength(3);
    expect(await metrics.values(metrics.objectsSkipped)).toEqual([
      { labels: { pipeline: "test", reason: "duplicate" }, value: 51 },
    ]);
    expect(
      logs.filter(
        (entry) => entry.level === 20 && entry.msg === "object listed again in the notification skipped",
      ),
    ).toHaveLength(51);
  });

  it("reads S3 event keys whichever way they were encoded, each object once", async () => {
    const prefix = `keys-${randomUUID()}/`;
    // The object's name, and how the notification spells it.
    const spellings: [string, string][] = [
      ["plus+sign.json.gz", "plus+sign.json.gz"],
      ["a b.json.gz", "a+b.json.gz"],
      ["pct%20lit.json.gz", "pct%20lit.json.gz"],
      ["100%.json.gz", "100%.json.gz"],
    ];
    for (const [name] of spellings) await putObject(TRAIL_BUCKET, `${prefix}${name}`, `body of ${name}`);
    const expected = spellings
      .map(([name]) => ({ bucket: TRAIL_BUCKET, key: `${prefix}${name}`, body: `body of ${name}` }))
      .sort((a, b) => a.key.localeCompare(b.key));

    const notifications = {
      "s3-event": [
        s3EventNotification(
          TRAIL_BUCKET,
          spellings.map(([, announced]) => `${prefix}${announced}`),
        ),
      ],
      eventbridge: spellings.map(([, announced]) =>
        eventBridgeNotification(TRAIL_BUCKET, `${prefix}${announced}`),
      ),
    };
    for (const [type, bodies] of Object.entries(notifications)) {
      const { queueUrl } = createQueue();
      for (const body of bodies) await send(queueUrl, body);
      const { source, metrics } = await createSource({ queueUrl });
      const read = [];
      for (const envelope of await receiveAll(source)) {
        read.push(...(await readObjects(envelope)));
        await envelope.ack();
      }
      expect(
        read.sort((a, b) => a.key.localeCompare(b.key)),
        type,
      ).toEqual(expected);
      expect(await metrics.values(metrics.pluginCounter(NOTIFICATIONS_METRIC)!)).toEqual([
        { labels: { pipeline: "test", type }, value: bodies.length },
      ]);
    }
  });

  it("reads the key as written when S3 denies the decoded one, as it does a reader that may not list the bucket", async () => {
    const key = `denied-${randomUUID()}/plus+sign.json.gz`;
    await putObject(TRAIL_BUCKET, key, "plus");
    const { queueUrl } = createQueue();
    await send(queueUrl, eventBridgeNotification(TRAIL_BUCKET, key));
    const { source, logs } = await createSource(
      { queueUrl },
      {
        onCommand: (command) => {
          if (command.name === "GetObjectCommand" && command.input.Key !== key) {
            throw Object.assign(new Error("Access Denied"), {
              name: "AccessDenied",
              $metadata: { httpStatusCode: 403 },
            });
          }
        },
      },
    );
    const [envelope] = await receiveAll(source);
    expect(await readObjects(envelope!)).toEqual([{ bucket: TRAIL_BUCKET, key, body: "plus" }]);
    expect(
      logs.filter((entry) => entry.level === 20 && entry.key === key).map((entry) => entry.msg),
    ).toContain("no object under the decoded key: read it under the key as written");
  });

  it("reports a key found under neither spelling as NoSuchKey, with both", async () => {
    const { queueUrl } = createQueue();
    const key = `missing-${randomUUID()}/a+b.json.gz`;
    const messageId = await send(queueUrl, s3EventNotification(TRAIL_BUCKET, [key]));
    const { source, commands } = await createSource({ queueUrl });
    const [envelope] = await receiveAll(source);
    const error = await readObjects(envelope!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectFetchError);
    expect(error).toMatchObject({
      code: "NoSuchKey",
      context: { messageId, bucket: TRAIL_BUCKET, key: key.replace("+", " "), keyAsWritten: key },
    });
    expect(commands.filter((c) => c.name === "GetObjectCommand").map((c) => c.input.Key)).toEqual([
      key.replace("+", " "),
      key,
    ]);
  });
});
