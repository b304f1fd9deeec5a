/**
 * examples/swap-output: the CMDB pipeline with its outputs as SQS queues, SNS topics or an
 * EventBridge bus. The three files differ only in their sinks, and deliver the same records to
 * the same destinations: on moto, which has all three services, and on fauxqs for SQS and SNS.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { CreateEventBusCommand, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateTopicCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { TrailRecord } from "@trailrouter/core";
import {
  cloudTrailKey,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  type EmulatedAws,
  generateTraffic,
  type LogFile,
  type MotoAws,
  queueDepth,
  startLocalAws,
  startMoto,
  type TrailWorld,
} from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { errorCodes, runOnce } from "./support.js";

type Output = "sqs" | "sns" | "eventbridge";

const exampleFile = (output: Output) =>
  fileURLToPath(new URL(`../../../examples/swap-output/${output}.yaml`, import.meta.url));

const ACCOUNT = "111122223333";
const INSTANCE_EVENTS = new Set(["RunInstances", "ModifyInstanceAttribute", "TerminateInstances"]);
const USER_EVENTS = new Set(["CreateUser", "DeleteUser"]);
/** The line that opens the sinks block; everything after it belongs to the block. */
const SINKS_LINE = "    sinks:\n";

interface Delivered {
  instances: TrailRecord[];
  users: TrailRecord[];
}

/** Where an output's records go on an emulator: the variables naming it, and how to read it back. */
interface Destinations {
  env: Record<string, string>;
  read(): Promise<Delivered>;
}

async function createQueue(aws: EmulatedAws, name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** Every message of a queue, each turned back into the record it carries. */
async function readRecords(aws: EmulatedAws, queueUrl: string, unwrap: (body: unknown) => unknown) {
  return (await drainQueue(aws, queueUrl)).map((message) => unwrap(message.body) as TrailRecord);
}

/** How each output's destinations are built, and what a message in them looks like. */
const DESTINATIONS: Record<Output, (aws: EmulatedAws, name: string) => Promise<Destinations>> = {
  async sqs(aws, name) {
    const instances = await createQueue(aws, `${name}-instances`);
    const users = await createQueue(aws, `${name}-users`);
    const asSent = (body: unknown) => body;
    return {
      env: { INSTANCES_QUEUE_URL: instances.url, USERS_QUEUE_URL: users.url },
      read: async () => ({
        instances: await readRecords(aws, instances.url, asSent),
        users: await readRecords(aws, users.url, asSent),
      }),
    };
  },

  async sns(aws, name) {
    const topicWithQueue = async (suffix: string) => {
      const { TopicArn } = await aws.sns.send(new CreateTopicCommand({ Name: `${name}-${suffix}` }));
      const queue = await createQueue(aws, `${name}-${suffix}-subscriber`);
      await aws.sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: queue.arn }));
      return { topicArn: TopicArn!, queueUrl: queue.url };
    };
    const instances = await topicWithQueue("instances");
    const users = await topicWithQueue("users");
    // The subscription wraps each message in an SNS envelope.
    const fromEnvelope = (body: unknown) => JSON.parse((body as { Message: string }).Message);
    return {
      env: { INSTANCES_TOPIC_ARN: instances.topicArn, USERS_TOPIC_ARN: users.topicArn },
      read: async () => ({
        instances: await readRecords(aws, instances.queueUrl, fromEnvelope),
        users: await readRecords(aws, users.queueUrl, fromEnvelope),
      }),
    };
  },

  async eventbridge(aws, name) {
    if (!("events" in aws)) throw new Error("eventbridge.yaml needs an emulator with EventBridge (moto)");
    const { events } = aws as MotoAws;
    await events.send(new CreateEventBusCommand({ Name: name }));
    // A rule per consumer, picking the events by the source its sink gives them.
    const ruleToQueue = async (suffix: string) => {
      const queue = await createQueue(aws, `${name}-${suffix}`);
      const rule = `${name}-${suffix}`;
      const pattern = { source: [`trailrouter.cmdb.${suffix}`] };
      await events.send(
        new PutRuleCommand({ Name: rule, EventBusName: name, EventPattern: JSON.stringify(pattern) }),
      );
      await events.send(
        new PutTargetsCommand({ Rule: rule, EventBusName: name, Targets: [{ Id: "queue", Arn: queue.arn }] }),
      );
      return queue.url;
    };
    const instances = await ruleToQueue("instances");
    const users = await ruleToQueue("users");
    const fromEvent = (body: unknown) => (body as { detail: unknown }).detail;
    return {
      env: { EVENT_BUS_NAME: name },
      read: async () => ({
        instances: await readRecords(aws, instances, fromEvent),
        users: await readRecords(aws, users, fromEvent),
      }),
    };
  },
};

/** Three log files of generated traffic with real samples mixed in. */
function logFiles(): LogFile[] {
  return [0, 1, 2].map((i) => {
    const region = i % 2 === 0 ? "us-east-1" : "eu-west-1";
    const time = new Date(Date.UTC(2026, 10, 26, 9, i * 5));
    const records = generateTraffic({
      seed: 4200 + i,
      count: 250,
      accountIds: [ACCOUNT],
      regions: [region],
      start: time,
      sampleShare: 0.2,
    });
    return { key: cloudTrailKey({ accountId: ACCOUNT, region, time, kind: "log" }), records };
  });
}

const FILES = logFiles();
const RECORDS = FILES.flatMap((file) => file.records);
const expectedIds = (names: Set<string>) =>
  RECORDS.filter((r) => names.has(r.eventName ?? ""))
    .map((r) => r.eventID!)
    .sort();
const EXPECTED = { instances: expectedIds(INSTANCE_EVENTS), users: expectedIds(USER_EVENTS) };
const SENT = new Map(RECORDS.map((record) => [record.eventID, JSON.parse(JSON.stringify(record))]));

const ids = (records: readonly TrailRecord[]) => records.map((r) => r.eventID!).sort();

describe("the swap-output example files", () => {
  const OUTPUTS: Output[] = ["sqs", "sns", "eventbridge"];

  it("are the same document but for each pipeline's sinks", async () => {
    const documents = await Promise.all(
      OUTPUTS.map(async (output) => parse(await readFile(exampleFile(output), "utf8"))),
    );
    const withoutSinks = documents.map((document) => {
      const copy = structuredClone(document);
      for (const pipeline of copy.pipelines) delete pipeline.sinks;
      return copy;
    });
    expect(withoutSinks[1]).toEqual(withoutSinks[0]);
    expect(withoutSinks[2]).toEqual(withoutSinks[0]);
    // Routes send to sinks by name: every file names the same two.
    for (const document of documents)
      expect(Object.keys(document.pipelines[0].sinks)).toEqual(["instances", "users"]);
    expect(documents.map((document) => document.pipelines[0].sinks.instances.type)).toEqual(OUTPUTS);
  });

  it("have the same text, byte for byte, outside their sinks block", async () => {
    const texts = await Promise.all(OUTPUTS.map((output) => readFile(exampleFile(output), "utf8")));
    const split = texts.map((text) => {
      const parts = text.split(SINKS_LINE);
      expect(parts).toHaveLength(2);
      return { before: parts[0]!, block: parts[1]! };
    });
    expect(split[1]!.before).toBe(split[0]!.before);
    expect(split[2]!.before).toBe(split[0]!.before);
    // The sinks block ends the file: all that follows its first line is inside it.
    for (const { block } of split) {
      for (const line of block.split("\n")) expect(line === "" || line.startsWith("      ")).toBe(true);
    }
  });
});

async function deliverAndRun(aws: EmulatedAws, output: Output, name: string) {
  const world: TrailWorld = await createTrailWorld(aws, {
    bucket: `${name}-trail`,
    topicName: `${name}-CloudTrail`,
    queueName: `${name}-CloudTrail`,
  });
  await deliverLogFiles(aws, world, FILES);
  const destinations = await DESTINATIONS[output](aws, name);
  const run = await runOnce(exampleFile(output), { TRAIL_QUEUE_URL: world.queueUrl, ...destinations.env });
  const depth = await queueDepth(aws, world.queueUrl);
  return { run, delivered: await destinations.read(), messagesLeft: depth.visible + depth.inFlight };
}

/** Starts an emulator for the enclosing describe and points the SDK's endpoint chain at it. */
function useEmulator(start: () => Promise<EmulatedAws>): () => EmulatedAws {
  let aws: EmulatedAws;
  beforeAll(async () => {
    aws = await start();
    // The example files take the endpoint from the SDK's standard chain, as a user's would.
    process.env.AWS_ENDPOINT_URL = aws.endpoint;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL;
    await aws?.stop();
  });
  return () => aws;
}

/** Runs each output's file in turn on one emulator, and checks they all delivered the same. */
function itDeliversTheSameRecords(emulator: () => EmulatedAws, outputs: Output[]) {
  const files = outputs.map((output) => `${output}.yaml`).join(", ");
  it(`${files} deliver the same records to the same destinations`, async () => {
    expect(EXPECTED.instances.length).toBeGreaterThan(0);
    expect(EXPECTED.users.length).toBeGreaterThan(0);
    const got: Partial<Record<Output, { instances: string[]; users: string[] }>> = {};
    for (const output of outputs) {
      const { run, delivered, messagesLeft } = await deliverAndRun(emulator(), output, `swap-${output}`);
      expect(errorCodes(run.logs), output).toEqual([]);
      expect(run.code, output).toBe(0);
      expect(messagesLeft, output).toBe(0);
      // Each destination holds the records themselves, whole, whatever carried them.
      for (const record of [...delivered.instances, ...delivered.users])
        expect(record, output).toEqual(SENT.get(record.eventID));
      got[output] = { instances: ids(delivered.instances), users: ids(delivered.users) };
    }
    expect(got).toEqual(Object.fromEntries(outputs.map((output) => [output, EXPECTED])));
  });
}

describe("the same records reach the same destinations whichever the output", () => {
  describe("on moto", () => {
    const moto = useEmulator(startMoto);
    itDeliversTheSameRecords(moto, ["sqs", "sns", "eventbridge"]);
  });

  describe("on fauxqs", () => {
    const fauxqs = useEmulator(startLocalAws);
    itDeliversTheSameRecords(fauxqs, ["sqs", "sns"]);

    // A finding, not a skip: see "EventBridge output on fauxqs" in docs/COMPATIBILITY.md.
    it("eventbridge.yaml cannot deliver on fauxqs, which has no EventBridge: every message stays in its queue", async () => {
      const aws = fauxqs();
      const world = await createTrailWorld(aws, {
        bucket: "no-eventbridge-trail",
        topicName: "no-eventbridge-CloudTrail",
        queueName: "no-eventbridge-CloudTrail",
      });
      await deliverLogFiles(aws, world, FILES);
      const run = await runOnce(exampleFile("eventbridge"), {
        TRAIL_QUEUE_URL: world.queueUrl,
        EVENT_BUS_NAME: "cmdb",
      });
      expect(run.code).toBe(1);
      // fauxqs refuses PutEvents' content type with a body the SDK cannot read as an AWS error.
      expect(errorCodes(run.logs)).toEqual(FILES.map(() => "deliver/Unknown"));
      for (const line of run.logs.filter((l) => l.level >= 50 && l.err))
        expect(["instances", "users"]).toContain(line.err!.sink);
      expect(run.out).toMatch(new RegExp(`envelopes\\s*│\\s*0 done, ${FILES.length} given back`));
      const depth = await queueDepth(aws, world.queueUrl);
      expect(depth.visible + depth.inFlight).toBe(FILES.length);
    });
  });
});
