/**
 * The CMDB pipeline (examples/cmdb/pipeline.yaml) run through a fault proxy in front of fauxqs:
 * every SQS and S3 request of the run goes through it (AWS_ENDPOINT_URL), and a seeded share of
 * them fails in one way per scenario. `run --once` is repeated until the notification queue is
 * empty; then every record is accounted for: delivered at least once, its notification deleted
 * only after it arrived, duplicates counted and explained by redeliveries or lost answers.
 * With the SDK's 5 attempts most faults never reach the router; the scenarios with 2 attempts
 * (and those whose delays outlast a short request timeout) make the router's own paths work:
 * sink retries, nacks and redeliveries, failed deletes and heartbeats.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
const VISIBILITY_TIMEOUT_SECONDS = 2;
/** Reruns of `run --once` stop after this long: a scenario that needs more has failed. */
const SCENARIO_DEADLINE_MS = 45_000;
/** The outage starts at this request of the run (mid-run), and lasts this long. */
const OUTAGE_AT_REQUEST = 15;
const OUTAGE_MS = 3_000;
/** Attempts per AWS request in the scenarios meant to get faults past the SDK to the router. */
const FEW_ATTEMPTS = 2;
/** A request timeout far below the injected delays, so delayed requests really time out. */
const SHORT_REQUEST_TIMEOUT_MS = 300;

let aws: LocalAws;
let example: string;
let dir: string;
const proxies: FaultProxy[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  example = await readFile(CMDB_PIPELINE_FILE, "utf8");
  dir = await mkdtemp(path.join(tmpdir(), "trailrouter-faults-"));
});
afterEach(async () => {
  for (const timer of timers.splice(0)) clearTimeout(timer);
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
  delete process.env.AWS_ENDPOINT_URL;
});
afterAll(async () => {
  await aws?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Replaces `from` in `text`, which must be there: the example changing must not go unnoticed. */
function replaceIn(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`${CMDB_PIPELINE_FILE} no longer has ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

/**
 * The example, with failed messages redelivered at once and lost receives back within seconds,
 * and the scenario's aws settings.
 */
async function pipelineFileFor(scenario: Scenario, n: number): Promise<string> {
  let copy = replaceIn(
    example,
    "      visibilityTimeout: 120\n",
    `      visibilityTimeout: ${VISIBILITY_TIMEOUT_SECONDS}\n      redeliveryDelaySeconds: 0\n`,
  );
  const settings = Object.entries(scenario.aws ?? {}).map(([name, value]) => `  ${name}: ${value}\n`);
  copy = replaceIn(copy, "\naws:\n", `\naws:\n${settings.join("")}`);
  const file = path.join(dir, `pipeline-${n}.yaml`);
  await writeFile(file, copy);
  return file;
}

/** A rule faulting a seeded share of all requests with `action`. */
function share(rate: number, seed: number, action: (request: ProxiedRequest) => FaultAction): FaultRule {
  const hit = sometimes(rate, seed);
  return (request) => (hit() ? action(request) : undefined);
}

interface Scenario {
  readonly name: string;
  /** What the scenario injects, given the proxy (for the outage switch). */
  readonly rules: (proxy: () => FaultProxy) => FaultRule[];
  /** The file's `aws` settings besides the region; the SDK's defaults otherwise (5 attempts). */
  readonly aws?: { readonly maxAttempts?: number; readonly requestTimeoutMs?: number };
  /** The faults must reach the router (a sink retry, a nack, a failed delete, heartbeat or receive). */
  readonly routerFeelsFaults?: boolean;
  /** Some requests must outlast the request timeout (the client gives up on them). */
  readonly timesOut?: boolean;
}

/** Forwarded after 1 to 2 s, the delay changing with the request's place in the run. */
function delayOneToTwoSeconds(request: ProxiedRequest): FaultAction {
  return { kind: "delay", ms: 1_000 + (request.sequence % 5) * 250 };
}

/** Past a request timeout of 300 ms (a long poll's timeout counts from the end of its wait). */
const TIMING_OUT = {
  aws: { requestTimeoutMs: SHORT_REQUEST_TIMEOUT_MS },
  timesOut: true,
} as const;

/** The scenario with only 2 attempts per request, whose faults the router must feel. */
function withFewAttempts(scenario: Scenario): Scenario {
  return {
    ...scenario,
    name: `${scenario.name}, ${FEW_ATTEMPTS} attempts`,
    aws: { ...scenario.aws, maxAttempts: FEW_ATTEMPTS },
    routerFeelsFaults: true,
  };
}

const SCENARIOS: Scenario[] = [
  { name: "20% answered 500", rules: () => [share(0.2, 11, awsInternalErrorAnswer)] },
  { name: "20% throttled", rules: () => [share(0.2, 12, awsThrottlingAnswer)] },
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
  {
    name: `10% delayed 1–2 s, past a ${SHORT_REQUEST_TIMEOUT_MS} ms request timeout`,
    rules: () => [share(0.1, 16, delayOneToTwoSeconds)],
    ...TIMING_OUT,
  },
  // The same kinds of faults with only 2 attempts per request: a fault hitting both attempts
  // reaches the router. Half the requests are hit, so that a request hit on both attempts (one in
  // four) happens in every run of the scenario, whatever order the requests come in.
  withFewAttempts({ name: "50% answered 500", rules: () => [share(0.5, 21, awsInternalErrorAnswer)] }),
  withFewAttempts({
    name: "50% connections reset",
    rules: () => [share(0.5, 24, () => ({ kind: "reset" }))],
  }),
  withFewAttempts({
    name: `50% delayed 1–2 s, past a ${SHORT_REQUEST_TIMEOUT_MS} ms request timeout`,
    rules: () => [share(0.5, 26, delayOneToTwoSeconds)],
    ...TIMING_OUT,
  }),
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
 * A rule that never acts: at each delete of a notification still in flight (one the emulator
 * would delete; DeleteMessage, or an entry of DeleteMessageBatch), it checks that every routed
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
    const { QueueUrl, ReceiptHandle, Entries } = JSON.parse(request.body.toString()) as {
      QueueUrl: string;
      ReceiptHandle?: string;
      Entries?: { ReceiptHandle: string }[];
    };
    if (queueName(QueueUrl) !== queueName(world.queueUrl)) return undefined;
    for (const receiptHandle of Entries?.map((e) => e.ReceiptHandle) ?? [ReceiptHandle!])
      audit(receiptHandle);
    return undefined;
  };
  return { rule, early, checked: () => checked };
}

/**
 * Per record, the SendMessageBatch requests fauxqs did whose answer the client did not use: cut
 * on the way (truncated, reset, the client gone), or followed in the same run by another request
 * carrying the record — the client sent it again, so the answer came too late (after the request
 * timeout, on a busy event loop) or not at all. `runEnds` holds the last request of each run.
 */
function unusedSends(requests: readonly ProxyExchange[], runEnds: readonly number[]): Map<string, number> {
  const runOf = (request: ProxiedRequest) => runEnds.findIndex((end) => request.sequence <= end);
  const sends = requests
    .filter((r) => awsOperation(r) === "SendMessageBatch")
    .sort((a, b) => a.sequence - b.sequence)
    .map((request) => ({ request, run: runOf(request), ids: sentEventIds(request) }));
  const unused = new Map<string, number>();
  sends.forEach((send, i) => {
    if (send.request.answeredBy !== "target") return;
    for (const id of send.ids) {
      const sentAgain = sends.slice(i + 1).some((later) => later.run === send.run && later.ids.includes(id));
      if (send.request.outcome === "cut" || sentAgain) unused.set(id, (unused.get(id) ?? 0) + 1);
    }
  });
  return unused;
}

/** Which attempt of its call a request is, 1 for the first (the SDK's `amz-sdk-request` header). */
function attemptOf(request: ProxiedRequest): number {
  return Number(/attempt=(\d+)/.exec(String(request.headers["amz-sdk-request"]))?.[1] ?? 1);
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

/** Resolves once the proxy answered (or dropped) every request its rules were asked about. */
async function untilAllAnswered(proxy: FaultProxy, asked: () => number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (proxy.requests.length < asked()) {
    if (Date.now() > deadline)
      throw new Error(`${asked() - proxy.requests.length} request(s) never answered`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A ChangeMessageVisibility of the heartbeat: the full visibility timeout again (a give-back sets 0). */
function isHeartbeat(request: ProxiedRequest): boolean {
  if (awsOperation(request) !== "ChangeMessageVisibility") return false;
  const { VisibilityTimeout } = JSON.parse(request.body.toString()) as { VisibilityTimeout: number };
  return VisibilityTimeout === VISIBILITY_TIMEOUT_SECONDS;
}

/** What the router itself saw fail, out of its logs: faults the SDK's retries did not absorb. */
function routerFelt(logs: LogLine[]) {
  const counted = (prefix: string) => logs.filter((l) => l.msg.startsWith(prefix)).length;
  return {
    sinkRetries: counted("retrying entries the service failed"),
    nacks: counted("envelope given back"),
    failedDeletes: counted("delete failed"),
    failedHeartbeats: counted("could not extend the visibility timeout"),
    failedGiveBacks: counted("could not give the message back"),
    failedReceives: counted("receive failed"),
  };
}

/** Runs `run --once` until the notification queue is empty (waiting for hidden messages to reappear). */
async function runUntilEmpty(
  pipelineFile: string,
  world: TrailWorld,
  sinks: { instances: string; users: string },
  lastRequest: () => number,
): Promise<{ code: number; logs: LogLine[]; lastRequest: number }[]> {
  const deadline = Date.now() + SCENARIO_DEADLINE_MS;
  const runs: { code: number; logs: LogLine[]; lastRequest: number }[] = [];
  for (;;) {
    const { code, logs } = await runOnce(pipelineFile, {
      TRAIL_QUEUE_URL: world.queueUrl,
      INSTANCES_QUEUE_URL: sinks.instances,
      USERS_QUEUE_URL: sinks.users,
    });
    runs.push({ code, logs, lastRequest: lastRequest() });
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

  for (const scenario of SCENARIOS) {
    it(`loses no record and deletes nothing early: ${scenario.name}`, async () => {
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
      expect(routed.length).toBeGreaterThan(10);
      await deliverLogFiles(aws, world, files);
      const keysByMessage = new Map(
        aws.server
          .inspectQueue(queueName(world.queueUrl))!
          .messages.ready.map((m) => [m.messageId, announcedKeys(m.body)]),
      );
      expect(keysByMessage.size).toBe(files.length);

      const auditor = deleteAuditor(world, routedByKey);
      let asked = 0;
      let lastRequest = 0;
      const countAsked: FaultRule = (request) => {
        asked += 1;
        lastRequest = Math.max(lastRequest, request.sequence);
        return undefined;
      };
      let proxy: FaultProxy | undefined;
      proxy = await startFaultProxy({
        target: aws.endpoint,
        rules: [countAsked, auditor.rule, ...scenario.rules(() => proxy!)],
      });
      proxies.push(proxy);
      process.env.AWS_ENDPOINT_URL = proxy.endpoint;

      const runs = await runUntilEmpty(await pipelineFileFor(scenario, n), world, sinks, () => lastRequest);
      // Requests still delayed when the client gave up on them go through later: let them, so the
      // sink queues and the proxy's list hold everything they did.
      await untilAllAnswered(proxy, () => asked);

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
      // or from a SendMessageBatch the emulator did whose answer the client never used.
      const handled = count(
        runs.flatMap((run) =>
          run.logs.filter((l) => l.msg === "message received").map((l) => String(l.messageId)),
        ),
      );
      const handlingsByKey = new Map<string, number>();
      for (const [messageId, keys] of keysByMessage) {
        for (const key of keys) handlingsByKey.set(key, handled.get(messageId) ?? 0);
      }
      const resentAfterLostAnswer = unusedSends(
        proxy.requests,
        runs.map((run) => run.lastRequest),
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
      // Delayed requests the client gave up on: forwarded after it left, so the answer was cut.
      const timedOut = proxy.requests.filter((r) => r.fault === "delay" && r.outcome === "cut").length;
      if (scenario.timesOut) expect(timedOut).toBeGreaterThan(0);
      const felt = routerFelt(runs.flatMap((run) => run.logs));
      const feltTotal = Object.values(felt).reduce((sum, c) => sum + c, 0);
      if (scenario.routerFeelsFaults) expect(feltTotal, JSON.stringify(felt)).toBeGreaterThan(0);
      console.info(
        JSON.stringify({
          scenario: scenario.name,
          notifications: files.length,
          routedRecords: routed.length,
          requests: proxy.requests.length,
          faulted,
          timedOut,
          sdkRetries: proxy.requests.filter((r) => attemptOf(r) > 1).length,
          heartbeats: proxy.requests.filter(isHeartbeat).length,
          ...felt,
          runs: runs.length,
          failedRuns: runs.filter((r) => r.code !== 0).length,
          redeliveries,
          duplicates,
          deletesChecked: auditor.checked(),
        }),
      );
    }, 60_000);
  }
});
