/**
 * `node bench/dist/huge-record.js`: the peak memory of `trailrouter run --once` on a log file
 * holding one matching record of 150 MB (beside a few small ones), routed to two SQS sinks that
 * accept at most 1 MiB, with a `recordDeadLetter` sink. The record cannot be delivered anywhere,
 * so what it costs is the price of refusing it. The baseline, in the same run, is a process that
 * only gunzips the file and JSON.parse's it: the floor of holding the record at all. Both report
 * their peak RSS (process.resourceUsage().maxRSS) as the last line of their output. fauxqs runs
 * in its own process. Options: `--record-mb=150`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  cloudTrailKey,
  cloudTrailNotification,
  drainQueue,
  queueDepth,
  startLocalAwsProcess,
} from "@trailrouter/local-aws";
import { putInParts } from "./s3-upload.js";
import { printTable } from "./table.js";

const BIN = fileURLToPath(new URL("../../packages/cli/bin/trailrouter.js", import.meta.url));
const BUCKET = "huge-record";

const { values } = parseArgs({ options: { "record-mb": { type: "string", default: "150" } } });
const recordMb = Number(values["record-mb"]);

/** Prints the peak RSS of this process, in MB, when it exits: the measured processes' last line. */
const PRINT_PEAK = `process.on("exit", () => console.log("maxRSS " + Math.round(process.resourceUsage().maxRSS / 1024)));`;

function logFile(): Buffer {
  const small = (n: number) => ({
    eventID: `small-${n}`,
    eventName: "CreateUser",
    eventSource: "iam.amazonaws.com",
    awsRegion: "us-east-1",
    recipientAccountId: "111122223333",
  });
  const huge = {
    ...small(0),
    eventID: "huge",
    requestParameters: { policy: "x".repeat(recordMb * 2 ** 20) },
  };
  return gzipSync(JSON.stringify({ Records: [small(1), huge, small(2)] }));
}

function peakMb(output: string): number {
  const match = /maxRSS (\d+)\s*$/.exec(output.trim());
  if (!match) throw new Error(`no peak RSS in the output:\n${output.slice(-2000)}`);
  return Number(match[1]);
}

const aws = await startLocalAwsProcess();
try {
  const dir = mkdtempSync(path.join(tmpdir(), "huge-record-"));
  const body = logFile();
  const bodyFile = path.join(dir, "log.json.gz");
  writeFileSync(bodyFile, body);
  const key = cloudTrailKey({
    accountId: "111122223333",
    region: "us-east-1",
    time: new Date(),
    kind: "log",
  });
  const { s3 } = aws;
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await putInParts(s3, BUCKET, key, body);

  const queue = async (name: string) =>
    (await aws.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const [trail, users, audit, rejected] = (await Promise.all(
    ["trail", "users", "audit", "rejected"].map(queue),
  )) as [string, string, string, string];
  await aws.sqs.send(
    new SendMessageCommand({ QueueUrl: trail, MessageBody: cloudTrailNotification(BUCKET, [key]) }),
  );
  const config = path.join(dir, "pipeline.json");
  writeFileSync(
    config,
    JSON.stringify({
      aws: { endpoint: aws.endpoint, region: aws.region },
      pipelines: [
        {
          name: "huge",
          source: { type: "sqs", queueUrl: trail, waitTimeSeconds: 1 },
          decoder: { type: "cloudtrail", maxDecompressedBytes: 2 * recordMb * 2 ** 20 },
          routes: [
            {
              name: "users",
              match: { type: "event-pattern", pattern: { eventName: ["CreateUser"] } },
              to: ["users", "audit"],
            },
          ],
          sinks: {
            users: { type: "sqs", queueUrl: users },
            audit: { type: "sqs", queueUrl: audit },
            rejected: { type: "sqs", queueUrl: rejected },
          },
          recordDeadLetter: { sink: "rejected" },
        },
      ],
    }),
  );

  const env = {
    ...process.env,
    ...{ AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
    LOG_LEVEL: "warn",
  };
  const router = spawnSync(
    process.execPath,
    [
      "--import",
      `data:text/javascript,${encodeURIComponent(PRINT_PEAK)}`,
      BIN,
      "run",
      "--once",
      "--config",
      config,
    ],
    {
      env,
      encoding: "utf8",
      maxBuffer: 64 * 2 ** 20,
    },
  );
  if (router.status !== 0)
    throw new Error(`trailrouter exited ${router.status}:\n${router.stderr.slice(-4000)}`);
  const letters = await drainQueue(aws, rejected);
  const delivered = (await drainQueue(aws, users)).length + (await drainQueue(aws, audit)).length;
  const left = await queueDepth(aws, trail);
  if (letters.length !== 2 || delivered !== 4 || left.visible + left.inFlight !== 0) {
    throw new Error(
      `unexpected routing: ${letters.length} dead letters, ${delivered} delivered, ${JSON.stringify(left)} left`,
    );
  }

  const floorScript = `${PRINT_PEAK}
    const { readFileSync } = await import("node:fs");
    const { gunzipSync } = await import("node:zlib");
    const records = JSON.parse(gunzipSync(readFileSync(${JSON.stringify(bodyFile)})).toString("utf8")).Records;
    if (records.length !== 3) process.exit(1);`;
  const floor = spawnSync(process.execPath, ["--input-type=module", "-e", floorScript], { encoding: "utf8" });
  if (floor.status !== 0) throw new Error(`the floor exited ${floor.status}: ${floor.stderr}`);

  const routerMb = peakMb(router.stdout);
  const floorMb = peakMb(floor.stdout);
  printTable(
    ["process", "peak RSS (MB)", "÷ floor"],
    [
      [
        `trailrouter run --once, one ${recordMb} MB record, 2 sinks + dead letter`,
        String(routerMb),
        (routerMb / floorMb).toFixed(2),
      ],
      ["floor: gunzip + JSON.parse of the file", String(floorMb), "1.00"],
    ],
  );
} finally {
  await aws.stop();
}
