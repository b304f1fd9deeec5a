/**
 * Hostile input, all in one queue next to a good notification: each bad message becomes a typed
 * error with its context, stays in the queue for redrive, and the run keeps serving the others.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { TrailRecord } from "@trailrouter/core";
import {
  cloudTrailKey,
  cloudTrailNotification,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  generateTraffic,
  type LocalAws,
  queueDepth,
  startLocalAws,
} from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CMDB_PIPELINE_FILE } from "../src/commands/demo.js";
import { runOnce } from "./support.js";

const ACCOUNT = "111122223333";
const BUCKET = "hostile-trail";
/** The decoder's cap in this test's copy of the example, so a bomb need not be huge to trip it. */
const DECOMPRESSED_CAP = 4_194_304;

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL;
  await aws.stop();
});

let keys = 0;
const key = () =>
  cloudTrailKey({
    accountId: ACCOUNT,
    region: "us-east-1",
    time: Date.UTC(2026, 10, 26, 8, keys++),
    kind: "log",
  });

interface HostileCase {
  name: string;
  /** stage/code the run must log for it. */
  expected: string;
  /** Puts what the case needs and returns the message body to send. */
  prepare(): Promise<string>;
  /** Whether the logged error must name the object (bucket and key). */
  namesObject: boolean;
}

async function object(body: Uint8Array | string): Promise<string> {
  const k = key();
  await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: body }));
  return cloudTrailNotification(BUCKET, [k]);
}

const CASES: HostileCase[] = [
  {
    name: "malformed JSON body",
    expected: "unwrap/MalformedBody",
    namesObject: false,
    prepare: async () => "{not json",
  },
  {
    name: "a body of almost 1 MiB",
    expected: "unwrap/MalformedBody",
    namesObject: false,
    prepare: async () => `{${"x".repeat(1_000_000)}`,
  },
  {
    name: "a notification naming a bucket that does not exist (and is not in allowedBuckets)",
    expected: "fetch/BucketNotAllowed",
    namesObject: true,
    prepare: async () => cloudTrailNotification("no-such-bucket", [key()]),
  },
  {
    name: "a notification naming a key that does not exist",
    expected: "fetch/NoSuchKey",
    namesObject: true,
    prepare: async () => cloudTrailNotification(BUCKET, [key()]),
  },
  {
    name: "a gzip bomb (tiny file, output over the cap)",
    expected: "decode/DecompressedTooLarge",
    namesObject: true,
    prepare: () => object(gzipSync(Buffer.alloc(DECOMPRESSED_CAP * 8, 0x20))),
  },
  {
    name: "bytes that are not UTF-8",
    expected: "decode/InvalidJson",
    namesObject: true,
    prepare: () =>
      object(
        gzipSync(
          Buffer.concat([
            Buffer.from('{"Records":[{"eventName":"'),
            Buffer.from([0xff, 0xfe]),
            Buffer.from('"}]}'),
          ]),
        ),
      ),
  },
  {
    name: "deeply nested JSON",
    expected: "decode/",
    namesObject: true,
    prepare: () => object(gzipSync(`{"Records":[${"[".repeat(100_000)}${"]".repeat(100_000)}]}`)),
  },
  {
    name: "Records that is not an array",
    expected: "decode/RecordsNotArray",
    namesObject: true,
    prepare: () => object(gzipSync('{"Records":{"eventName":"CreateUser"}}')),
  },
  {
    name: "records that are not objects",
    expected: "decode/RecordNotObject",
    namesObject: true,
    prepare: () => object(gzipSync('{"Records":[1,"CreateUser",null]}')),
  },
];

describe("hostile input", () => {
  it("each bad message is a typed error with context, kept for redrive, while the good one is routed", async () => {
    const world = await createTrailWorld(aws, {
      bucket: BUCKET,
      topicName: "HostileTrail",
      queueName: "HostileTrail",
      sinkQueues: ["HostileInstances", "HostileUsers"],
    });
    // The example with a decompression cap and allowedBuckets: one file, one place.
    const file = path.join(await mkdtemp(path.join(tmpdir(), "trailrouter-hostile-")), "pipeline.yaml");
    const example = await readFile(CMDB_PIPELINE_FILE, "utf8");
    await writeFile(
      file,
      example
        .replace(
          "      visibilityTimeout: 120\n",
          `      visibilityTimeout: 120\n      allowedBuckets: [${BUCKET}]\n`,
        )
        .replace(
          "      type: cloudtrail\n",
          `      type: cloudtrail\n      maxDecompressedBytes: ${DECOMPRESSED_CAP}\n`,
        ),
    );

    const messageIds = new Map<string, HostileCase>();
    for (const hostile of CASES) {
      const { MessageId } = await aws.sqs.send(
        new SendMessageCommand({ QueueUrl: world.queueUrl, MessageBody: await hostile.prepare() }),
      );
      messageIds.set(MessageId!, hostile);
    }
    const time = Date.UTC(2026, 10, 26, 9);
    const good = generateTraffic({
      seed: 99,
      count: 2_000,
      accountIds: [ACCOUNT],
      regions: ["us-east-1"],
      start: time,
    });
    await deliverLogFiles(aws, world, [
      { key: cloudTrailKey({ accountId: ACCOUNT, region: "us-east-1", time, kind: "log" }), records: good },
    ]);

    const run = await runOnce(file, {
      TRAIL_QUEUE_URL: world.queueUrl,
      INSTANCES_QUEUE_URL: world.sinkQueueUrls.HostileInstances!,
      USERS_QUEUE_URL: world.sinkQueueUrls.HostileUsers!,
    });
    expect(run.code).toBe(1);

    // Every hostile message: its own typed error, with its message id (and object, where it has one).
    const errors = run.logs.filter((l) => l.level >= 50 && l.err);
    for (const [messageId, hostile] of messageIds) {
      const line = errors.find((l) => l.err!.messageId === messageId);
      expect(line, hostile.name).toBeDefined();
      expect(`${line!.err!.stage}/${line!.err!.code}`, hostile.name).toMatch(
        new RegExp(`^${hostile.expected}`),
      );
      if (hostile.namesObject)
        expect(line!.err, hostile.name).toMatchObject({
          bucket: expect.any(String),
          key: expect.any(String),
        });
    }
    expect(run.out).toMatch(new RegExp(`envelopes\\s*│\\s*1 done, ${CASES.length} given back`));

    // All of them still in the queue; the good file's records all routed.
    const depth = await queueDepth(aws, world.queueUrl);
    expect(depth.visible + depth.inFlight).toBe(CASES.length);
    const routed = (names: string[]) =>
      good
        .filter((r) => names.includes(r.eventName!))
        .map((r) => r.eventID)
        .sort();
    const arrived = async (url: string) =>
      (await drainQueue(aws, url)).map((m) => (m.body as TrailRecord).eventID).sort();
    expect(await arrived(world.sinkQueueUrls.HostileInstances!)).toEqual(
      routed(["RunInstances", "ModifyInstanceAttribute", "TerminateInstances"]),
    );
    expect(await arrived(world.sinkQueueUrls.HostileUsers!)).toEqual(routed(["CreateUser", "DeleteUser"]));
  });
});
