/**
 * The CMDB pipeline (examples/cmdb/pipeline.yaml) end to end on both emulators, fauxqs and moto:
 * real SQS, SNS and S3 over HTTP, every kind of notification, and the unhappy paths that must
 * leave the message in its queue. The example file takes its endpoint from AWS_ENDPOINT_URL, as
 * a user's would, so the emulators run one after the other.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { TrailRecord } from "@trailrouter/core";
import {
  CLOUDTRAIL_VALIDATION_MESSAGE,
  cloudTrailKey,
  cloudTrailNotification,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  type EmulatedAws,
  eventBridgeObjectCreated,
  generateTraffic,
  type LogFile,
  loadSampleRecords,
  publishToTopic,
  putLogFile,
  queueDepth,
  s3EventNotification,
  s3TestEvent,
  startLocalAws,
  startMoto,
  type TrailWorld,
} from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CMDB_PIPELINE_FILE } from "../src/commands/demo.js";
import { errorCodes, type LogLine, runOnce } from "./support.js";

const ACCOUNT = "111122223333";
const INSTANCE_EVENTS = new Set(["RunInstances", "ModifyInstanceAttribute", "TerminateInstances"]);
const USER_EVENTS = new Set(["CreateUser", "DeleteUser"]);

const EMULATORS: { name: string; start(): Promise<EmulatedAws> }[] = [
  { name: "fauxqs", start: startLocalAws },
  { name: "moto", start: startMoto },
];

function envFor(world: TrailWorld): Record<string, string> {
  const [instances, users] = Object.values(world.sinkQueueUrls);
  return { TRAIL_QUEUE_URL: world.queueUrl, INSTANCES_QUEUE_URL: instances!, USERS_QUEUE_URL: users! };
}

/** Log files of generated traffic with the real samples mixed in, over two regions. */
function logFiles(seed: number, files: number, organizationId?: string): LogFile[] {
  return Array.from({ length: files }, (_, i) => {
    const region = i % 2 === 0 ? "us-east-1" : "eu-west-1";
    const time = new Date(Date.UTC(2026, 10, 26, 12, i * 5));
    const records = generateTraffic({
      seed: seed * 100 + i,
      count: 300,
      accountIds: [ACCOUNT],
      regions: [region],
      start: time,
      sampleShare: 0.2,
    });
    return { key: cloudTrailKey({ accountId: ACCOUNT, region, time, kind: "log", organizationId }), records };
  });
}

/** For each notification the run understood: whether it came wrapped in an SNS envelope. */
function viaSns(logs: LogLine[]): unknown[] {
  return logs.filter((l) => l.msg === "notification understood").map((l) => l.viaSns);
}

function eventIds(records: readonly TrailRecord[], names: Set<string>): string[] {
  return records
    .filter((r) => names.has(r.eventName ?? ""))
    .map((r) => r.eventID!)
    .sort();
}

describe.each(EMULATORS)("on $name", ({ start }) => {
  let aws: EmulatedAws;
  let worlds = 0;

  beforeAll(async () => {
    aws = await start();
    // The example file leaves the endpoint to the SDK's standard chain, as a user would.
    process.env.AWS_ENDPOINT_URL = aws.endpoint;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL;
    await aws?.stop();
  });

  async function newWorld(options: { rawDelivery?: boolean } = {}): Promise<TrailWorld> {
    const n = ++worlds;
    return createTrailWorld(aws, {
      bucket: `trail-${n}`,
      topicName: `CloudTrail-${n}`,
      queueName: `CloudTrail-${n}`,
      sinkQueues: [`Instances-${n}`, `Users-${n}`],
      rawDelivery: options.rawDelivery,
    });
  }

  async function arrived(world: TrailWorld) {
    const [instances, users] = Object.values(world.sinkQueueUrls);
    const read = async (url: string) => (await drainQueue(aws, url)).map((m) => m.body as TrailRecord);
    return { instances: await read(instances!), users: await read(users!) };
  }

  async function messagesLeft(queueUrl: string): Promise<number> {
    const depth = await queueDepth(aws, queueUrl);
    return depth.visible + depth.inFlight;
  }

  describe("the CMDB pipeline", () => {
    it("routes every matching record of every key of every notification, and nothing else", async () => {
      const world = await newWorld();
      const files = logFiles(1, 5);
      // Two keys per notification, as CloudTrail sometimes announces: 3 notifications for 5 files.
      const notifications = await deliverLogFiles(aws, world, files, { keysPerNotification: 2 });
      expect(notifications.map((keys) => keys.length)).toEqual([2, 2, 1]);
      const records = files.flatMap((f) => f.records);
      expect(eventIds(records, INSTANCE_EVENTS).length).toBeGreaterThan(0);
      expect(eventIds(records, USER_EVENTS).length).toBeGreaterThan(0);

      const run = await runOnce(CMDB_PIPELINE_FILE, envFor(world));
      expect(run.code).toBe(0);
      expect(errorCodes(run.logs)).toEqual([]);

      const got = await arrived(world);
      expect(got.instances.map((r) => r.eventID).sort()).toEqual(eventIds(records, INSTANCE_EVENTS));
      expect(got.users.map((r) => r.eventID).sort()).toEqual(eventIds(records, USER_EVENTS));
      // The body is the record itself, whole.
      const sent = new Map(records.map((r) => [r.eventID, r]));
      for (const r of [...got.instances, ...got.users])
        expect(r).toEqual(JSON.parse(JSON.stringify(sent.get(r.eventID))));
      expect(await messagesLeft(world.queueUrl)).toBe(0);
      expect(viaSns(run.logs)).toEqual([true, true, true]);
      expect(run.out).toMatch(/envelopes\s*│\s*3 done, 0 given back/);
      expect(run.out).toMatch(/objects\s*│\s*5 decoded/);
    });

    it("reads notifications delivered raw (SNS raw message delivery)", async () => {
      const world = await newWorld({ rawDelivery: true });
      const files = logFiles(2, 2, "o-a1b2c3d4e5"); // an organization trail
      await deliverLogFiles(aws, world, files, { keysPerNotification: 2 });
      const run = await runOnce(CMDB_PIPELINE_FILE, envFor(world));
      expect(run.code).toBe(0);
      // CloudTrail's JSON itself, without the SNS envelope.
      expect(viaSns(run.logs)).toEqual([false]);
      const records = files.flatMap((f) => f.records);
      const got = await arrived(world);
      expect(got.instances.map((r) => r.eventID).sort()).toEqual(eventIds(records, INSTANCE_EVENTS));
      expect(got.users.map((r) => r.eventID).sort()).toEqual(eventIds(records, USER_EVENTS));
      expect(await messagesLeft(world.queueUrl)).toBe(0);
    });

    it("reads S3 event notifications (URL-encoded keys) and EventBridge Object Created events", async () => {
      const world = await newWorld();
      const [first, second] = logFiles(3, 2);
      // A trail prefix with a space and a colon: S3 notifications encode both.
      const spacedKey = `trail logs:2026/${first!.key}`;
      await putLogFile(aws, world.bucket, spacedKey, first!.records);
      await putLogFile(aws, world.bucket, second!.key, second!.records);
      await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: world.queueUrl,
          MessageBody: s3EventNotification(world.bucket, [spacedKey]),
        }),
      );
      await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: world.queueUrl,
          MessageBody: eventBridgeObjectCreated(world.bucket, second!.key),
        }),
      );

      const run = await runOnce(CMDB_PIPELINE_FILE, envFor(world));
      expect(run.code).toBe(0);
      const records = [...first!.records, ...second!.records];
      const got = await arrived(world);
      expect(got.instances.map((r) => r.eventID).sort()).toEqual(eventIds(records, INSTANCE_EVENTS));
      expect(got.users.map((r) => r.eventID).sort()).toEqual(eventIds(records, USER_EVENTS));
      expect(run.out).toMatch(/s3-event 1/);
      expect(run.out).toMatch(/eventbridge 1/);
    });

    it("acknowledges the validation message, an S3 test event and a digest, routing nothing", async () => {
      const world = await newWorld();
      await publishToTopic(aws, world.topicArn, CLOUDTRAIL_VALIDATION_MESSAGE);
      await publishToTopic(aws, world.topicArn, s3TestEvent(world.bucket));
      const digestKey = cloudTrailKey({
        accountId: ACCOUNT,
        region: "us-east-1",
        time: Date.UTC(2026, 10, 26, 13),
        kind: "digest",
      });
      await aws.s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: digestKey, Body: "{}" }));
      await publishToTopic(aws, world.topicArn, cloudTrailNotification(world.bucket, [digestKey]));

      const run = await runOnce(CMDB_PIPELINE_FILE, envFor(world));
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/validation 1/);
      expect(run.out).toMatch(/s3-test-event 1/);
      expect(run.out).toMatch(/skipped: digest 1/);
      expect(run.out).toMatch(/records\s*│\s*0/);
      const got = await arrived(world);
      expect(got.instances).toEqual([]);
      expect(got.users).toEqual([]);
      expect(await messagesLeft(world.queueUrl)).toBe(0);
    });
  });

  describe("the CMDB pipeline on bad input: the message stays in the queue, the error is logged with its context", () => {
    async function expectKeptWithError(world: TrailWorld, file: string, stageCode: string) {
      const run = await runOnce(file, envFor(world));
      expect(run.code).toBe(1);
      expect(errorCodes(run.logs)).toContain(stageCode);
      expect(run.out).toMatch(/given back/);
      expect(await messagesLeft(world.queueUrl)).toBe(1);
      return run.logs.find((l) => l.err && `${l.err.stage}/${l.err.code}` === stageCode)!;
    }

    it("a body that is not a notification", async () => {
      const world = await newWorld();
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: world.queueUrl, MessageBody: "{not json" }));
      const line = await expectKeptWithError(world, CMDB_PIPELINE_FILE, "unwrap/MalformedBody");
      expect(line.err!.messageId).toEqual(expect.any(String));
    });

    it("a notification naming an object that does not exist", async () => {
      const world = await newWorld();
      const key = cloudTrailKey({
        accountId: ACCOUNT,
        region: "us-east-1",
        time: Date.UTC(2026, 10, 26),
        kind: "log",
      });
      await publishToTopic(aws, world.topicArn, cloudTrailNotification(world.bucket, [key]));
      const line = await expectKeptWithError(world, CMDB_PIPELINE_FILE, "fetch/NoSuchKey");
      expect(line.err).toMatchObject({ bucket: world.bucket, key });
    });

    it("a log file that is not valid gzip", async () => {
      const world = await newWorld();
      const key = cloudTrailKey({
        accountId: ACCOUNT,
        region: "us-east-1",
        time: Date.UTC(2026, 10, 26),
        kind: "log",
      });
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: world.bucket,
          Key: key,
          Body: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5]),
        }),
      );
      await publishToTopic(aws, world.topicArn, cloudTrailNotification(world.bucket, [key]));
      const line = await expectKeptWithError(world, CMDB_PIPELINE_FILE, "decode/CorruptGzip");
      expect(line.err).toMatchObject({ bucket: world.bucket, key });
    });

    it("a record too large for an SQS message", async () => {
      const world = await newWorld();
      const [huge] = loadSampleRecords().filter((r) => r.eventName === "CreateUser");
      const tooLarge = {
        ...huge!,
        eventID: "0c0ffee0-0000-4000-8000-000000000001",
        requestParameters: { userName: "x", padding: "p".repeat(1_100_000) },
      };
      const key = cloudTrailKey({
        accountId: ACCOUNT,
        region: "us-east-1",
        time: Date.UTC(2026, 10, 26),
        kind: "log",
      });
      await deliverLogFiles(aws, world, [{ key, records: [tooLarge] }]);
      const line = await expectKeptWithError(world, CMDB_PIPELINE_FILE, "deliver/RecordTooLarge");
      expect(line.err).toMatchObject({ sink: "users", eventID: tooLarge.eventID, bucket: world.bucket, key });
    });

    it("an object in a bucket outside allowedBuckets is refused, not fetched", async () => {
      const world = await newWorld();
      const dir = await mkdtemp(path.join(tmpdir(), "trailrouter-cmdb-"));
      const file = path.join(dir, "pipeline.yaml");
      // The example with one line added to its source block.
      const example = await readFile(CMDB_PIPELINE_FILE, "utf8");
      await writeFile(
        file,
        example.replace(
          "      visibilityTimeout: 120\n",
          "      visibilityTimeout: 120\n      allowedBuckets: [some-other-bucket]\n",
        ),
      );
      const [logFile] = logFiles(4, 1);
      await deliverLogFiles(aws, world, [logFile!]);
      const line = await expectKeptWithError(world, file, "fetch/BucketNotAllowed");
      expect(line.err).toMatchObject({ bucket: world.bucket, key: logFile!.key });
      const got = await arrived(world);
      expect(got.instances).toEqual([]);
      expect(got.users).toEqual([]);
    });
  });
});
