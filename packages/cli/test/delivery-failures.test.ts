/**
 * Entries a service fails inside a successful answer (EventBridge's FailedEntryCount, SNS's
 * Failed[]) are retried, and when they keep failing the source message is not deleted. The
 * emulators never fail an entry, so a fault proxy in front of them answers in their place.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateEventBusCommand, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateTopicCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { TrailRecord } from "@trailrouter/core";
import {
  awsOperation,
  cloudTrailKey,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  type EmulatedAws,
  type FaultProxy,
  type FaultRule,
  type LocalAws,
  loadSampleRecords,
  type MotoAws,
  type ProxiedRequest,
  queueDepth,
  startFaultProxy,
  startLocalAws,
  startMoto,
  type TrailWorld,
} from "@trailrouter/local-aws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { errorCodes, type LogLine, runOnce } from "./support.js";

const ACCOUNT = "111122223333";
/** Sends of an entry at most; short backoffs keep the test fast. */
const ATTEMPTS = 3;

/**
 * One pipeline: every RunInstances record to the sink `out`. The source talks to the emulator;
 * the sink, through its own `aws.endpoint`, to the fault proxy in front of it.
 */
function pipelineFile(sink: string): string {
  return `
aws:
  region: us-east-1
  endpoint: \${EMULATOR_ENDPOINT}
pipelines:
  - name: failures
    source:
      type: sqs
      queueUrl: \${TRAIL_QUEUE_URL}
      waitTimeSeconds: 1
      visibilityTimeout: 30
    decoder:
      type: cloudtrail
    routes:
      - name: instances
        match:
          type: event-pattern
          pattern:
            eventName: [RunInstances]
        to: [out]
    sinks:
      out:
${sink}
        retry: { attempts: ${ATTEMPTS}, baseDelayMs: 1, maxDelayMs: 5 }
        aws:
          endpoint: \${SINK_ENDPOINT}
`;
}

let files: { eventbridge: string; sns: string };
const proxies: FaultProxy[] = [];
let worlds = 0;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "trailrouter-delivery-failures-"));
  files = { eventbridge: path.join(dir, "eventbridge.yaml"), sns: path.join(dir, "sns.yaml") };
  await writeFile(
    files.eventbridge,
    pipelineFile(
      `        type: eventbridge\n        eventBusName: \${EVENT_BUS_NAME}\n        source: trailrouter.test`,
    ),
  );
  await writeFile(files.sns, pipelineFile(`        type: sns\n        topicArn: \${TOPIC_ARN}`));
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
});

async function faultProxy(target: string, rule: FaultRule): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target, rules: [rule] });
  proxies.push(proxy);
  return proxy;
}

/**
 * A rule failing every entry of the first `times` requests of `operation` (all of them by
 * default), with the answer `answer` makes of the request; later requests go to the emulator.
 */
function failEntries(
  operation: string,
  answer: (request: ProxiedRequest) => string,
  contentType: string,
  times = Number.POSITIVE_INFINITY,
): FaultRule {
  let failed = 0;
  return (request) => {
    if (awsOperation(request) !== operation || failed >= times) return undefined;
    failed += 1;
    return { kind: "respond", status: 200, headers: { "content-type": contentType }, body: answer(request) };
  };
}

/** EventBridge's answer when it throttles every entry: HTTP 200, each entry with its error. */
function throttledPutEvents(request: ProxiedRequest): string {
  const { Entries } = JSON.parse(request.body.toString()) as { Entries: unknown[] };
  return JSON.stringify({
    FailedEntryCount: Entries.length,
    Entries: Entries.map(() => ({ ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" })),
  });
}

/** The form fields of a PublishBatch's entries, by entry: `{ Id, Message, ... }`. */
function publishBatchEntries(request: ProxiedRequest): Record<string, string>[] {
  const entries = new Map<string, Record<string, string>>();
  for (const [name, value] of new URLSearchParams(request.body.toString())) {
    const field = /^PublishBatchRequestEntries\.member\.(\d+)\.(Id|Message)$/.exec(name);
    if (!field) continue;
    const entry = entries.get(field[1]!) ?? {};
    entry[field[2]!] = value;
    entries.set(field[1]!, entry);
  }
  return [...entries.values()];
}

/** SNS's answer (query protocol, XML) when it throttles every entry of a PublishBatch. */
function throttledPublishBatch(request: ProxiedRequest): string {
  const failed = publishBatchEntries(request).map(
    (entry) =>
      `<member><Id>${entry.Id}</Id><Code>Throttling</Code><SenderFault>false</SenderFault><Message>Rate exceeded</Message></member>`,
  );
  return `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <PublishBatchResult><Successful/><Failed>${failed.join("")}</Failed></PublishBatchResult>
  <ResponseMetadata><RequestId>4e1f2a8c-0000-4000-8000-000000000000</RequestId></ResponseMetadata>
</PublishBatchResponse>`;
}

/** A trail with one log file, announced in one message: a few RunInstances records among others. */
async function trailWithOneMessage(aws: EmulatedAws): Promise<{ world: TrailWorld; routed: string[] }> {
  const n = ++worlds;
  const world = await createTrailWorld(aws, {
    bucket: `failures-${n}`,
    topicName: `failures-${n}`,
    queueName: `failures-${n}`,
  });
  const time = new Date(Date.UTC(2026, 10, 26, 15, n));
  const samples = loadSampleRecords();
  const runInstances = samples.find((r) => r.eventName === "RunInstances")!;
  // Fewer than 10 routed records: one request per attempt.
  const instances = [1, 2, 3, 4].map(() => ({ ...runInstances, eventID: randomUUID() }));
  const others = samples.filter((r) => r.eventName !== "RunInstances").slice(0, 6);
  const key = cloudTrailKey({ accountId: ACCOUNT, region: "us-east-1", time, kind: "log" });
  await deliverLogFiles(aws, world, [{ key, records: [...instances, ...others] }]);
  return { world, routed: instances.map((r) => r.eventID!).sort() };
}

async function createQueue(aws: EmulatedAws, name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function messagesLeft(aws: EmulatedAws, queueUrl: string): Promise<number> {
  const depth = await queueDepth(aws, queueUrl);
  return depth.visible + depth.inFlight;
}

/** The error line of the envelope given back. */
function givenBack(logs: LogLine[]): LogLine {
  const lines = logs.filter((l) => l.level >= 50 && l.err);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("EventBridge PutEvents answered with throttled entries (moto behind a fault proxy)", () => {
  let moto: MotoAws;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  /** An event bus whose rule sends the sink's events to a queue. */
  async function busToQueue(): Promise<{ bus: string; queueUrl: string }> {
    const bus = `failures-${++worlds}`;
    await moto.events.send(new CreateEventBusCommand({ Name: bus }));
    const queue = await createQueue(moto, `${bus}-events`);
    await moto.events.send(
      new PutRuleCommand({
        Name: bus,
        EventBusName: bus,
        EventPattern: JSON.stringify({ source: ["trailrouter.test"] }),
      }),
    );
    await moto.events.send(
      new PutTargetsCommand({ Rule: bus, EventBusName: bus, Targets: [{ Id: "queue", Arn: queue.arn }] }),
    );
    return { bus, queueUrl: queue.url };
  }

  async function run(throttledRequests?: number) {
    const { world, routed } = await trailWithOneMessage(moto);
    const { bus, queueUrl } = await busToQueue();
    const proxy = await faultProxy(
      moto.endpoint,
      failEntries("PutEvents", throttledPutEvents, "application/x-amz-json-1.1", throttledRequests),
    );
    const result = await runOnce(files.eventbridge, {
      EMULATOR_ENDPOINT: moto.endpoint,
      SINK_ENDPOINT: proxy.endpoint,
      TRAIL_QUEUE_URL: world.queueUrl,
      EVENT_BUS_NAME: bus,
    });
    const putEvents = proxy.requests.filter((r) => awsOperation(r) === "PutEvents");
    const sentIds = putEvents.map((r) =>
      (JSON.parse(r.body.toString()) as { Entries: { Detail: string }[] }).Entries.map(
        (entry) => (JSON.parse(entry.Detail) as TrailRecord).eventID,
      ).sort(),
    );
    const onTheBus = (await drainQueue(moto, queueUrl)).map(
      (m) => (m.body as { detail: TrailRecord }).detail.eventID,
    );
    return { result, routed, putEvents, sentIds, onTheBus, left: await messagesLeft(moto, world.queueUrl) };
  }

  it("retries the throttled entries, then gives up and leaves the message in its queue", async () => {
    const { result, routed, putEvents, sentIds, onTheBus, left } = await run();
    expect(result.code).toBe(1);
    expect(putEvents.map((r) => r.answeredBy)).toEqual(["rule", "rule", "rule"]);
    expect(sentIds).toEqual([routed, routed, routed]);
    expect(onTheBus).toEqual([]);
    expect(left).toBe(1);
    const line = givenBack(result.logs);
    expect(line.err).toMatchObject({
      stage: "deliver",
      code: "ThrottlingException",
      sink: "out",
      failedRecords: routed.length,
    });
    expect(line.err!.cause).toMatch(`Rate exceeded (still failing after ${ATTEMPTS} attempts)`);
    expect(errorCodes(result.logs)).toEqual(["deliver/ThrottlingException"]);
  });

  it("delivers on the retry when only the first answer throttles, and deletes the message", async () => {
    const { result, routed, putEvents, sentIds, onTheBus, left } = await run(1);
    expect(errorCodes(result.logs)).toEqual([]);
    expect(result.code).toBe(0);
    expect(putEvents.map((r) => r.answeredBy)).toEqual(["rule", "target"]);
    expect(sentIds).toEqual([routed, routed]);
    expect(onTheBus.sort()).toEqual(routed);
    expect(left).toBe(0);
  });
});

describe("SNS PublishBatch answered with throttled entries (fauxqs behind a fault proxy)", () => {
  let fauxqs: LocalAws;
  beforeAll(async () => {
    fauxqs = await startLocalAws();
  });
  afterAll(async () => {
    await fauxqs?.stop();
  });

  /** A topic with a queue subscribed (raw delivery: the queue gets the record itself). */
  async function topicToQueue(): Promise<{ topicArn: string; queueUrl: string }> {
    const name = `failures-${++worlds}`;
    const { TopicArn } = await fauxqs.sns.send(new CreateTopicCommand({ Name: name }));
    const queue = await createQueue(fauxqs, `${name}-subscriber`);
    await fauxqs.sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: queue.arn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    return { topicArn: TopicArn!, queueUrl: queue.url };
  }

  async function run(throttledRequests?: number) {
    const { world, routed } = await trailWithOneMessage(fauxqs);
    const { topicArn, queueUrl } = await topicToQueue();
    const proxy = await faultProxy(
      fauxqs.endpoint,
      failEntries("PublishBatch", throttledPublishBatch, "text/xml", throttledRequests),
    );
    const result = await runOnce(files.sns, {
      EMULATOR_ENDPOINT: fauxqs.endpoint,
      SINK_ENDPOINT: proxy.endpoint,
      TRAIL_QUEUE_URL: world.queueUrl,
      TOPIC_ARN: topicArn,
    });
    const publishBatches = proxy.requests.filter((r) => awsOperation(r) === "PublishBatch");
    const sentIds = publishBatches.map((r) =>
      publishBatchEntries(r)
        .map((entry) => (JSON.parse(entry.Message!) as TrailRecord).eventID)
        .sort(),
    );
    const published = (await drainQueue(fauxqs, queueUrl)).map((m) => (m.body as TrailRecord).eventID);
    return {
      result,
      routed,
      publishBatches,
      sentIds,
      published,
      left: await messagesLeft(fauxqs, world.queueUrl),
    };
  }

  it("retries the throttled entries, then gives up and leaves the message in its queue", async () => {
    const { result, routed, publishBatches, sentIds, published, left } = await run();
    expect(result.code).toBe(1);
    expect(publishBatches.map((r) => r.answeredBy)).toEqual(["rule", "rule", "rule"]);
    expect(sentIds).toEqual([routed, routed, routed]);
    expect(published).toEqual([]);
    expect(left).toBe(1);
    const line = givenBack(result.logs);
    expect(line.err).toMatchObject({
      stage: "deliver",
      code: "Throttling",
      sink: "out",
      failedRecords: routed.length,
    });
    expect(line.err!.cause).toMatch(`Rate exceeded (still failing after ${ATTEMPTS} attempts)`);
    expect(errorCodes(result.logs)).toEqual(["deliver/Throttling"]);
  });

  it("delivers on the retry when only the first answer throttles, and deletes the message", async () => {
    const { result, routed, publishBatches, sentIds, published, left } = await run(1);
    expect(errorCodes(result.logs)).toEqual([]);
    expect(result.code).toBe(0);
    expect(publishBatches.map((r) => r.answeredBy)).toEqual(["rule", "target"]);
    expect(sentIds).toEqual([routed, routed]);
    expect(published.sort()).toEqual(routed);
    expect(left).toBe(0);
  });
});
