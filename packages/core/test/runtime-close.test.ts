/**
 * Closing a pipeline's plugins is bounded: a close() that never returns is logged and left
 * behind, and the run still ends (pure logic, in-memory plugins, no AWS).
 */
import { Writable } from "node:stream";
import {
  type AnyPlugin,
  builtinPlugins,
  definePlugin,
  type Envelope,
  PluginRegistry,
  parsePipelineText,
  runPipelines,
  type SourceObject,
  type TrailRecord,
} from "@trailrouter/core";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { CLOSE_GRACE_MS } from "../src/runtime/pipeline.js";
import { jsonRecordsDecoder } from "./support.js";

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function capturedLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

/**
 * A source with one envelope of one CreateUser record (it ends after it in `once` mode, else
 * waits for the stop), and a sink whose deliveries take `deliverMs` and whose close() never returns.
 */
function hangingCloseWorld(deliverMs: number) {
  const outcomes: string[] = [];
  let deliveryStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    deliveryStarted = resolve;
  });
  const source = definePlugin({
    kind: "source",
    type: "one-envelope",
    schema: { type: "object", properties: {} },
    create: () => ({
      async *receive({ signal, once }: { signal: AbortSignal; once: boolean }) {
        const record: TrailRecord = { eventID: "1", eventName: "CreateUser" };
        yield {
          id: "m1",
          receiveCount: 1,
          async *objects(): AsyncIterable<SourceObject> {
            yield {
              bucket: "b",
              key: "k",
              body: new TextEncoder().encode(JSON.stringify({ Records: [record] })),
            };
          },
          ack: async () => void outcomes.push("ack"),
          nack: async () => void outcomes.push("nack"),
        } satisfies Envelope;
        if (!once) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      },
      // Stands for giving back what is unsettled.
      close: async () => void outcomes.push("source closed"),
    }),
  });
  const sink = definePlugin({
    kind: "sink",
    type: "hanging-close",
    schema: { type: "object", properties: {} },
    create: () => ({
      async deliver(records: readonly TrailRecord[]) {
        deliveryStarted();
        await new Promise((resolve) => setTimeout(resolve, deliverMs));
        return { delivered: records.length, failed: [] };
      },
      close: () => new Promise<void>(() => {}),
    }),
  });
  return { plugins: [source, sink] as AnyPlugin[], outcomes, started };
}

const file = (shutdownTimeoutSeconds: number) => `
shutdownTimeoutSeconds: ${shutdownTimeoutSeconds}
pipelines:
  - name: p
    source: { type: one-envelope }
    routes: [{ name: all, match: { type: event-name, names: [CreateUser] }, to: [out] }]
    sinks: { out: { type: hanging-close } }
`;

async function start(
  world: ReturnType<typeof hangingCloseWorld>,
  shutdownTimeoutSeconds: number,
  once: boolean,
) {
  const registry = new PluginRegistry([...builtinPlugins, jsonRecordsDecoder, ...world.plugins]);
  const loaded = await parsePipelineText(file(shutdownTimeoutSeconds), { registry });
  const { logger, lines } = capturedLogger();
  const controller = new AbortController();
  const running = runPipelines(loaded, { registry, logger, once, signal: controller.signal });
  return { running, lines, stop: () => controller.abort() };
}

function unclosedWarnings(lines: LogLine[]) {
  return lines.filter((l) => / did not close within /.test(l.msg)).map((l) => l.unclosed);
}

describe("runtime close bound", () => {
  it("ends a stopped run though a sink's close() hangs: the source still closes, the hung close is logged", async () => {
    // Unfinished at the deadline (0 s): closing then gets the fixed grace.
    const world = hangingCloseWorld(60_000);
    const { running, lines, stop } = await start(world, 0, false);
    await world.started;
    stop();
    const summary = await running;

    expect(world.outcomes).toEqual(["source closed"]);
    expect(summary.pipelines[0]!.envelopes).toEqual({ acked: 0, nacked: 0, deadLettered: 0 });
    expect(unclosedWarnings(lines)).toEqual([[{ plugin: "sink:hanging-close", name: "out" }]]);
    const warning = lines.find((l) => / did not close within /.test(l.msg))!;
    expect(warning).toMatchObject({ pipeline: "p", closeTimeoutMs: CLOSE_GRACE_MS });
  });

  it("closes within what is left of shutdownTimeoutSeconds when the envelopes finished early", async () => {
    const world = hangingCloseWorld(10);
    const { running, lines, stop } = await start(world, 4, false);
    await world.started;
    stop();
    await running;

    expect(world.outcomes).toEqual(["ack", "source closed"]);
    const warning = lines.find((l) => / did not close within /.test(l.msg))!;
    // More than the grace is left of the 4 s: closing had that, not more.
    expect(warning.closeTimeoutMs).toBeGreaterThan(CLOSE_GRACE_MS);
    expect(warning.closeTimeoutMs).toBeLessThanOrEqual(4_000);
  });

  it("fails a pipeline whose plugin cannot start after the fixed grace, though a created sink's close() hangs", async () => {
    const world = hangingCloseWorld(0);
    const broken = definePlugin({
      kind: "sink",
      type: "broken",
      schema: { type: "object", properties: {} },
      create: () => {
        throw new Error("cannot start");
      },
    });
    const registry = new PluginRegistry([...builtinPlugins, jsonRecordsDecoder, ...world.plugins, broken]);
    const text = file(30).replace(
      "sinks: { out: { type: hanging-close } }",
      "sinks: { out: { type: hanging-close }, later: { type: broken } }",
    );
    const loaded = await parsePipelineText(text, { registry });
    const { logger, lines } = capturedLogger();
    const controller = new AbortController();
    const failure = await runPipelines(loaded, {
      registry,
      logger,
      once: true,
      signal: controller.signal,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toMatchObject({ stage: "plugin", context: { plugin: "sink:broken", name: "later" } });
    // The source was created first and closed; the hung sink was left behind, and said so.
    expect(world.outcomes).toEqual(["source closed"]);
    expect(unclosedWarnings(lines)).toEqual([[{ plugin: "sink:hanging-close", name: "out" }]]);
  });

  it("ends a run with no deadline (once) though a sink's close() hangs, after the fixed grace", async () => {
    const world = hangingCloseWorld(0);
    const { running, lines } = await start(world, 30, true);
    const summary = await running;

    expect(world.outcomes).toEqual(["ack", "source closed"]);
    expect(summary.ok).toBe(true);
    const warning = lines.find((l) => / did not close within /.test(l.msg))!;
    expect(warning).toMatchObject({
      closeTimeoutMs: CLOSE_GRACE_MS,
      unclosed: [{ plugin: "sink:hanging-close", name: "out" }],
    });
  });
});
