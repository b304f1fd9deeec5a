/**
 * Plugins' own counters and histograms: registered through their context in the run's registry,
 * labelled with their pipeline, listed in the run's summary, refused when they would clash.
 */
import {
  type AnyPlugin,
  builtinPlugins,
  definePlugin,
  PluginError,
  PluginRegistry,
  parsePipelineText,
  RouterMetrics,
  runPipelines,
  type TrailRecord,
} from "@trailrouter/core";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { jsonRecordsDecoder, oneMessageSource } from "./support.js";

const records: TrailRecord[] = [
  { eventID: "1", eventName: "CreateUser", eventSource: "iam.amazonaws.com" },
  { eventID: "2", eventName: "DeleteUser", eventSource: "iam.amazonaws.com" },
];

const source = oneMessageSource(records).plugin;

/** A sink counting its requests by outcome and timing them, as a webhook sink would. */
const countingSink = definePlugin({
  kind: "sink",
  type: "counting",
  schema: { type: "object", properties: {} },
  create: (_config, context) => {
    const requests = context.metrics.counter("trailrouter_test_requests_total", "Requests sent, by outcome", [
      "outcome",
    ]);
    const seconds = context.metrics.histogram("trailrouter_test_request_seconds", "Request durations", {
      buckets: [0.1, 1],
    });
    return {
      async deliver(batch: readonly TrailRecord[]) {
        requests.inc({ outcome: "ok" });
        seconds.observe(undefined, 0.05);
        return { delivered: batch.length, failed: [] };
      },
      close: async () => {},
    };
  },
});

const PIPELINE = `
pipelines:
  - name: counted
    source: { type: memory }
    routes:
      - { name: users, match: { type: event-name, names: [CreateUser] }, to: [first] }
      - { name: gone, match: { type: event-name, names: [DeleteUser] }, to: [second] }
    sinks:
      first: { type: counting }
      second: { type: counting }
`;

describe("a plugin's own metrics", () => {
  it("are in the run's registry with their pipeline, shared by the plugin's instances, and in the summary", async () => {
    const registry = new PluginRegistry([
      ...builtinPlugins,
      jsonRecordsDecoder,
      source,
      countingSink,
    ] as AnyPlugin[]);
    const loaded = await parsePipelineText(PIPELINE, { registry });
    const metrics = new RouterMetrics();
    const summary = await runPipelines(loaded, {
      registry,
      logger: pino({ level: "silent" }),
      once: true,
      metrics,
    });

    // Two sinks of the plugin, one counter: each delivered one record in one request.
    expect(summary.pipelines[0]!.counters).toEqual([
      {
        name: "trailrouter_test_requests_total",
        help: "Requests sent, by outcome",
        values: [{ labels: { outcome: "ok" }, value: 2 }],
      },
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('trailrouter_test_requests_total{outcome="ok",pipeline="counted"} 2');
    expect(text).toContain('trailrouter_test_request_seconds_bucket{le="0.1",pipeline="counted"} 2');
    expect(text).toContain('trailrouter_delivered_total{pipeline="counted",sink="first"} 1');
  });

  it("are refused when they would clash: another kind or labels, the pipeline label, a core name, a bad name", () => {
    const metrics = new RouterMetrics().forPipeline("p");
    metrics.counter("trailrouter_test_total", "help", ["a"]);
    expect(() => metrics.counter("trailrouter_test_total", "help", ["a"])).not.toThrow();
    const refusals: [() => unknown, RegExp][] = [
      [
        () => metrics.counter("trailrouter_test_total", "help", ["b"]),
        /already registered as a counter labelled a/,
      ],
      [
        () => metrics.histogram("trailrouter_test_total", "help", { labelNames: ["a"] }),
        /already registered as a counter/,
      ],
      [
        () => metrics.counter("trailrouter_x_total", "help", ["pipeline"]),
        /"pipeline" is added to every metric/,
      ],
      [() => metrics.counter("trailrouter_delivered_total", "help"), /one of trailrouter's own metrics/],
      [() => metrics.counter("not a name", "help"), /not a Prometheus metric name/],
      [() => metrics.counter("trailrouter_y_total", "help", ["__reserved"]), /is not a label name/],
    ];
    for (const [register, message] of refusals) {
      expect(register).toThrow(PluginError);
      expect(register).toThrow(message);
    }
  });
});
