/**
 * The testing kit itself: records, a plugin made from its options, and pipeline files run in
 * memory, with what each sink received and how each message was settled.
 */
import { ConfigError, DeliveryError, definePlugin, type TrailRecord, Type } from "@trailrouter/core";
import {
  createPlugin,
  type MemorySink,
  memorySink,
  pluginContext,
  runPipeline,
  TRAIL_RECORD_TIME,
  toLogFiles,
  trailRecord,
} from "@trailrouter/testing";
import { describe, expect, it } from "vitest";

const ids = (records: readonly TrailRecord[]) => records.map((r) => r.eventID);

describe("trailRecord", () => {
  it("is a CloudTrail record with the fields routes and log files read, and a new eventID each time", () => {
    const [a, b] = [trailRecord(), trailRecord()];
    expect(a).toMatchObject({
      eventSource: "iam.amazonaws.com",
      eventName: "CreateUser",
      awsRegion: "us-east-1",
      recipientAccountId: "111122223333",
      eventTime: TRAIL_RECORD_TIME,
      eventType: "AwsApiCall",
      userIdentity: { type: "IAMUser", accountId: "111122223333" },
    });
    expect(a.eventID).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.eventID).not.toBe(b.eventID);
    expect(a.requestID).not.toBe(b.requestID);
  });

  it("takes overrides as they are, leaves out a field set to undefined, and names its account everywhere", () => {
    const record = trailRecord({
      eventSource: "ec2.amazonaws.com",
      eventName: "RunInstances",
      recipientAccountId: "444455556666",
      requestParameters: { instanceType: "t3.micro" },
      responseElements: undefined,
    });
    expect(record).toMatchObject({
      eventSource: "ec2.amazonaws.com",
      eventName: "RunInstances",
      requestParameters: { instanceType: "t3.micro" },
      userIdentity: { accountId: "444455556666", arn: "arn:aws:iam::444455556666:user/alice" },
    });
    expect("responseElements" in record).toBe(false);
  });
});

describe("pluginContext", () => {
  it("needs no argument: pipeline and name `test`, a silent logger, metrics, the system clock", async () => {
    const context = pluginContext();
    expect(context).toMatchObject({ pipeline: "test", name: "test", baseDir: process.cwd() });
    expect(context.aws.settings).toEqual({});
    context.metrics.counter("trailrouter_kit_test_total", "A counter of this test").inc();
    expect(context.clock.now()).toBeGreaterThan(0);
    expect(pluginContext({ name: "hook", baseDir: "/tmp" })).toMatchObject({ name: "hook", baseDir: "/tmp" });
  });
});

const greeting = definePlugin({
  kind: "sink",
  type: "greeting",
  schema: Type.Object({
    to: Type.String({ minLength: 1 }),
    times: Type.Integer({ minimum: 1, default: 2 }),
    options: Type.Optional(Type.Object({ loud: Type.Boolean({ default: false }) })),
  }),
  create(config, context) {
    return {
      config,
      name: context.name,
      deliver: async (records) => ({ delivered: records.length, failed: [] }),
      close: async () => {},
    };
  },
});

describe("createPlugin", () => {
  it("creates a plugin from the options a pipeline file would give, defaults filled in", async () => {
    const sink = (await createPlugin(greeting, { to: "you", options: {} }, { name: "hello" })) as unknown as {
      config: unknown;
      name: string;
    };
    expect(sink.config).toEqual({ type: "greeting", to: "you", times: 2, options: { loud: false } });
    expect(sink.name).toBe("hello");
  });

  it("refuses options its schema refuses, with paths relative to the block", async () => {
    const error = await createPlugin(greeting, { times: 0, too: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: "", message: 'missing required option "to"' },
      { path: "", message: 'unknown option "too" (did you mean "to"?)' },
      { path: "times", message: expect.stringMatching(/>= 1/) },
    ]);
  });

  it("makes plugins of the other kinds too, and runs their validate hook", async () => {
    const matcher = await createPlugin(
      // A built-in plugin is a plugin like any other.
      (await import("@trailrouter/core")).eventPatternMatcher,
      { pattern: { eventName: ["CreateUser"] } },
    );
    expect(matcher.matches(trailRecord())).toBe(true);
    expect(matcher.matches(trailRecord({ eventName: "DeleteUser" }))).toBe(false);
    const invalid = await createPlugin((await import("@trailrouter/core")).eventPatternMatcher, {
      pattern: { eventName: "CreateUser" },
    }).catch((e: unknown) => e);
    expect((invalid as ConfigError).problems[0]!.path).toMatch(/^pattern\.eventName/);
  });
});

const pipelineFile = (sinks = "hook: { type: memory }") => `
pipelines:
  - name: users
    source: { type: memory }
    routes:
      - name: created
        match: { type: event-pattern, pattern: { eventName: [CreateUser] } }
        to: [hook]
    sinks:
      ${sinks}
`;

describe("runPipeline", () => {
  it("runs a file once over log files, with the CloudTrail decoder by default: what each sink received, each message acked", async () => {
    const records = [
      trailRecord(),
      trailRecord({ eventName: "DeleteUser" }),
      trailRecord({ awsRegion: "eu-west-1" }),
    ];
    const logFiles = toLogFiles(records);
    expect(logFiles).toHaveLength(2);
    const run = await runPipeline(pipelineFile(), { logFiles });
    expect(run.summary.ok).toBe(true);
    expect(run.summary.pipelines[0]).toMatchObject({
      records: 3,
      routed: { created: 2 },
      delivered: { hook: 2 },
      envelopes: { acked: 2, nacked: 0 },
    });
    expect(ids(run.sinks.hook!.received).sort()).toEqual([records[0]!.eventID, records[2]!.eventID].sort());
    expect(run.sinks.hook!.delivered).toEqual(run.sinks.hook!.received);
    expect(run.messages.map((m) => [m.id, m.outcome, m.keys])).toEqual([
      ["message-1", "acked", [logFiles[0]!.key]],
      ["message-2", "acked", [logFiles[1]!.key]],
    ]);
  });

  it("gives back a message whose object cannot be decoded, and one whose records a sink failed", async () => {
    let calls = 0;
    const flaky = definePlugin({
      kind: "sink",
      type: "flaky",
      schema: Type.Object({}),
      create: (_config, context) => ({
        async deliver(records) {
          calls++;
          const error = new DeliveryError("Down", "the service is down", { sink: context.name });
          return { delivered: 0, failed: records.map((record) => ({ record, error })) };
        },
        close: async () => {},
      }),
    });
    const run = await runPipeline(pipelineFile("hook: { type: flaky }"), {
      plugins: [flaky],
      messages: [
        { id: "bad", objects: [{ key: "AWSLogs/bad.json.gz", body: "not gzip, not JSON" }] },
        { id: "good", objects: toLogFiles([trailRecord()]) },
      ],
    });
    expect(run.summary.ok).toBe(false);
    expect(run.messages.map((m) => [m.id, m.outcome])).toEqual([
      ["bad", "nacked"],
      ["good", "nacked"],
    ]);
    expect(run.messages[0]!.error).toMatchObject({ stage: "decode" });
    expect(run.messages[1]!.error).toMatchObject({ code: "Down" });
    expect(calls).toBe(1);
    expect(run.sinks.hook).toMatchObject({ calls: 1, delivered: [] });
    expect(run.sinks.hook!.failed).toHaveLength(1);
  });

  it("sends records a sink refused for good to the file's recordDeadLetter sink, and acks", async () => {
    const picky = definePlugin({
      kind: "sink",
      type: "picky",
      schema: Type.Object({}),
      create: () => ({
        maxRecordBytes: 2000,
        deliver: async (records) => ({ delivered: records.length, failed: [] }),
        close: async () => {},
      }),
    });
    const huge = trailRecord({ requestParameters: { userName: "x".repeat(5000) } });
    const small = trailRecord();
    const run = await runPipeline(
      `${pipelineFile("hook: { type: picky }\n      dead: { type: memory }")}    recordDeadLetter: { sink: dead }\n`,
      { plugins: [picky], logFiles: toLogFiles([huge, small]) },
    );
    expect(run.messages.map((m) => m.outcome)).toEqual(["acked"]);
    // The runtime refused the huge record before the sink saw it.
    expect(ids(run.sinks.hook!.received)).toEqual([small.eventID]);
    expect(run.sinks.dead!.received).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ code: "RecordTooLarge" }) }),
    ]);
    expect(run.summary.pipelines[0]!.deadLettered).toEqual({ hook: 1 });
  });

  it("names sinks pipeline/sink in a file of several pipelines, and reads its variables from env", async () => {
    const text = `
pipelines:
  - name: a
    source: { type: memory }
    routes: [{ name: all, match: { type: event-name, names: ["\${EVENT}"] }, to: [out] }]
    sinks: { out: { type: memory } }
  - name: b
    source: { type: memory }
    routes: [{ name: all, match: { type: event-name, names: [DeleteUser] }, to: [out] }]
    sinks: { out: { type: memory } }
`;
    const record = trailRecord();
    const run = await runPipeline(text, { env: { EVENT: "CreateUser" }, logFiles: toLogFiles([record]) });
    expect(Object.keys(run.sinks).sort()).toEqual(["a/out", "b/out"]);
    expect(ids(run.sinks["a/out"]!.received)).toEqual([record.eventID]);
    expect(run.sinks["b/out"]!.received).toEqual([]);
    // Each pipeline's memory source hands out every message.
    expect(run.messages.map((m) => `${m.pipeline}:${m.outcome}`).sort()).toEqual(["a:acked", "b:acked"]);
  });

  it("keeps at most `concurrency` messages unsettled; by default one after the other", async () => {
    let active = 0;
    let most = 0;
    const slow = definePlugin({
      kind: "sink",
      type: "slow",
      schema: Type.Object({}),
      create: () => ({
        async deliver(records) {
          most = Math.max(most, ++active);
          await new Promise((resolve) => setTimeout(resolve, 20));
          active--;
          return { delivered: records.length, failed: [] };
        },
        close: async () => {},
      }),
    });
    const logFiles = Array.from({ length: 6 }, () => toLogFiles([trailRecord()])[0]!);
    await runPipeline(pipelineFile("hook: { type: slow }"), { plugins: [slow], logFiles });
    expect(most).toBe(1);
    most = 0;
    const run = await runPipeline(pipelineFile("hook: { type: slow }"), {
      plugins: [slow],
      logFiles,
      source: { concurrency: 3 },
    });
    expect(most).toBe(3);
    expect(run.messages.filter((m) => m.outcome === "acked")).toHaveLength(6);
  });

  it("rejects a file that does not validate with the ConfigError validate prints", async () => {
    const error = await runPipeline(pipelineFile("hook: { type: memory, color: red }")).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: "pipelines[0].sinks.hook", message: 'unknown option "color"' },
    ]);
  });
});

describe("memorySink", () => {
  it("accepts everything and keeps it", async () => {
    const sink = (await createPlugin(memorySink)) as MemorySink;
    const records = [trailRecord(), trailRecord()];
    expect(await sink.deliver(records)).toEqual({ delivered: 2, failed: [] });
    expect(sink.records).toEqual(records);
  });
});
