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
 * Linux carries the peak RSS of a process over to the child it spawns, so this process stays
 * small: the log files are built and uploaded by a child too.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
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
import { SINK_QUEUES } from "./e2e.js";
import { printTable } from "./table.js";

const SIZES_MB = [20, 200];
/** Files per size, all handled at once: the source's `concurrency`. */
const FILES = 8;
const CONCURRENCY = 8;
const POLL_MS = 50;
/** fauxqs takes request bodies up to 11 MiB: larger files go up in parts of this size. */
const PART_BYTES = 8 * 2 ** 20;

/** What a measuring child reports. */
interface Measurement {
  /** Bytes. */
  readonly peakRss: number;
  readonly records: number;
  readonly routed: number;
}

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

/** Puts `body` with a multipart upload, as CloudTrail's metadata says: gzip JSON. */
async function putInParts(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: "application/json",
      ContentEncoding: "gzip",
    }),
  );
  const parts = [];
  for (let start = 0, part = 1; start < body.length; start += PART_BYTES, part++) {
    const { ETag } = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: part,
        Body: body.subarray(start, start + PART_BYTES),
      }),
    );
    parts.push({ ETag, PartNumber: part });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
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
  if (mode === "baseline") return { peakRss: peakRss(), records: 0, routed: 0 };
  const logger = createLogger("warn", { pretty: false });
  const summary = await runPipelines(loaded, { registry, logger, once: true });
  if (!summary.ok) throw new Error(`the run did not succeed: ${JSON.stringify(summary)}`);
  const [result] = summary.pipelines;
  const routed = Object.values(result!.routed).reduce((sum, n) => sum + n, 0);
  return { peakRss: peakRss(), records: result!.records, routed };
}

function inChild<T>(env: NodeJS.ProcessEnv, ...args: string[]): T {
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, [script, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 2 ** 26,
  });
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

async function waitForNotifications(aws: LocalAwsProcess, world: TrailWorld, count: number) {
  for (;;) {
    const { visible } = await queueDepth(aws, world.queueUrl);
    if (visible === count) return;
    if (visible > count) throw new Error(`${visible} notifications queued, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
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

async function main(): Promise<void> {
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
    const baseline = inChild<Measurement>(env, "baseline");
    console.log(
      `baseline (node + @trailrouter/cli and core loaded, pipeline file parsed, nothing run): peak RSS ${mb(baseline.peakRss)} MB\n`,
    );

    const header = [
      "JSON per file",
      "files at once",
      "records",
      "routed",
      "gzip bodies in flight",
      "peak RSS",
      "− baseline",
      "− baseline − bodies",
      "run",
    ];
    const rows: string[][] = [];
    for (const size of SIZES_MB) {
      const upload = inChild<Upload>(env, "build", String(size));
      const notifications = await deliverLogFiles(
        aws,
        world,
        upload.keys.map((key) => ({ key, records: [] })),
        { upload: false },
      );
      await waitForNotifications(aws, world, notifications.length);
      const started = performance.now();
      const m = inChild<Measurement>(env, "run");
      const seconds = (performance.now() - started) / 1000;

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

      const bodies = upload.gzipBytesPerFile * Math.min(FILES, CONCURRENCY);
      rows.push([
        `${size} MB`,
        String(Math.min(FILES, CONCURRENCY)),
        count(m.records),
        `${count(m.routed)} (${((100 * m.routed) / m.records).toFixed(1)} %)`,
        `${mb(bodies)} MB`,
        `${mb(m.peakRss)} MB`,
        `${mb(m.peakRss - baseline.peakRss)} MB`,
        `${mb(m.peakRss - baseline.peakRss - bodies)} MB`,
        `${seconds.toFixed(0)} s`,
      ]);
    }
    printTable(header, rows);
    console.log(
      "\nEvery routed record was counted in the sink queues. − baseline − bodies: what the pipeline held beyond the compressed bodies of the files in flight.",
    );
    console.log(`Whole bench: ${((performance.now() - began) / 1000).toFixed(0)} s`);
  } finally {
    await aws.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [mode, size = "0"] = process.argv.slice(2);
  if (mode === undefined) await main();
  else if (mode === "build") process.stdout.write(JSON.stringify(await build(Number(size))));
  else process.stdout.write(JSON.stringify(await measure(mode)));
}
