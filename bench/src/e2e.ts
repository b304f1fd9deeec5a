/**
 * `node bench/dist/e2e.js`: CloudTrail log files announced on a queue, routed to SQS queues, end to
 * end through fauxqs running in its own process — by trailrouter (the CMDB example pipeline with
 * three more routes, every guarantee on) and, in the same run, by two baselines: a port of the
 * naive script (bench/baselines/naive-script.ts) and a bare batched router
 * (bench/baselines/bare-batched.ts). Each runs in its own process, with no added latency and with
 * 10 ms added to every AWS request by a delaying proxy, rounds interleaved. A run is timed from
 * the moment the router starts until the notification queue is empty, then every expected record
 * is checked to have arrived in its queue. Prints routed records/s and the ratios; exits 1 below
 * a target.
 *
 * To look at one contender: `--contender trailrouter --latency 0 --rounds 1` (both repeatable);
 * `--cpu-prof-dir DIR` runs the contenders under `node --cpu-prof`; `--count-requests` prints the
 * AWS requests of each run by operation (at 0 ms through a proxy that adds nothing).
 */
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { createDefaultRegistry, createLogger } from "@trailrouter/cli";
import {
  type LoadedPipelineFile,
  loadPipelineFile,
  parsePipelineText,
  runPipelines,
  type TrailRecord,
} from "@trailrouter/core";
import {
  awsOperation,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  type LocalAwsProcess,
  type LogFile,
  type ProxiedRequest,
  queueDepth,
  startFaultProxy,
  startLocalAwsProcess,
  streamTraffic,
  type TrailWorld,
  toLogFiles,
} from "@trailrouter/local-aws";
import type { PlainRoute } from "../baselines/routes.js";
import { AUDIT_ROUTES } from "./audit-routes.js";
import { printTable } from "./table.js";

const SEED = 20261126;
const RECORDS = 40_000;
/** Five hours of traffic: 540 files (3 accounts × 3 regions × 60 five-minute windows). */
const TRAFFIC_DURATION_MS = 5 * 3_600_000;
const LATENCIES_MS = [0, 10] as const;
const ROUNDS = 2;
/** At 10 ms the naive port routes under 100 records/s: it gets one file in this many. */
const NAIVE_SLICE_AT_LATENCY = 12;
const TARGETS = { overBare: 1, overNaiveAtLatency: 20 };
const POLL_MS = 20;

const CMDB_PIPELINE = fileURLToPath(new URL("../../examples/cmdb/pipeline.yaml", import.meta.url));

type Contender = "naive" | "bare" | "trailrouter";
const CONTENDERS: readonly Contender[] = ["naive", "bare", "trailrouter"];

/** Where a sink's queue URL comes from in the pipeline file, and the queue's name. */
export const SINK_QUEUES = {
  instances: "INSTANCES_QUEUE_URL",
  users: "USERS_QUEUE_URL",
  audit: "AUDIT_QUEUE_URL",
};

/** The CMDB example with the audit routes and their sink, validated like any pipeline file. */
export async function benchPipeline(env: NodeJS.ProcessEnv): Promise<LoadedPipelineFile> {
  const registry = createDefaultRegistry();
  const example = await loadPipelineFile(CMDB_PIPELINE, { registry, env });
  const pipeline = example.config.pipelines[0]!;
  const config = {
    ...example.config,
    pipelines: [
      {
        ...pipeline,
        routes: [
          ...pipeline.routes,
          ...AUDIT_ROUTES.map((route) => ({
            name: route.name,
            match: { type: "event-pattern", pattern: route.pattern },
            to: ["audit"],
          })),
        ],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the pipeline file's own interpolation
        sinks: { ...pipeline.sinks, audit: { type: "sqs", queueUrl: "${AUDIT_QUEUE_URL}" } },
      },
    ],
  };
  return parsePipelineText(JSON.stringify(config), {
    registry,
    env,
    format: "json",
    path: example.path,
    baseDir: example.baseDir,
  });
}

/** The pipeline's routes as the baselines take them: every route here is an event source and names. */
export function plainRoutes(loaded: LoadedPipelineFile, queueUrls: Record<string, string>): PlainRoute[] {
  return loaded.config.pipelines[0]!.routes.map((route) => {
    const pattern = (route.match as unknown as { pattern: { eventSource: string[]; eventName: string[] } })
      .pattern;
    const sink = route.to[0]!;
    return { eventSources: pattern.eventSource, eventNames: pattern.eventName, queueUrl: queueUrls[sink]! };
  });
}

/** Child mode: trailrouter runs the bench pipeline once over the queue, as `trailrouter run --once`. */
async function runTrailrouter(): Promise<void> {
  const registry = createDefaultRegistry();
  const loaded = await benchPipeline(process.env);
  const logger = createLogger("info", { pretty: false });
  console.log("ready");
  const summary = await runPipelines(loaded, { registry, logger, once: true });
  if (!summary.ok) throw new Error(`the run did not succeed: ${JSON.stringify(summary)}`);
}

interface Corpus {
  readonly files: LogFile[];
  /** eventIDs each sink queue must receive. */
  readonly expected: Map<string, Set<string>>;
  readonly routed: number;
}

function corpusOf(files: LogFile[], routes: readonly PlainRoute[], sinkByQueue: Map<string, string>): Corpus {
  const expected = new Map([...sinkByQueue.values()].map((sink) => [sink, new Set<string>()]));
  let routed = 0;
  for (const file of files) {
    for (const record of file.records) {
      const route = routes.find(
        (r) => r.eventSources.includes(record.eventSource!) && r.eventNames.includes(record.eventName!),
      );
      if (!route) continue;
      expected.get(sinkByQueue.get(route.queueUrl)!)!.add(record.eventID!);
      routed++;
    }
  }
  return { files, expected, routed };
}

/** Runs a contender's process; resolves to seconds from its start of work to an empty queue. */
async function timeContender(
  contender: Contender,
  aws: LocalAwsProcess,
  world: TrailWorld,
  endpoint: string,
  routes: readonly PlainRoute[],
  nodeArgs: readonly string[],
): Promise<number> {
  const script = {
    naive: new URL("baselines/naive-script.js", import.meta.url),
    bare: new URL("baselines/bare-batched.js", import.meta.url),
    trailrouter: new URL(import.meta.url),
  }[contender];
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    TRAIL_QUEUE_URL: world.queueUrl,
    INSTANCES_QUEUE_URL: world.sinkQueueUrls.instances,
    USERS_QUEUE_URL: world.sinkQueueUrls.users,
    AUDIT_QUEUE_URL: world.sinkQueueUrls.audit,
    ROUTES: JSON.stringify(routes),
  };
  const args = [
    ...nodeArgs,
    fileURLToPath(script),
    ...(contender === "trailrouter" ? ["--trailrouter"] : []),
  ];
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const started = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding("utf8").once("data", () => resolve(performance.now()));
    void exited.then((code) => reject(new Error(`${contender} exited (${code}) before starting: ${stderr}`)));
  });
  let emptied: number | undefined;
  let code: number | null | undefined;
  void exited.then((c) => {
    code = c;
  });
  while (emptied === undefined && code === undefined) {
    const depth = await queueDepth(aws, world.queueUrl);
    if (depth.visible === 0 && depth.inFlight === 0) emptied = performance.now();
    else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  code = await exited;
  if (code !== 0) throw new Error(`${contender} exited with ${code}: ${stderr}`);
  // Exited before the poll saw the queue empty: the empty queue is the end of its work.
  return ((emptied ?? performance.now()) - started) / 1000;
}

/** Drains the sink queues and checks every expected record arrived, and nothing else. */
async function verify(aws: LocalAwsProcess, world: TrailWorld, corpus: Corpus, label: string) {
  for (const [sink, expected] of corpus.expected) {
    const arrived = new Set<string>();
    let duplicates = 0;
    for (const message of await drainQueue(aws, world.sinkQueueUrls[sink]!)) {
      const eventID = (message.body as TrailRecord).eventID!;
      if (arrived.has(eventID)) duplicates++;
      arrived.add(eventID);
    }
    const missing = [...expected].filter((id) => !arrived.has(id));
    const unexpected = [...arrived].filter((id) => !expected.has(id));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new Error(
        `${label}: queue ${sink} is missing ${missing.length} of ${expected.size} records and has ${unexpected.length} unexpected`,
      );
    }
    if (duplicates > 0) console.log(`${label}: ${duplicates} duplicate(s) in ${sink} (at-least-once)`);
  }
}

async function purge(aws: LocalAwsProcess, world: TrailWorld) {
  for (const queueUrl of [world.queueUrl, ...Object.values(world.sinkQueueUrls)]) {
    await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  }
}

/** Until the trail's queue holds `count` notifications, looking every `pollMs`. */
export async function waitForNotifications(
  aws: LocalAwsProcess,
  world: TrailWorld,
  count: number,
  pollMs = POLL_MS,
) {
  for (;;) {
    const { visible } = await queueDepth(aws, world.queueUrl);
    if (visible === count) return;
    if (visible > count) throw new Error(`${visible} notifications queued, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const rate = (value: number) => Math.round(value).toLocaleString("en-US");

interface BenchSelection {
  readonly contenders: readonly Contender[];
  readonly latencies: readonly number[];
  readonly rounds: number;
  /** Node options of the contenders' processes (`--cpu-prof`). */
  readonly nodeArgs: readonly string[];
  readonly countRequests: boolean;
}

function selectionFromArguments(): BenchSelection {
  const { values } = parseArgs({
    options: {
      contender: { type: "string", multiple: true },
      latency: { type: "string", multiple: true },
      rounds: { type: "string" },
      "cpu-prof-dir": { type: "string" },
      "count-requests": { type: "boolean" },
    },
  });
  const contenders = (values.contender ?? CONTENDERS) as Contender[];
  for (const contender of contenders) {
    if (!CONTENDERS.includes(contender)) throw new Error(`unknown contender "${contender}"`);
  }
  const latencies = values.latency?.map(Number) ?? [...LATENCIES_MS];
  for (const latency of latencies) {
    if (!LATENCIES_MS.includes(latency as (typeof LATENCIES_MS)[number]))
      throw new Error(`latency must be one of ${LATENCIES_MS.join(", ")}, not ${latency}`);
  }
  const profileDir = values["cpu-prof-dir"];
  return {
    contenders,
    latencies,
    rounds: values.rounds === undefined ? ROUNDS : Number(values.rounds),
    nodeArgs: profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
    countRequests: values["count-requests"] ?? false,
  };
}

/** AWS requests by operation (S3's REST calls by method), sorted by count. */
function requestCounts(requests: readonly ProxiedRequest[]): string {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const operation = awsOperation(request) ?? `S3 ${request.method}`;
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([operation, count]) => `${operation} ${count}`)
    .join(", ");
}

async function main(): Promise<void> {
  const began = performance.now();
  const selection = selectionFromArguments();
  const wholeBench =
    selection.contenders.length === CONTENDERS.length && selection.latencies.length === LATENCIES_MS.length;
  const aws = await startLocalAwsProcess();
  const proxy = await startFaultProxy({ target: aws.endpoint, rules: [() => ({ kind: "delay", ms: 10 })] });
  // Counting at 0 ms needs a proxy too; it only forwards.
  const counter = selection.countRequests ? await startFaultProxy({ target: aws.endpoint }) : undefined;
  try {
    const world = await createTrailWorld(aws, {
      bucket: "trail-logs",
      topicName: "trail-notifications",
      queueName: "trail-queue",
      sinkQueues: Object.keys(SINK_QUEUES),
    });
    const env = {
      TRAIL_QUEUE_URL: world.queueUrl,
      INSTANCES_QUEUE_URL: world.sinkQueueUrls.instances,
      USERS_QUEUE_URL: world.sinkQueueUrls.users,
      AUDIT_QUEUE_URL: world.sinkQueueUrls.audit,
    };
    const routes = plainRoutes(await benchPipeline(env), world.sinkQueueUrls);
    const sinkByQueue = new Map(Object.entries(world.sinkQueueUrls).map(([sink, url]) => [url, sink]));
    const files = toLogFiles(streamTraffic({ seed: SEED, count: RECORDS, durationMs: TRAFFIC_DURATION_MS }));
    const whole = corpusOf(files, routes, sinkByQueue);
    const slice = corpusOf(
      files.filter((_, index) => index % NAIVE_SLICE_AT_LATENCY === 0),
      routes,
      sinkByQueue,
    );
    console.log(
      `Corpus: ${RECORDS.toLocaleString("en-US")} records in ${files.length} files (seed ${SEED}), ${whole.routed.toLocaleString("en-US")} routed (${((100 * whole.routed) / RECORDS).toFixed(1)} %) to ${routes.length} routes; naive port at 10 ms: ${slice.files.length} files, ${slice.routed.toLocaleString("en-US")} routed.`,
    );
    console.log(
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; fauxqs pid ${aws.pid}.\n`,
    );

    const rates = new Map<string, number[]>();
    for (let round = 1; round <= selection.rounds; round++) {
      for (const latency of selection.latencies) {
        for (const contender of selection.contenders) {
          const corpus = contender === "naive" && latency > 0 ? slice : whole;
          const label = `round ${round}, ${latency} ms, ${contender}`;
          const notifications = await deliverLogFiles(aws, world, corpus.files);
          await waitForNotifications(aws, world, notifications.length);
          const through = latency > 0 ? proxy : counter;
          const before = through?.requests.length ?? 0;
          const endpoint = through?.endpoint ?? aws.endpoint;
          const seconds = await timeContender(contender, aws, world, endpoint, routes, selection.nodeArgs);
          await verify(aws, world, corpus, label);
          await purge(aws, world);
          const routedPerSecond = corpus.routed / seconds;
          console.log(
            `${label}: ${corpus.routed} routed in ${seconds.toFixed(2)} s, ${rate(routedPerSecond)}/s`,
          );
          if (selection.countRequests && through) {
            console.log(`  requests: ${requestCounts(through.requests.slice(before))}`);
          }
          const key = `${contender}@${latency}`;
          rates.set(key, [...(rates.get(key) ?? []), routedPerSecond]);
        }
      }
    }

    if (!wholeBench) return;
    const median_ = (contender: Contender, latency: number) => median(rates.get(`${contender}@${latency}`)!);
    console.log(`\nRouted records/s, median of ${selection.rounds} rounds (range):\n`);
    printTable(
      [
        "added latency",
        "naive port",
        "bare batched",
        "trailrouter",
        "trailrouter ÷ bare",
        "trailrouter ÷ naive",
      ],
      LATENCIES_MS.map((latency) => {
        const cell = (contender: Contender) => {
          const all = rates.get(`${contender}@${latency}`)!;
          return `${rate(median_(contender, latency))} (${rate(Math.min(...all))}–${rate(Math.max(...all))})`;
        };
        return [
          `${latency} ms`,
          cell("naive"),
          cell("bare"),
          cell("trailrouter"),
          `${(median_("trailrouter", latency) / median_("bare", latency)).toFixed(2)}×`,
          `${(median_("trailrouter", latency) / median_("naive", latency)).toFixed(1)}×`,
        ];
      }),
    );
    const checks = [
      ...LATENCIES_MS.map((latency) => ({
        name: `trailrouter ÷ bare at ${latency} ms`,
        value: median_("trailrouter", latency) / median_("bare", latency),
        target: TARGETS.overBare,
      })),
      {
        name: "trailrouter ÷ naive at 10 ms",
        value: median_("trailrouter", 10) / median_("naive", 10),
        target: TARGETS.overNaiveAtLatency,
      },
    ];
    console.log("");
    for (const check of checks) {
      const met = check.value >= check.target;
      console.log(
        `${check.name}: ${check.value.toFixed(2)} (target ≥ ${check.target}) ${met ? "met" : "MISSED"}`,
      );
      if (!met) process.exitCode = 1;
    }
    console.log(`\nWhole bench: ${((performance.now() - began) / 1000).toFixed(0)} s`);
  } finally {
    await counter?.stop();
    await proxy.stop();
    await aws.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await (process.argv.includes("--trailrouter") ? runTrailrouter() : main());
}
