/**
 * The runtime's delivery rules, with an in-memory source and sinks (pure logic, no AWS):
 * fan-out to routes and sinks, ack only after full delivery, nack on any failure.
 */
import {
  type AnyPlugin,
  builtinPlugins,
  DeliveryError,
  definePlugin,
  type Envelope,
  NotificationError,
  PluginRegistry,
  parsePipelineText,
  runPipelines,
  type SourceObject,
  type TrailRecord,
} from "@trailrouter/core";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FLUSH_ROUTED_RECORDS } from "../src/runtime/pipeline.js";
import { jsonRecordsDecoder, jsonRecordsDecoderPlugin } from "./support.js";

interface FakeMessage {
  id: string;
  /** The records of a log file, its raw text, or the error reading it throws. */
  objects: (TrailRecord[] | string | Error)[];
}

/** A world of in-memory queues: messages in, records out, and what was acked or nacked. */
function memoryWorld(
  messages: FakeMessage[],
  options: { failEventIds?: Set<string>; throwingSink?: string } = {},
) {
  const acked: string[] = [];
  const nacked: { id: string; error: Error }[] = [];
  const received = new Map<string, TrailRecord[]>();
  const deliverCalls: { sink: string; size: number }[] = [];
  const closed: string[] = [];

  const source = definePlugin({
    kind: "source",
    type: "memory",
    schema: { type: "object", properties: {} },
    create: () => ({
      async *receive() {
        for (const message of messages) {
          const envelope: Envelope = {
            id: message.id,
            receiveCount: 1,
            async *objects(): AsyncIterable<SourceObject> {
              for (const [i, object] of message.objects.entries()) {
                if (object instanceof Error) throw object;
                yield {
                  bucket: "b",
                  key: `${message.id}/${i}`,
                  body: new TextEncoder().encode(
                    typeof object === "string" ? object : JSON.stringify({ Records: object }),
                  ),
                };
              }
            },
            ack: async () => void acked.push(message.id),
            nack: async (error) => void nacked.push({ id: message.id, error }),
          };
          yield envelope;
        }
      },
      close: async () => void closed.push("source"),
    }),
  });

  const sink = definePlugin({
    kind: "sink",
    type: "memory",
    schema: { type: "object", properties: {} },
    create: (_config, context) => ({
      async deliver(records: readonly TrailRecord[]) {
        if (options.throwingSink === context.name) throw new Error("connection refused");
        const failed = records
          .filter((r) => options.failEventIds?.has(r.eventID!))
          .map((record) => ({
            record,
            error: new DeliveryError("Refused", "refused", { sink: context.name, eventID: record.eventID }),
          }));
        const ok = records.filter((r) => !options.failEventIds?.has(r.eventID!));
        deliverCalls.push({ sink: context.name, size: records.length });
        received.set(context.name, [...(received.get(context.name) ?? []), ...ok]);
        return { delivered: ok.length, failed };
      },
      close: async () => void closed.push(context.name),
    }),
  });

  return { plugins: [source, sink] as AnyPlugin[], acked, nacked, received, closed, deliverCalls };
}

const PIPELINE = `
pipelines:
  - name: p
    source: { type: memory }
    routes:
      - { name: iam, match: { type: event-pattern, pattern: { eventSource: [iam.amazonaws.com] } }, to: [security, archive] }
      - { name: users, match: { type: event-name, names: [CreateUser] }, to: [security] }
      - { name: never, match: { type: event-name, names: [NoSuchEvent] }, to: [archive] }
    sinks:
      security: { type: memory }
      archive: { type: memory }
`;

const record = (eventID: string, eventName: string, eventSource = "iam.amazonaws.com"): TrailRecord => ({
  eventID,
  eventName,
  eventSource,
});

async function run(world: ReturnType<typeof memoryWorld>) {
  const registry = new PluginRegistry([...builtinPlugins, jsonRecordsDecoder, ...world.plugins]);
  const loaded = await parsePipelineText(PIPELINE, { registry });
  return runPipelines(loaded, { registry, logger: pino({ level: "silent" }), once: true });
}

describe("runtime", () => {
  it("fans a record out to every route it matches and every sink of those routes, once per sink", async () => {
    const world = memoryWorld([
      {
        id: "m1",
        objects: [
          [
            record("1", "CreateUser"),
            record("2", "ListUsers"),
            record("3", "RunInstances", "ec2.amazonaws.com"),
          ],
        ],
      },
    ]);
    const summary = await run(world);
    // CreateUser matches `iam` and `users`, both feeding `security`: it reaches security once.
    expect(world.received.get("security")!.map((r) => r.eventID)).toEqual(["1", "2"]);
    expect(world.received.get("archive")!.map((r) => r.eventID)).toEqual(["1", "2"]);
    expect(summary.pipelines[0]!.routed).toEqual({ iam: 2, users: 1, never: 0 });
    expect(summary.pipelines[0]!.delivered).toEqual({ security: 2, archive: 2 });
    expect(summary.pipelines[0]!.records).toBe(3);
    expect(world.acked).toEqual(["m1"]);
    expect(summary.ok).toBe(true);
  });

  it("acks an envelope only when every object reached every sink, and nacks it otherwise", async () => {
    const world = memoryWorld(
      [
        { id: "good", objects: [[record("1", "CreateUser")], [record("2", "DeleteUser")]] },
        { id: "bad", objects: [[record("3", "CreateUser")], [record("4", "DeleteUser")]] },
      ],
      { failEventIds: new Set(["4"]) },
    );
    const summary = await run(world);
    expect(world.acked).toEqual(["good"]);
    expect(world.nacked.map((n) => n.id)).toEqual(["bad"]);
    const error = world.nacked[0]!.error as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.code).toBe("Refused");
    expect(error.context).toMatchObject({ messageId: "bad", bucket: "b", key: "bad/1", eventID: "4" });
    expect(summary.ok).toBe(false);
    expect(summary.pipelines[0]!.envelopes).toEqual({ acked: 1, nacked: 1, deadLettered: 0 });
    expect(summary.pipelines[0]!.failures).toEqual([{ stage: "deliver", code: "Refused", count: 1 }]);
  });

  it("treats a sink that throws as having delivered nothing", async () => {
    const world = memoryWorld([{ id: "m", objects: [[record("1", "CreateUser")]] }], {
      throwingSink: "archive",
    });
    const summary = await run(world);
    expect(world.acked).toEqual([]);
    expect(world.nacked.map((n) => n.id)).toEqual(["m"]);
    expect(summary.pipelines[0]!.failures[0]).toMatchObject({ stage: "deliver" });
  });

  it("nacks an envelope whose notification cannot be read, and keeps serving the others", async () => {
    const world = memoryWorld([
      {
        id: "garbage",
        objects: [new NotificationError("MalformedBody", "not JSON", { messageId: "garbage" })],
      },
      { id: "after", objects: [[record("1", "CreateUser")]] },
    ]);
    const summary = await run(world);
    expect(world.nacked.map((n) => n.id)).toEqual(["garbage"]);
    expect(world.acked).toEqual(["after"]);
    expect(summary.pipelines[0]!.failures).toEqual([{ stage: "unwrap", code: "MalformedBody", count: 1 }]);
  });

  it("closes the source and every sink when the run ends", async () => {
    const world = memoryWorld([]);
    await run(world);
    expect(world.closed.sort()).toEqual(["archive", "security", "source"]);
  });

  it("stops before receiving anything when a plugin cannot be created, closing what was created", async () => {
    const world = memoryWorld([{ id: "m", objects: [[record("1", "CreateUser")]] }]);
    const broken = definePlugin({
      kind: "sink",
      type: "broken",
      schema: { type: "object", properties: {} },
      create: () => {
        throw new Error("no credentials");
      },
    });
    const registry = new PluginRegistry([
      ...builtinPlugins,
      jsonRecordsDecoder,
      ...world.plugins,
      broken as AnyPlugin,
    ]);
    const loaded = await parsePipelineText(
      PIPELINE.replace("archive: { type: memory }", "archive: { type: broken }"),
      { registry },
    );
    await expect(
      runPipelines(loaded, { registry, logger: pino({ level: "silent" }), once: true }),
    ).rejects.toMatchObject({
      stage: "plugin",
      code: "PluginCreateFailed",
      message: 'cannot create sink "archive" (broken) of pipeline "p": no credentials',
    });
    expect(world.acked).toEqual([]);
    expect(world.closed.sort()).toEqual(["security", "source"]);
  });
});

describe("plugins that do not start", () => {
  it("refuses what create() returns when it is not an instance of the plugin's kind, naming the plugin", async () => {
    for (const [returned, described] of [
      [42, "number 42"],
      [null, "null"],
      [{ deliver: async () => ({ delivered: 0, failed: [] }) }, "an object"],
    ] as const) {
      const world = memoryWorld([]);
      const odd = definePlugin({
        kind: "sink",
        type: "odd",
        schema: { type: "object", properties: {} },
        create: () => returned as never,
      });
      const registry = new PluginRegistry([
        ...builtinPlugins,
        jsonRecordsDecoder,
        ...world.plugins,
        odd as AnyPlugin,
      ]);
      const loaded = await parsePipelineText(
        PIPELINE.replace("archive: { type: memory }", "archive: { type: odd }"),
        { registry },
      );
      const error = await runPipelines(loaded, {
        registry,
        logger: pino({ level: "silent" }),
        once: true,
      }).catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({ stage: "plugin", code: "InvalidPluginInstance" });
      expect((error as Error).message).toMatch(
        new RegExp(
          `^cannot create sink "archive" \\(odd\\) of pipeline "p": create\\(\\) returned ${described}, not a sink \\(expected an object with deliver\\(\\) and close\\(\\)`,
        ),
      );
      expect(world.closed.sort()).toEqual(["security", "source"]);
    }
  });

  it("as a service, stops every pipeline when one of them cannot receive for good", async () => {
    const world = memoryWorld([]);
    let stopped = false;
    const failing = definePlugin({
      kind: "source",
      type: "failing",
      schema: { type: "object", properties: {} },
      create: () => ({
        // biome-ignore lint/correctness/useYield: it fails before it has anything to give
        async *receive() {
          throw new NotificationError("QueueDoesNotExist", "the queue does not exist");
        },
        close: async () => {},
      }),
    });
    const idle = definePlugin({
      kind: "source",
      type: "idle",
      schema: { type: "object", properties: {} },
      create: () => ({
        async *receive({ signal }: { signal: AbortSignal }) {
          await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
          stopped = true;
          yield* [];
        },
        close: async () => {},
      }),
    });
    const registry = new PluginRegistry([
      ...builtinPlugins,
      jsonRecordsDecoder,
      ...world.plugins,
      failing as AnyPlugin,
      idle as AnyPlugin,
    ]);
    const text = `${PIPELINE.replace("source: { type: memory }", "source: { type: idle }")}${PIPELINE.replace(
      "pipelines:\n  - name: p",
      "  - name: q",
    ).replace("source: { type: memory }", "source: { type: failing }")}`;
    const loaded = await parsePipelineText(text, { registry });
    const summary = await runPipelines(loaded, { registry, logger: pino({ level: "silent" }), once: false });
    expect(stopped).toBe(true);
    expect(summary.ok).toBe(false);
    expect(summary.pipelines.map((p) => [p.pipeline, p.receiveFailed])).toEqual([
      ["p", false],
      ["q", true],
    ]);
  });
});

describe("runtime shutdown", () => {
  /** One envelope whose single sink delivery waits for `release`; settled outcomes are recorded. */
  function stallingWorld() {
    const outcomes: string[] = [];
    let release: () => void = () => {};
    let deliveryStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      deliveryStarted = resolve;
    });
    const source = definePlugin({
      kind: "source",
      type: "stalling",
      schema: { type: "object", properties: {} },
      create: () => ({
        async *receive({ signal }: { signal: AbortSignal }) {
          yield {
            id: "slow",
            receiveCount: 1,
            async *objects(): AsyncIterable<SourceObject> {
              yield {
                bucket: "b",
                key: "k",
                body: new TextEncoder().encode(JSON.stringify({ Records: [record("1", "CreateUser")] })),
              };
            },
            ack: async () => void outcomes.push("ack"),
            nack: async () => void outcomes.push("nack"),
          } satisfies Envelope;
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        },
        close: async () => void outcomes.push("source closed"),
      }),
    });
    const sink = definePlugin({
      kind: "sink",
      type: "stalling",
      schema: { type: "object", properties: {} },
      create: () => ({
        async deliver(records: readonly TrailRecord[]) {
          deliveryStarted();
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          return { delivered: records.length, failed: [] };
        },
        close: async () => void outcomes.push("sink closed"),
      }),
    });
    return { plugins: [source, sink] as AnyPlugin[], outcomes, started, release: () => release() };
  }

  const file = (shutdownTimeoutSeconds: number) => `
shutdownTimeoutSeconds: ${shutdownTimeoutSeconds}
pipelines:
  - name: p
    source: { type: stalling }
    routes: [{ name: all, match: { type: event-name, names: [CreateUser] }, to: [out] }]
    sinks: { out: { type: stalling } }
`;

  async function start(shutdownTimeoutSeconds: number) {
    const world = stallingWorld();
    const registry = new PluginRegistry([...builtinPlugins, jsonRecordsDecoder, ...world.plugins]);
    const loaded = await parsePipelineText(file(shutdownTimeoutSeconds), { registry });
    const controller = new AbortController();
    const running = runPipelines(loaded, {
      registry,
      logger: pino({ level: "silent" }),
      once: false,
      signal: controller.signal,
    });
    await world.started;
    controller.abort();
    return { world, running };
  }

  it("lets an envelope in flight finish and acks it when it does so before the deadline", async () => {
    const { world, running } = await start(5);
    setTimeout(() => world.release(), 50);
    const summary = await running;
    expect(world.outcomes).toEqual(["ack", "source closed", "sink closed"]);
    expect(summary.pipelines[0]!.envelopes).toEqual({ acked: 1, nacked: 0, deadLettered: 0 });
  });

  it("closes the source with the envelope unsettled at the deadline, and ignores its late result", async () => {
    const { world, running } = await start(0);
    const summary = await running;
    expect(world.outcomes.sort()).toEqual(["sink closed", "source closed"]);
    world.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(world.outcomes).not.toContain("ack");
    expect(world.outcomes).not.toContain("nack");
    expect(summary.pipelines[0]!.envelopes).toEqual({ acked: 0, nacked: 0, deadLettered: 0 });
  });

  it("rejects a shutdownTimeoutSeconds outside 0–3600", async () => {
    const registry = new PluginRegistry([...builtinPlugins, jsonRecordsDecoder, ...stallingWorld().plugins]);
    await expect(parsePipelineText(file(3601), { registry })).rejects.toMatchObject({
      problems: [{ path: "shutdownTimeoutSeconds", message: expect.stringMatching(/3600/) }],
    });
  });
});

describe("runtime memory bound", () => {
  const many = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => record(String(from + i), "CreateUser"));

  it("delivers a big object's routed records in slices while it decodes", async () => {
    const total = FLUSH_ROUTED_RECORDS * 2.5;
    const world = memoryWorld([{ id: "big", objects: [many(total)] }]);
    const summary = await run(world);
    const securityCalls = world.deliverCalls.filter((c) => c.sink === "security").map((c) => c.size);
    // Each CreateUser goes to two sinks (security, archive): a slice is full after half as many records.
    expect(securityCalls).toEqual(Array(5).fill(FLUSH_ROUTED_RECORDS / 2));
    expect(world.received.get("security")).toHaveLength(total);
    expect(summary.pipelines[0]!.routed.iam).toBe(total);
    expect(world.acked).toEqual(["big"]);
  });

  it("gives the envelope back when a later slice fails, though earlier slices went out", async () => {
    const records = many(FLUSH_ROUTED_RECORDS * 2);
    const world = memoryWorld([{ id: "big", objects: [records] }], {
      failEventIds: new Set([records.at(-1)!.eventID!]),
    });
    await run(world);
    expect(world.acked).toEqual([]);
    expect(world.nacked.map((n) => n.id)).toEqual(["big"]);
    expect(world.received.get("security")!.length).toBe(FLUSH_ROUTED_RECORDS * 2 - 1);
  });
});

describe("runtime prefilter", () => {
  // The CloudTrail decoder's own skipping in a pipeline (unparsed records, strict) is tested
  // with it, in packages/cli/test/decoder-prefilter.test.ts.
  const pipeline = `
pipelines:
  - name: p
    source: { type: memory }
    routes:
      - { name: users, match: { type: event-pattern, pattern: { eventSource: [iam.amazonaws.com], eventName: [CreateUser] } }, to: [security] }
    sinks:
      security: { type: memory }
`;

  it("counts the records the decoder skipped, and routes the others", async () => {
    const world = memoryWorld([
      {
        id: "m1",
        objects: [
          [
            record("1", "ListUsers"),
            record("2", "CreateUser"),
            record("3", "GetUser"),
            record("4", "RunInstances", "ec2.amazonaws.com"),
          ],
        ],
      },
    ]);
    const tally = { skipped: 0 };
    const registry = new PluginRegistry([
      ...builtinPlugins,
      jsonRecordsDecoderPlugin(tally),
      ...world.plugins,
    ]);
    const loaded = await parsePipelineText(pipeline, { registry });
    const summary = await runPipelines(loaded, { registry, logger: pino({ level: "silent" }), once: true });
    expect(world.received.get("security")!.map((r) => r.eventID)).toEqual(["2"]);
    expect(tally.skipped).toBe(3);
    expect(summary.pipelines[0]!.records).toBe(4);
    expect(world.acked).toEqual(["m1"]);
  });
});

describe("runtime matcher plugins with compileSet", () => {
  /** Routes by event name, compiled together; its `mayMatch` looks for the names in the text. */
  function eventNamesPlugin() {
    const compiled: string[][] = [];
    let created = 0;
    const plugin = definePlugin<"matcher", { names: string[] }>({
      kind: "matcher",
      type: "event-names",
      schema: {
        type: "object",
        properties: { names: { type: "array", items: { type: "string" } } },
        required: ["names"],
        additionalProperties: false,
      },
      create: () => {
        created++;
        return { matches: () => false };
      },
      compileSet(routes) {
        compiled.push(routes.map((route) => route.name));
        return {
          matchIndices: (r) =>
            routes.flatMap((route, i) => (route.config.names.includes(r.eventName!) ? [i] : [])),
          mayMatch: (json) => routes.some((route) => route.config.names.some((n) => json.includes(`"${n}"`))),
        };
      },
    });
    return { plugin, compiled, created: () => created };
  }

  it("compiles a plugin's routes once per pipeline instead of creating them, in file order with the others", async () => {
    const eventNames = eventNamesPlugin();
    const records = [record("1", "CreateUser"), record("2", "ListUsers"), record("3", "ConsoleLogin")];
    const world = memoryWorld([{ id: "m1", objects: [records] }]);
    const tally = { skipped: 0 };
    const registry = new PluginRegistry([
      ...builtinPlugins,
      jsonRecordsDecoderPlugin(tally),
      ...world.plugins,
      eventNames.plugin,
    ]);
    const loaded = await parsePipelineText(
      `
pipelines:
  - name: p
    source: { type: memory }
    routes:
      - { name: logins, match: { type: event-names, names: [ConsoleLogin] }, to: [security] }
      - { name: users, match: { type: event-pattern, pattern: { eventName: [CreateUser] } }, to: [archive] }
      - { name: creates, match: { type: event-names, names: [CreateUser] }, to: [security] }
    sinks:
      security: { type: memory }
      archive: { type: memory }
`,
      { registry },
    );
    const summary = await runPipelines(loaded, { registry, logger: pino({ level: "silent" }), once: true });
    expect(eventNames.compiled).toEqual([["logins", "creates"]]);
    expect(eventNames.created()).toBe(0);
    expect(world.received.get("security")!.map((r) => r.eventID)).toEqual(["1", "3"]);
    expect(world.received.get("archive")!.map((r) => r.eventID)).toEqual(["1"]);
    // Both sets tell from the text: ListUsers was skipped unparsed, and is still counted.
    expect(tally.skipped).toBe(1);
    expect(summary.pipelines[0]!.records).toBe(3);
    expect(world.acked).toEqual(["m1"]);
  });
});
