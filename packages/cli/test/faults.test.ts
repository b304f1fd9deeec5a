/**
 * The CMDB pipeline (examples/cmdb/pipeline.yaml) run through a fault proxy in front of fauxqs:
 * every SQS and S3 request of the run goes through it (AWS_ENDPOINT_URL), and a seeded share of
 * them fails in one way per scenario. `run --once` is repeated until the notification queue is
 * empty; then every record is accounted for: delivered at least once, its notification deleted
 * only after it arrived, duplicates counted and explained by redeliveries or lost answers.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TrailRecord } from "@trailrouter/core";
import {
  awsInternalErrorAnswer,
  awsOperation,
  awsThrottlingAnswer,
  cloudTrailKey,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  type FaultAction,
  type FaultProxy,
  type FaultRule,
  generateTraffic,
  type LocalAws,
  type LogFile,
  type ProxiedRequest,
  type ProxyExchange,
  sometimes,
  startFaultProxy,
  startLocalAws,
  type TrailWorld,
} from "@trailrouter/local-aws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CMDB_PIPELINE_FILE } from "../src/commands/demo.js";
import { type LogLine, runOnce } from "./support.js";

const ACCOUNT = "111122223333";
const ROUTED_EVENTS = new Set([
  "RunInstances",
  "ModifyInstanceAttribute",
  "TerminateInstances",
  "CreateUser",
  "DeleteUser",
]);
/** A message whose answer was lost reappears after this long; the example's 120 s would stall the reruns. */
const VISIBILITY_TIMEOUT_SECONDS = 4;
/** Reruns of `run --once` stop after this long: a scenario that needs more has failed. */
const SCENARIO_DEADLINE_MS = 45_000;
/** The outage starts at this request of the run (mid-run), and lasts this long. */
const OUTAGE_AT_REQUEST = 15;
const OUTAGE_MS = 3_000;

let aws: LocalAws;
let pipelineFile: string;
const proxies: FaultProxy[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  // The example, with failed messages redelivered at once and lost receives back within seconds.
  const example = await readFile(CMDB_PIPELINE_FILE, "utf8");
  const copy = example.replace(
    "      visibilityTimeout: 120\n",
    `      visibilityTimeout: ${VISIBILITY_TIMEOUT_SECONDS}\n      redeliveryDelaySeconds: 0\n`,
  );
  if (copy === example) throw new Error(`${CMDB_PIPELINE_FILE} no longer sets visibilityTimeout: 120`);
  pipelineFile = path.join(await mkdtemp(path.join(tmpdir(), "trailrouter-faults-")), "pipeline.yaml");
  await writeFile(pipelineFile, copy);
});
afterEach(async () => {
  for (const timer of timers.splice(0)) clearTimeout(timer);
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
  delete process.env.AWS_ENDPOINT_URL;
});
afterAll(async () => {
  await aws?.stop();
});

/** A rule faulting a seeded share of all requests with `action`. */
function share(rate: number, seed: number, action: (request: ProxiedRequest) => FaultAction): FaultRule {
  const hit = sometimes(rate, seed);
  return (request) => (hit() ? action(request) : undefined);
}

interface Scenario {
  readonly name: string;
  /** What the scenario injects, given the proxy (for the outage switch). */
  readonly rules: (proxy: () => FaultProxy) => FaultRule[];
}

const SCENARIOS: Scenario[] = [
  { name: "20% answered 500", rules: () => [share(0.2, 11, awsInternalErrorAnswer)] },
  { name: "20% throttled", rules: () => [share(0.2, 12, awsThrottlingAnswer)] },
  // The file's aws settings have no request timeout, and the SDK sets none: a delay only slows.
  { name: "10% delayed 2 s", rules: () => [share(0.1, 13, () => ({ kind: "delay", ms: 2_000 }))] },
  { name: "10% connections reset", rules: () => [share(0.1, 14, () => ({ kind: "reset" }))] },
  { name: "10% answers truncated", rules: () => [share(0.1, 15, () => ({ kind: "truncate", bytes: 1 }))] },
  {
    name: `an outage of ${OUTAGE_MS / 1000} s mid-run`,
    rules: (proxy) => [
      (request) => {
        if (request.sequence === OUTAGE_AT_REQUEST) {
          proxy().down();
          timers.push(setTimeout(() => proxy().up(), OUTAGE_MS));
        }
        return undefined;
      },
    ],
  },
];

/** Seeded traffic with the real samples mixed in: a few hundred records per file, some routed. */
function logFiles(seed: number, files: number): LogFile[] {
  return Array.from({ length: files }, (_, i) => {
    const time = new Date(Date.UTC(2026, 10, 26, 12, i * 5));
    const records = generateTraffic({
      seed: seed * 100 + i,
      count: 400,
      accountIds: [ACCOUNT],
      regions: ["us-east-1"],
      start: time,
      sampleShare: 0.2,
    });
    return { key: cloudTrailKey({ accountId: ACCOUNT, region: "us-east-1", time, kind: "log" }), records };
  });
}

function queueName(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

/** Every message body in a queue, whatever its state (ready, delayed, in flight). */
function bodiesIn(url: string): string[] {
  const queue = aws.server.inspectQueue(queueName(url));
  if (!queue) throw new Error(`no queue ${url}`);
  const { ready, delayed, inflight } = queue.messages;
  return [...ready, ...delayed, ...inflight.map((entry) => entry.message)].map((m) => m.body);
}

/** The keys a CloudTrail notification (in its SNS envelope) announces. */
function announcedKeys(body: string): string[] {
  const { Message } = JSON.parse(body) as { Message: string };
  return (JSON.parse(Message) as { s3ObjectKey: string[] }).s3ObjectKey;
}

/**
 * A rule that never acts: at each delete (DeleteMessage, or an entry of DeleteMessageBatch) of a
 * notification still in flight (one the emulator would delete), it checks that every routed
 * record of that notification is already in a sink queue, and lists the deletes that come too early.
 */
function deleteAuditor(world: TrailWorld, routedByKey: ReadonlyMap<string, string[]>) {
  const early: { messageId: string; missing: string[] }[] = [];
  let checked = 0;
  const audit = (receiptHandle: string) => {
    const entry = aws.server
      .inspectQueue(queueName(world.queueUrl))
      ?.messages.inflight.find((e) => e.receiptHandle === receiptHandle);
    // Already deleted (a retry of a delete whose answer was lost) or handed out again: deletes nothing.
    if (!entry) return;
    checked += 1;
    const arrived = new Set(
      Object.values(world.sinkQueueUrls).flatMap((url) =>
        bodiesIn(url).map((body) => (JSON.parse(body) as TrailRecord).eventID),
      ),
    );
    const missing = announcedKeys(entry.message.body)
      .flatMap((key) => routedByKey.get(key) ?? [])
      .filter((id) => !arrived.has(id));
    if (missing.length > 0) early.push({ messageId: entry.message.messageId, missing });
  };
  const rule: FaultRule = (request) => {
    const operation = awsOperation(request);
    if (operation !== "DeleteMessage" && operation !== "DeleteMessageBatch") return undefined;
    const input = JSON.parse(request.body.toString()) as {
      QueueUrl: string;
      ReceiptHandle?: string;
      Entries?: { ReceiptHandle: string }[];
    };
    if (queueName(input.QueueUrl) !== queueName(world.queueUrl)) return undefined;
    const handles =
      operation === "DeleteMessage"
        ? [input.ReceiptHandle!]
        : (input.Entries ?? []).map((e) => e.ReceiptHandle);
    for (const handle of handles) audit(handle);
    return undefined;
  };
  return { rule, early, checked: () => checked };
}

/** The event ids a SendMessageBatch request carried. */
function sentEventIds(exchange: ProxyExchange): string[] {
  const { Entries } = JSON.parse(exchange.body.toString()) as { Entries: { MessageBody: string }[] };
  return Entries.map((entry) => (JSON.parse(entry.MessageBody) as TrailRecord).eventID!);
}

function count<T>(items: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

/** Runs `run --once` until the notification queue is empty (waiting for hidden messages to reappear). */
async function runUntilEmpty(
  world: TrailWorld,
  sinks: { instances: string; users: string },
): Promise<{ code: number; logs: LogLine[] }[]> {
  const deadline = Date.now() + SCENARIO_DEADLINE_MS;
  const runs: { code: number; logs: LogLine[] }[] = [];
  for (;;) {
    const { code, logs } = await runOnce(pipelineFile, {
      TRAIL_QUEUE_URL: world.queueUrl,
      INSTANCES_QUEUE_URL: sinks.instances,
      USERS_QUEUE_URL: sinks.users,
    });
    runs.push({ code, logs });
    const queue = aws.server.inspectQueue(queueName(world.queueUrl))!.messages;
    if (queue.ready.length + queue.delayed.length + queue.inflight.length === 0) return runs;
    if (Date.now() > deadline) {
      throw new Error(`notifications left after ${runs.length} runs: ${JSON.stringify(queue)}`);
    }
    // Messages whose receive or give-back was lost stay hidden until their visibility timeout
    // ends (fauxqs makes them visible again at the next receive after that).
    if (queue.ready.length + queue.delayed.length === 0) {
      const reappearAt = Math.min(...queue.inflight.map((entry) => entry.visibilityDeadline));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, reappearAt - Date.now())));
    }
  }
}

describe("the CMDB pipeline under injected faults", () => {
  let worlds = 0;

  it.each(SCENARIOS)(
    "loses no record and deletes nothing early: $name",
    async (scenario) => {
      const n = ++worlds;
      const world = await createTrailWorld(aws, {
        bucket: `faults-${n}`,
        topicName: `faults-${n}`,
        queueName: `faults-${n}`,
        sinkQueues: ["Instances", "Users"].map((name) => `${name}-${n}`),
      });
      const [instances, users] = Object.values(world.sinkQueueUrls);
      const sinks = { instances: instances!, users: users! };

      const files = logFiles(n, 5);
      const routedByKey = new Map(
        files.map((file) => [
          file.key,
          file.records.filter((r) => ROUTED_EVENTS.has(r.eventName ?? "")).map((r) => r.eventID!),
        ]),
      );
      const routed = [...routedByKey.values()].flat();
      expect(routed.length).toBeGreaterThan(20);
      await deliverLogFiles(aws, world, files);
      const keysByMessage = new Map(
        aws.server
          .inspectQueue(queueName(world.queueUrl))!
          .messages.ready.map((m) => [m.messageId, announcedKeys(m.body)]),
      );
      expect(keysByMessage.size).toBe(files.length);

      const auditor = deleteAuditor(world, routedByKey);
      let proxy: FaultProxy | undefined;
      proxy = await startFaultProxy({
        target: aws.endpoint,
        rules: [auditor.rule, ...scenario.rules(() => proxy!)],
      });
      proxies.push(proxy);
      process.env.AWS_ENDPOINT_URL = proxy.endpoint;

      const runs = await runUntilEmpty(world, sinks);

      // Every routed record arrived, and nothing else did.
      const copies = count(
        [...(await drainQueue(aws, sinks.instances)), ...(await drainQueue(aws, sinks.users))].map(
          (m) => (m.body as TrailRecord).eventID!,
        ),
      );
      const lost = routed.filter((id) => !copies.has(id));
      expect(lost).toEqual([]);
      expect([...copies.keys()].sort()).toEqual([...routed].sort());
      // Every notification deleted was deleted after its records arrived; none is left.
      expect(auditor.early).toEqual([]);
      expect(auditor.checked()).toBeGreaterThanOrEqual(files.length);

      // Duplicates: each extra copy of a record comes from a second handling of its notification,
      // or from a SendMessageBatch the emulator did whose answer was lost (the SDK sent it again).
      const handled = count(
        runs.flatMap((run) =>
          run.logs.filter((l) => l.msg === "message received").map((l) => String(l.messageId)),
        ),
      );
      const handlingsByKey = new Map<string, number>();
      for (const [messageId, keys] of keysByMessage) {
        for (const key of keys) handlingsByKey.set(key, handled.get(messageId) ?? 0);
      }
      const resentAfterLostAnswer = count(
        proxy.requests
          .filter(
            (r) => awsOperation(r) === "SendMessageBatch" && r.answeredBy === "target" && r.outcome === "cut",
          )
          .flatMap(sentEventIds),
      );
      const unexplained: string[] = [];
      for (const [key, ids] of routedByKey) {
        for (const id of ids) {
          const allowed = (handlingsByKey.get(key) ?? 0) + (resentAfterLostAnswer.get(id) ?? 0);
          if ((copies.get(id) ?? 0) > allowed) unexplained.push(id);
        }
      }
      expect(unexplained).toEqual([]);

      const duplicates = [...copies.values()].reduce((sum, c) => sum + c - 1, 0);
      const redeliveries = [...handled.values()].reduce((sum, c) => sum + c - 1, 0);
      const faulted = proxy.requests.filter((r) => r.fault !== undefined || r.answeredBy === "outage").length;
      if (scenario.name.startsWith("an outage")) {
        expect(proxy.requests.length).toBeGreaterThan(OUTAGE_AT_REQUEST);
      } else {
        expect(faulted).toBeGreaterThan(0);
      }
      console.info(
        JSON.stringify({
          scenario: scenario.name,
          notifications: files.length,
          routedRecords: routed.length,
          requests: proxy.requests.length,
          faulted,
          runs: runs.length,
          failedRuns: runs.filter((r) => r.code !== 0).length,
          redeliveries,
          duplicates,
          deletesChecked: auditor.checked(),
        }),
      );
    },
    60_000,
  );
});
