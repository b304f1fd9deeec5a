/**
 * `node bench/dist/pipeline-memory.js`: peak memory of the whole trailrouter pipeline. For log
 * files of 20 MB and 200 MB of JSON, eight copies are put in a bucket of fauxqs (running in its
 * own process) and announced on the trail's queue; then `runPipelines` (default registry, the CMDB
 * example with the audit routes of the end-to-end bench, source `concurrency` 8, `once: true`)
 * runs in a fresh child process, which reports its peak RSS (process.resourceUsage().maxRSS). That
 * is set against a process that only loaded the modules and the pipeline file, and against the
 * gzip bodies the source holds at once. Every routed record is counted in the sink queues: a run
 * that lost one fails the bench.
 *
 * Peak RSS is mostly V8's policy: it lets garbage pile up far above what is live. So each run also
 * reports the live heap (the most the heap held right after a full GC, from `--trace-gc`) and the
 * memory outside the heap (sampled), and each size runs again under a heap cap
 * (`--max-old-space-size`), where RSS shows the bound a user gets by setting one. A run under a cap
 * too small for the live set is reported as out of memory. Options: `--sizes=20,200`,
 * `--heap-caps=64` (comma-separated MB), `--node-flags="..."` (more flags for the measured runs,
 * e.g. `--heapsnapshot-near-heap-limit=1` with a small cap for a snapshot at the peak).
 *
 * Linux carries the peak RSS of a process over to the child it spawns, so this process stays
 * small: the log files are built and uploaded by a child too.
 */
import { spawnSync } from "node:child_process";
import { writeSync } from "node:fs";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { S3Client } from "@aws-sdk/client-s3";
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import type { TrailRecord } from "@trailrouter/core";
import {
  cloudTrailKey,
  createTrailWorld,
  DEFAULT_ACCOUNT_IDS,
  deliverLogFiles,
  LOCAL_CREDENTIALS,
  type LocalAwsProcess,
  queueDepth,
  startLocalAwsProcess,
  type TrailWorld,
} from "@trailrouter/local-aws";
import type { PlainRoute } from "../baselines/routes.js";
import { SINK_QUEUES, waitForNotifications } from "./e2e.js";
import { putInParts } from "./s3-upload.js";
import { printTable } from "./table.js";

const SIZES_MB = [20, 200];
/** Each size runs again under these heap caps (`--max-old-space-size`, MB). */
const HEAP_CAPS_MB = [64];
/** Files per size, all handled at once: the source's `concurrency`. */
const FILES = 8;
const CONCURRENCY = 8;
const POLL_MS = 50;

/** What a measuring child reports. */
interface Measurement {
  /** Bytes. */
  readonly peakRss: number;
  /** Bytes, sampled: the most the V8 heap held (live or garbage), and outside it (Buffers, zlib). */
  readonly peakHeapUsed: number;
  readonly peakExternal: number;
  readonly records: number;
  readonly routed: number;
}

/** A child writes its answer here, apart from stdout, where V8 writes its `--trace-gc` lines. */
const ANSWER_FD = 3;

/** How often the measuring child samples process.memoryUsage(). */
const SAMPLE_MS = 20;

/** What the `build` child put in the bucket. */
interface Upload {
  readonly keys: string[];
  readonly recordsPerFile: number;
  readonly routedPerFile: number;
  readonly gzipBytesPerFile: number;
}

const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** The environment the pipeline file reads its queue URLs from, and the SDK its endpoint. */
function pipelineEnv(aws: LocalAwsProcess, world: TrailWorld): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    TRAIL_QUEUE_URL: world.queueUrl,
    BUCKET: world.bucket,
    ...Object.fromEntries(
      Object.entries(SINK_QUEUES).map(([sink, variable]) => [variable, world.sinkQueueUrls[sink]!]),
    ),
  };
}

/** In a child: one log file of `megabytes` MB of JSON, put `FILES` times under distinct keys. */
async function build(megabytes: number): Promise<Upload> {
  const { megabytesFile } = await import("./decode.js");
  const { benchPipeline, plainRoutes } = await import("./e2e.js");
  const routes: PlainRoute[] = plainRoutes(await benchPipeline(process.env), {});
  const corpus = megabytesFile(megabytes);
  const { Records } = JSON.parse(gunzipSync(corpus.body).toString("utf8")) as { Records: TrailRecord[] };
  const routedPerFile = Records.filter((record) =>
    routes.some(
      (r) => r.eventSources.includes(record.eventSource!) && r.eventNames.includes(record.eventName!),
    ),
  ).length;
  const s3 = new S3Client({
    endpoint: process.env.AWS_ENDPOINT_URL,
    region: process.env.AWS_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  const keys = Array.from({ length: FILES }, (_, file) =>
    cloudTrailKey({
      accountId: DEFAULT_ACCOUNT_IDS[0]!,
      region: "us-east-1",
      time: Date.UTC(2026, 0, 1, 0, megabytes),
      kind: "log",
      uniqueId: `pipelinememory${String(file).padStart(2, "0")}`,
    }),
  );
  for (const key of keys) await putInParts(s3, process.env.BUCKET!, key, corpus.body);
  s3.destroy();
  return { keys, recordsPerFile: corpus.records, routedPerFile, gzipBytesPerFile: corpus.body.length };
}

/** In a child: load the modules and the pipeline; run it once over the queue unless `baseline`. */
async function measure(mode: string): Promise<Measurement> {
  const { createDefaultRegistry, createLogger } = await import("@trailrouter/cli");
  const { parsePipelineText, runPipelines } = await import("@trailrouter/core");
  const { benchPipeline } = await import("./e2e.js");
  const registry = createDefaultRegistry();
  const example = await benchPipeline(process.env);
  const pipeline = example.config.pipelines[0]!;
  const config = {
    ...example.config,
    pipelines: [{ ...pipeline, source: { ...pipeline.source, concurrency: CONCURRENCY } }],
  };
  const loaded = await parsePipelineText(JSON.stringify(config), {
    registry,
    env: process.env,
    format: "json",
    path: example.path,
    baseDir: example.baseDir,
  });
  if (mode === "baseline")
    return { peakRss: peakRss(), peakHeapUsed: 0, peakExternal: 0, records: 0, routed: 0 };
  const logger = createLogger("warn", { pretty: false });
  let peakHeapUsed = 0;
  let peakExternal = 0;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
    peakExternal = Math.max(peakExternal, usage.external);
  }, SAMPLE_MS);
  const summary = await runPipelines(loaded, { registry, logger, once: true });
  clearInterval(sampler);
  if (!summary.ok) throw new Error(`the run did not succeed: ${JSON.stringify(summary)}`);
  const [result] = summary.pipelines;
  const routed = Object.values(result!.routed).reduce((sum, n) => sum + n, 0);
  return { peakRss: peakRss(), peakHeapUsed, peakExternal, records: result!.records, routed };
}

/** What a child answered (JSON on ANSWER_FD), and its `--trace-gc` lines (on stdout). */
function inChild<T>(env: NodeJS.ProcessEnv, nodeFlags: readonly string[], ...args: string[]) {
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, [...nodeFlags, script, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 2 ** 28,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  if (result.status !== 0) {
    const outOfMemory = /heap out of memory/.test(result.stderr);
    return { outOfMemory, failure: `${args.join(" ")} failed (${result.status}): ${result.stderr}` } as const;
  }
  const answer = String(result.output[ANSWER_FD]);
  return { answer: JSON.parse(answer) as T, gcLines: result.stdout.split("\n") } as const;
}

/** The answer of a child that must succeed. */
function answerOf<T>(outcome: ReturnType<typeof inChild<T>>): T {
  if ("failure" in outcome) throw new Error(outcome.failure);
  return outcome.answer;
}

/**
 * The most the V8 heap held just after a full (mark-compact) GC, in bytes, read from `--trace-gc`
 * lines such as `Mark-Compact 255.0 (282.8) -> 73.9 (109.7) MB`: the live set, without the garbage
 * V8 lets pile up between GCs.
 */
function peakLiveHeap(gcLines: readonly string[]): number {
  let peak = 0;
  for (const line of gcLines) {
    const after = /Mark-Compact (?:\(reduce\) )?[\d.]+ \([\d.]+\) -> ([\d.]+) \(/.exec(line)?.[1];
    if (after !== undefined) peak = Math.max(peak, Number(after) * 2 ** 20);
  }
  return peak;
}

/** Messages in the sink queues, once the counts stop moving. */
async function sinkMessages(aws: LocalAwsProcess, world: TrailWorld): Promise<number> {
  let previous = -1;
  for (;;) {
    let total = 0;
    for (const url of Object.values(world.sinkQueueUrls)) {
      const depth = await queueDepth(aws, url);
      total += depth.visible + depth.inFlight;
    }
    if (total === previous) return total;
    previous = total;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const count = (n: number) => n.toLocaleString("en-US");

interface BenchOptions {
  readonly sizes: readonly number[];
  /** `--max-old-space-size` values (MB) of the runs after the one without a cap, for each size. */
  readonly heapCaps: readonly number[];
  /** More Node flags for the measured runs (`--heap-prof`, `--trace-gc-verbose`, ...). */
  readonly nodeFlags: readonly string[];
}

function benchOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: "string", default: SIZES_MB.join(",") },
      "heap-caps": { type: "string", default: HEAP_CAPS_MB.join(",") },
      "node-flags": { type: "string", default: "" },
    },
  });
  const numbers = (list: string) => list.split(",").filter(Boolean).map(Number);
  return {
    sizes: numbers(values.sizes),
    heapCaps: numbers(values["heap-caps"]),
    nodeFlags: values["node-flags"].split(" ").filter(Boolean),
  };
}

async function main(options: BenchOptions): Promise<void> {
  const began = performance.now();
  const aws = await startLocalAwsProcess();
  try {
    const world = await createTrailWorld(aws, {
      bucket: "trail-logs",
      topicName: "trail-notifications",
      queueName: "trail-queue",
      sinkQueues: Object.keys(SINK_QUEUES),
    });
    const env = pipelineEnv(aws, world);
    console.log(
      `trailrouter pipeline memory: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, node ${process.version}; fauxqs pid ${aws.pid}; MB here are MiB of RSS`,
    );
    const baseline = answerOf(inChild<Measurement>(env, [], "baseline"));
    console.log(
      `baseline (node + @trailrouter/cli and core loaded, pipeline file parsed, nothing run): peak RSS ${mb(baseline.peakRss)} MB\n`,
    );

    const header = [
      "JSON per file",
      "files at once",
      "heap cap",
      "gzip bodies in flight",
      "records",
      "routed",
      "peak RSS",
      "− baseline",
      "− baseline − bodies",
      "heap used (peak)",
      "live heap (peak)",
      "outside heap (peak)",
      "run",
    ];
    const rows: string[][] = [];
    for (const size of options.sizes) {
      const upload = answerOf(inChild<Upload>(env, [], "build", String(size)));
      for (const heapCap of [undefined, ...options.heapCaps]) {
        const notifications = await deliverLogFiles(
          aws,
          world,
          upload.keys.map((key) => ({ key, records: [] })),
          { upload: false },
        );
        await waitForNotifications(aws, world, notifications.length, POLL_MS);
        const flags = [
          "--trace-gc",
          ...(heapCap === undefined ? [] : [`--max-old-space-size=${heapCap}`]),
          ...options.nodeFlags,
        ];
        const started = performance.now();
        const outcome = inChild<Measurement>(env, flags, "run");
        const seconds = (performance.now() - started) / 1000;
        const bodies = upload.gzipBytesPerFile * Math.min(FILES, CONCURRENCY);
        const row = [
          `${size} MB`,
          String(Math.min(FILES, CONCURRENCY)),
          heapCap === undefined ? "none" : `${heapCap} MB`,
          `${mb(bodies)} MB`,
        ];
        if ("failure" in outcome) {
          // A run under too small a heap cap is an answer too: the live set did not fit.
          if (!(heapCap !== undefined && outcome.outOfMemory)) throw new Error(outcome.failure);
          rows.push([
            ...row,
            "heap out of memory",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            `${seconds.toFixed(0)} s`,
          ]);
          for (const url of [world.queueUrl, ...Object.values(world.sinkQueueUrls)]) {
            await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
          }
          continue;
        }
        const { answer: m, gcLines } = outcome;

        const expectedRecords = upload.recordsPerFile * FILES;
        const expectedRouted = upload.routedPerFile * FILES;
        if (m.records !== expectedRecords) {
          throw new Error(`${size} MB: the pipeline read ${m.records} records of ${expectedRecords}`);
        }
        const delivered = await sinkMessages(aws, world);
        if (m.routed !== expectedRouted || delivered !== expectedRouted) {
          throw new Error(
            `${size} MB: ${expectedRouted} records should be routed; the pipeline routed ${m.routed} and the sink queues hold ${delivered}`,
          );
        }
        const left = await queueDepth(aws, world.queueUrl);
        if (left.visible + left.inFlight > 0) throw new Error(`${size} MB: notifications left on the queue`);
        for (const url of Object.values(world.sinkQueueUrls)) {
          await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
        }

        rows.push([
          ...row,
          count(m.records),
          `${count(m.routed)} (${((100 * m.routed) / m.records).toFixed(1)} %)`,
          `${mb(m.peakRss)} MB`,
          `${mb(m.peakRss - baseline.peakRss)} MB`,
          `${mb(m.peakRss - baseline.peakRss - bodies)} MB`,
          `${mb(m.peakHeapUsed)} MB`,
          `${mb(peakLiveHeap(gcLines))} MB`,
          `${mb(m.peakExternal)} MB`,
          `${seconds.toFixed(0)} s`,
        ]);
      }
    }
    printTable(header, rows);
    console.log(
      [
        "\nEvery routed record was counted in the sink queues. − baseline − bodies: what the pipeline held beyond the compressed bodies of the files in flight.",
        `heap used: the V8 heap, live or garbage (sampled every ${SAMPLE_MS} ms); live heap: the most it held right after a full GC (--trace-gc);`,
        "outside heap: Buffers and other memory V8 counts as external, the bodies included (sampled).",
      ].join("\n"),
    );
    console.log(`Whole bench: ${((performance.now() - began) / 1000).toFixed(0)} s`);
  } finally {
    await aws.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [mode, size = "0"] = process.argv.slice(2);
  if (mode === undefined || mode.startsWith("--")) await main(benchOptions(process.argv.slice(2)));
  else if (mode === "build") writeSync(ANSWER_FD, JSON.stringify(await build(Number(size))));
  else writeSync(ANSWER_FD, JSON.stringify(await measure(mode)));
}
