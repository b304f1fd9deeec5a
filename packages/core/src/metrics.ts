/**
 * Pipeline counters on prom-client. One Registry per run (not the global default), so tests
 * and several runs in one process do not share counts. Plugins add their own counters and
 * histograms to the same registry through their context (`context.metrics.counter(...)`).
 */
import { Counter, Histogram, Registry } from "prom-client";
import { PluginError } from "./errors.js";
import type { LabelledCounter, LabelledHistogram, PipelineMetrics } from "./services.js";

/** Prometheus's rule for metric and label names. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A counter or histogram a plugin registered, and how it was asked for (asked again, it must match). */
interface PluginMetric {
  readonly kind: "counter" | "histogram";
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly metric: Counter<string> | Histogram<string>;
}

export class RouterMetrics {
  readonly registry = new Registry();
  /** Plugins' own metrics, by name, in the order they were registered. */
  private readonly pluginMetrics = new Map<string, PluginMetric>();
  readonly objectsSkipped = this.counter(
    "trailrouter_objects_skipped_total",
    "Announced objects not decoded on purpose",
    ["pipeline", "reason"],
  );
  readonly objectsDecoded = this.counter("trailrouter_objects_decoded_total", "Objects fetched and decoded", [
    "pipeline",
  ]);
  readonly records = this.counter("trailrouter_records_total", "Records decoded", ["pipeline"]);
  readonly routed = this.counter("trailrouter_routed_total", "Records matched by a route", [
    "pipeline",
    "route",
  ]);
  readonly delivered = this.counter("trailrouter_delivered_total", "Records a sink accepted", [
    "pipeline",
    "sink",
  ]);
  readonly deadLettered = this.counter(
    "trailrouter_records_dead_lettered_total",
    "Records a sink refused for good, delivered to the pipeline's recordDeadLetter sink instead",
    ["pipeline", "sink", "code"],
  );
  readonly envelopes = this.counter("trailrouter_envelopes_total", "Envelopes settled, by outcome", [
    "pipeline",
    "outcome",
  ]);
  readonly failures = this.counter("trailrouter_failures_total", "Failures, by stage and code", [
    "pipeline",
    "stage",
    "code",
  ]);

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /**
   * A plugin's counter or histogram: every pipeline's instances share it, each labelled with its
   * `pipeline`. Asked again with the same name, the same metric, if it is of the same kind and
   * labels; anything else is a PluginError (two plugins must not read one metric differently).
   */
  private pluginMetric(
    kind: PluginMetric["kind"],
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets?: readonly number[],
  ): PluginMetric {
    const invalid = (why: string) =>
      new PluginError("InvalidMetric", `metric "${name}": ${why}`, { metric: name });
    if (!METRIC_NAME.test(name)) throw invalid("not a Prometheus metric name");
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__")) throw invalid(`"${label}" is not a label name`);
      if (label === "pipeline") throw invalid('"pipeline" is added to every metric already');
    }
    const existing = this.pluginMetrics.get(name);
    if (existing) {
      if (existing.kind !== kind || existing.labelNames.join() !== labelNames.join())
        throw invalid(
          `already registered as a ${existing.kind} labelled ${existing.labelNames.join(", ") || "by pipeline only"}`,
        );
      return existing;
    }
    if (this.registry.getSingleMetric(name)) throw invalid("is one of trailrouter's own metrics");
    const options = { name, help, labelNames: ["pipeline", ...labelNames], registers: [this.registry] };
    const metric =
      kind === "counter"
        ? new Counter(options)
        : new Histogram({ ...options, ...(buckets ? { buckets: [...buckets] } : {}) });
    const registered = { kind, help, labelNames, metric };
    this.pluginMetrics.set(name, registered);
    return registered;
  }

  /** A plugin's counter by name, if one was registered (for summaries and tests). */
  pluginCounter(name: string): Counter<string> | undefined {
    const found = this.pluginMetrics.get(name);
    return found?.kind === "counter" ? (found.metric as Counter<string>) : undefined;
  }

  /** Every counter plugins registered: name and help, in the order they were registered. */
  pluginCounters(): {
    name: string;
    help: string;
    labelNames: readonly string[];
    counter: Counter<string>;
  }[] {
    return [...this.pluginMetrics]
      .filter(([, m]) => m.kind === "counter")
      .map(([name, m]) => ({
        name,
        help: m.help,
        labelNames: m.labelNames,
        counter: m.metric as Counter<string>,
      }));
  }

  forPipeline(pipeline: string): PipelineMetrics {
    const withPipeline = (labels: Record<string, string> = {}) => ({ ...labels, pipeline });
    return {
      counter: (name, help, labelNames = []): LabelledCounter => {
        const counter = this.pluginMetric("counter", name, help, labelNames).metric as Counter<string>;
        return { inc: (labels, value = 1) => counter.inc(withPipeline(labels), value) };
      },
      histogram: (name, help, options = {}): LabelledHistogram => {
        const { labelNames = [], buckets } = options;
        const histogram = this.pluginMetric("histogram", name, help, labelNames, buckets)
          .metric as Histogram<string>;
        return { observe: (labels, value) => histogram.observe(withPipeline(labels), value) };
      },
      objectSkipped: (reason) => this.objectsSkipped.inc({ pipeline, reason }),
      objectDecoded: () => this.objectsDecoded.inc({ pipeline }),
      records: (count) => this.records.inc({ pipeline }, count),
      routed: (route, count) => this.routed.inc({ pipeline, route }, count),
      delivered: (sink, count) => this.delivered.inc({ pipeline, sink }, count),
      deadLettered: (sink, code, count) => this.deadLettered.inc({ pipeline, sink, code }, count),
      envelope: (outcome) => this.envelopes.inc({ pipeline, outcome }),
      failure: (stage, code) => this.failures.inc({ pipeline, stage, code }),
    };
  }

  /** Current values of one counter as `{ labelValue: count }` rows, for summaries and tests. */
  async values(
    counter: Counter<string>,
  ): Promise<{ labels: Record<string, string | number>; value: number }[]> {
    const { values } = await counter.get();
    return values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
  }
}
