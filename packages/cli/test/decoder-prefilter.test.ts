/**
 * The CloudTrail decoder in the default registry, in a pipeline: records the router's prefilter
 * rules out are skipped unparsed and still counted; `strict` parses them (in-memory source and
 * sink, no AWS).
 */
import {
  type AnyPlugin,
  DEFAULT_DECODER,
  type DecodeError,
  definePlugin,
  type Envelope,
  parsePipelineText,
  runPipelines,
  type SourceObject,
  type TrailRecord,
} from "@trailrouter/core";
import { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createDefaultRegistry } from "../src/registry.js";

/** Messages of one object each, its body as given; what was routed, acked and nacked. */
function memoryWorld(messages: { id: string; body: string }[]) {
  const acked: string[] = [];
  const nacked: { id: string; error: Error }[] = [];
  const received: TrailRecord[] = [];
  const source = definePlugin({
    kind: "source",
    type: "memory",
    schema: { type: "object", properties: {} },
    create: () => ({
      async *receive() {
        for (const message of messages) {
          yield {
            id: message.id,
            receiveCount: 1,
            async *objects(): AsyncIterable<SourceObject> {
              yield { bucket: "b", key: message.id, body: new TextEncoder().encode(message.body) };
            },
            ack: async () => void acked.push(message.id),
            nack: async (error) => void nacked.push({ id: message.id, error }),
          } satisfies Envelope;
        }
      },
      close: async () => {},
    }),
  });
  const sink = definePlugin({
    kind: "sink",
    type: "memory",
    schema: { type: "object", properties: {} },
    create: () => ({
      async deliver(records: readonly TrailRecord[]) {
        received.push(...records);
        return { delivered: records.length, failed: [] };
      },
      close: async () => {},
    }),
  });
  return { plugins: [source, sink] as AnyPlugin[], acked, nacked, received };
}

const pipeline = (decoder: string) => `
pipelines:
  - name: p
    source: { type: memory }
    decoder: ${decoder}
    routes:
      - { name: users, match: { type: event-pattern, pattern: { eventSource: [iam.amazonaws.com], eventName: [CreateUser] } }, to: [security] }
    sinks:
      security: { type: memory }
`;

async function runWith(world: ReturnType<typeof memoryWorld>, decoder: string) {
  const registry = createDefaultRegistry();
  for (const plugin of world.plugins) registry.register(plugin);
  const loaded = await parsePipelineText(pipeline(decoder), { registry });
  return runPipelines(loaded, { registry, logger: pino({ level: "silent" }), once: true });
}

const record = (eventID: string, eventName: string, eventSource = "iam.amazonaws.com"): TrailRecord => ({
  eventID,
  eventName,
  eventSource,
});
const records = [
  record("1", "ListUsers"),
  record("2", "CreateUser"),
  record("3", "GetUser"),
  record("4", "RunInstances", "ec2.amazonaws.com"),
];
const text = JSON.stringify({ Records: records });
// Record 3 has a syntax error (`tru`) but no route can match it; its brackets and strings hold.
const corrupt = text.replace('"GetUser"', '"GetUser","bad":tru');

describe("the cloudtrail decoder in the default registry", () => {
  it("is the decoder a pipeline gets when its file names none", () => {
    expect(createDefaultRegistry().get("decoder", DEFAULT_DECODER.type)).toBe(cloudtrailDecoder);
  });

  it("counts the records the decoder skipped unparsed, and routes the others", async () => {
    const world = memoryWorld([{ id: "m1", body: text }]);
    const summary = await runWith(world, "{ type: cloudtrail }");
    expect(world.received.map((r) => r.eventID)).toEqual(["2"]);
    expect(summary.pipelines[0]!.records).toBe(4);
    expect(world.acked).toEqual(["m1"]);
  });

  it("lets a syntax error in a record no route matches pass, unless the decoder is strict", async () => {
    const lenient = memoryWorld([{ id: "m1", body: corrupt }]);
    const summary = await runWith(lenient, "{ type: cloudtrail }");
    expect(lenient.received.map((r) => r.eventID)).toEqual(["2"]);
    expect(summary.pipelines[0]!.records).toBe(4);
    expect(lenient.acked).toEqual(["m1"]);

    const strict = memoryWorld([{ id: "m1", body: corrupt }]);
    await runWith(strict, "{ type: cloudtrail, strict: true }");
    expect(strict.acked).toEqual([]);
    expect(strict.nacked.map((n) => [n.id, (n.error as DecodeError).code])).toEqual([["m1", "InvalidJson"]]);
  });

  it("still refuses a record no route matches whose brackets do not close", async () => {
    const unclosed = [
      text.slice(0, -3),
      text.replace('"iam.amazonaws.com"},{"eventID":"4"', '"iam.amazonaws.com",{"eventID":"4"'),
    ];
    expect(unclosed.every((body) => body !== text && body.length < text.length)).toBe(true);
    const world = memoryWorld(unclosed.map((body, i) => ({ id: `m${i}`, body })));
    await runWith(world, "{ type: cloudtrail }");
    expect(world.acked).toEqual([]);
    expect(world.nacked.map((n) => (n.error as DecodeError).code)).toEqual(["InvalidJson", "InvalidJson"]);
  });
});
