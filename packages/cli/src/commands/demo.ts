/**
 * `trailrouter demo`: the CMDB example end to end with no AWS account. A local emulator
 * (fauxqs) runs in this process; the demo builds the CloudTrail delivery chain on it (bucket,
 * SNS topic, notification queue, the Instances and Users queues), writes gzip log files the way
 * CloudTrail does, announces them through SNS, runs examples/cmdb/pipeline.yaml with the same
 * code as `trailrouter run --once`, and reads back what arrived where.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger, TrailRecord } from "@trailrouter/core";
import {
  CLOUDTRAIL_VALIDATION_MESSAGE,
  cloudTrailKey,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  generateTraffic,
  loadSampleRecords,
  publishToTopic,
  putLogFile,
  queueDepth,
  startLocalAws,
} from "@trailrouter/local-aws";
import Table from "cli-table3";
import { EXIT_CONFIG, EXIT_FAILURES, EXIT_OK, loadOrReport } from "../load.js";
import { createDefaultRegistry } from "../registry.js";
import { formatRunSummary, TABLE_STYLE } from "../summary.js";
import { runLoaded } from "./run.js";

export const CMDB_PIPELINE_FILE = fileURLToPath(
  new URL("../../../../examples/cmdb/pipeline.yaml", import.meta.url),
);

const ACCOUNT = "111122223333";
const ORGANIZATION = "o-a1b2c3d4e5";
const REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const FILES_PER_REGION = 4;
const RECORDS_PER_FILE = 400;

/** The walkthrough's lookup table, used here only to check the routing independently. */
const WALKTHROUGH_TABLE: Record<string, string> = {
  RunInstances: "Instances",
  ModifyInstanceAttribute: "Instances",
  TerminateInstances: "Instances",
  CreateUser: "Users",
  DeleteUser: "Users",
};

export interface DemoOptions {
  logger: Logger;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function demoCommand(options: DemoOptions): Promise<number> {
  const { out } = options;
  const aws = await startLocalAws();
  try {
    out.write(
      `trailrouter demo: a local AWS emulator (fauxqs) is running in this process at ${aws.endpoint}\n`,
    );
    const world = await createTrailWorld(aws, {
      bucket: `aws-cloudtrail-logs-${ACCOUNT}-demo`,
      topicName: "CloudTrail",
      queueName: "CloudTrail",
      sinkQueues: ["Instances", "Users"],
    });

    const files = buildLogFiles();
    const records = files.flatMap((f) => f.records);
    // CloudTrail publishes a validation message when notifications are turned on.
    await publishToTopic(aws, world.topicArn, CLOUDTRAIL_VALIDATION_MESSAGE);
    await deliverLogFiles(aws, world, files, { keysPerNotification: 2 });
    const digestKey = cloudTrailKey({
      accountId: ACCOUNT,
      region: "us-east-1",
      time: new Date(START),
      kind: "digest",
    });
    await putLogFile(aws, world.bucket, digestKey, []);
    await deliverLogFiles(aws, world, [{ key: digestKey, records: [] }], { upload: false });

    out.write(
      `Wrote ${files.length} CloudTrail log files (${records.length.toLocaleString("en-US")} records, ${REGIONS.length} regions, ` +
        `one organization trail) and a digest to s3://${world.bucket}, announced through SNS topic ` +
        `CloudTrail into queue CloudTrail (two keys per notification, plus the validation message).\n\n`,
    );

    Object.assign(process.env, {
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_REGION: aws.region,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "demo",
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "demo",
      TRAIL_QUEUE_URL: world.queueUrl,
      INSTANCES_QUEUE_URL: world.sinkQueueUrls.Instances,
      USERS_QUEUE_URL: world.sinkQueueUrls.Users,
    });
    const registry = createDefaultRegistry();
    const loaded = await loadOrReport(CMDB_PIPELINE_FILE, registry, options.err);
    if (!loaded) return EXIT_CONFIG;
    out.write(
      `Running ${path.relative(process.cwd(), CMDB_PIPELINE_FILE)} as \`trailrouter run --once\` does:\n`,
    );
    const summary = await runLoaded(loaded, { ...options, once: true, registry });
    out.write(`${formatRunSummary(summary)}\n\n`);

    const arrived = {
      Instances: await drainQueue(aws, world.sinkQueueUrls.Instances!),
      Users: await drainQueue(aws, world.sinkQueueUrls.Users!),
    };
    const table = new Table({
      head: ["queue", "messages", "by event name", "expected by the walkthrough's table"],
      ...TABLE_STYLE,
    });
    let allAsExpected = true;
    for (const [queue, messages] of Object.entries(arrived)) {
      const expected = records.filter((r) => WALKTHROUGH_TABLE[r.eventName ?? ""] === queue);
      const asExpected = sameEventIds(
        messages.map((m) => (m.body as TrailRecord).eventID),
        expected.map((r) => r.eventID),
      );
      allAsExpected &&= asExpected;
      table.push([
        queue,
        messages.length,
        countBy(messages.map((m) => (m.body as TrailRecord).eventName)),
        `${expected.length} ${asExpected ? "✓" : "✗"}`,
      ]);
    }
    const left = await queueDepth(aws, world.queueUrl);
    out.write(`What arrived where (read back from the queues):\n${table.toString()}\n`);
    out.write(`Notification queue CloudTrail: ${left.visible + left.inFlight} message(s) left.\n`);
    if (!summary.ok || !allAsExpected || left.visible + left.inFlight > 0) {
      out.write("The demo did not route as expected: see the log lines above.\n");
      return EXIT_FAILURES;
    }
    out.write(
      "Every matching record reached its queue, nothing else did, and every notification was deleted.\n",
    );
    return EXIT_OK;
  } finally {
    await aws.stop();
  }
}

const START = Date.UTC(2026, 10, 26, 12, 0, 0);

/** Several five-minute log files per region, with the real sample records mixed into the first region. */
function buildLogFiles(): { key: string; records: TrailRecord[] }[] {
  const samples = loadSampleRecords();
  const files: { key: string; records: TrailRecord[] }[] = [];
  let seed = 1;
  for (const region of REGIONS) {
    for (let i = 0; i < FILES_PER_REGION; i++) {
      const time = new Date(START + i * 5 * 60_000);
      const records = generateTraffic({
        seed: seed++,
        count: RECORDS_PER_FILE,
        accountIds: [ACCOUNT],
        regions: [region],
        start: time,
      });
      if (region === REGIONS[0])
        records.push(
          ...samples.slice(
            i * Math.ceil(samples.length / FILES_PER_REGION),
            (i + 1) * Math.ceil(samples.length / FILES_PER_REGION),
          ),
        );
      const organizationId = region === REGIONS[2] ? ORGANIZATION : undefined;
      files.push({
        key: cloudTrailKey({ accountId: ACCOUNT, region, time, organizationId, kind: "log" }),
        records,
      });
    }
  }
  return files;
}

function countBy(values: (string | undefined)[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v ?? "?", (counts.get(v ?? "?") ?? 0) + 1);
  return (
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(", ") || "-"
  );
}

function sameEventIds(a: (string | undefined)[], b: (string | undefined)[]): boolean {
  const left = [...a].sort();
  const right = [...b].sort();
  return left.length === right.length && left.every((id, i) => id === right[i]);
}
