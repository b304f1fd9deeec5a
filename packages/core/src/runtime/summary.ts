import type { PipelineConfig } from "../config/types.js";
import type { RouterMetrics } from "../metrics.js";

/** What one pipeline did during a run, read back from its counters. */
export interface PipelineSummary {
  pipeline: string;
  /** `deadLettered`: failed, and set aside through the source's dead letter (then deleted). */
  envelopes: { acked: number; nacked: number; deadLettered: number };
  /**
   * The counters plugins registered (the SQS source's `trailrouter_notifications_total`, ...), in
   * the order they were registered, with this pipeline's values by their other labels.
   */
  counters: { name: string; help: string; values: { labels: Record<string, string>; value: number }[] }[];
  objects: { decoded: number; skipped: Record<string, number> };
  records: number;
  /** Records matched, for every route of the pipeline (0 when none matched). */
  routed: Record<string, number>;
  /** Records accepted, for every sink of the pipeline. */
  delivered: Record<string, number>;
  /** Records refused for good, by the sink that refused them, delivered to `recordDeadLetter`. */
  deadLettered: Record<string, number>;
  failures: { stage: string; code: string; count: number }[];
  /** Receiving itself failed (the queue could not be read). */
  receiveFailed: boolean;
}

export interface RunSummary {
  pipelines: PipelineSummary[];
  /** No envelope was given back or dead-lettered, and no receive failed. */
  ok: boolean;
}

export async function summarize(
  metrics: RouterMetrics,
  config: PipelineConfig,
  receiveOk: boolean,
): Promise<PipelineSummary> {
  const rows = async (counter: Parameters<RouterMetrics["values"]>[0]) =>
    (await metrics.values(counter)).filter((r) => r.labels.pipeline === config.name);
  const byLabel = async (
    counter: Parameters<RouterMetrics["values"]>[0],
    label: string,
    keys: string[] = [],
  ) => {
    const out: Record<string, number> = Object.fromEntries(keys.map((k) => [k, 0]));
    for (const r of await rows(counter))
      out[String(r.labels[label])] = (out[String(r.labels[label])] ?? 0) + r.value;
    return out;
  };
  const total = async (counter: Parameters<RouterMetrics["values"]>[0]) =>
    (await rows(counter)).reduce((n, r) => n + r.value, 0);

  const envelopes = await byLabel(metrics.envelopes, "outcome", ["acked", "nacked", "dead-lettered"]);
  return {
    pipeline: config.name,
    envelopes: {
      acked: envelopes.acked ?? 0,
      nacked: envelopes.nacked ?? 0,
      deadLettered: envelopes["dead-lettered"] ?? 0,
    },
    counters: await Promise.all(
      metrics.pluginCounters().map(async ({ name, help, counter }) => ({
        name,
        help,
        values: (await rows(counter)).map(({ labels, value }) => {
          const { pipeline: _pipeline, ...own } = labels;
          return { labels: Object.fromEntries(Object.entries(own).map(([k, v]) => [k, String(v)])), value };
        }),
      })),
    ),
    objects: {
      decoded: await total(metrics.objectsDecoded),
      skipped: await byLabel(metrics.objectsSkipped, "reason"),
    },
    records: await total(metrics.records),
    routed: await byLabel(
      metrics.routed,
      "route",
      config.routes.map((r) => r.name),
    ),
    delivered: await byLabel(metrics.delivered, "sink", Object.keys(config.sinks)),
    deadLettered: await byLabel(metrics.deadLettered, "sink"),
    failures: (await rows(metrics.failures)).map((r) => ({
      stage: String(r.labels.stage),
      code: String(r.labels.code),
      count: r.value,
    })),
    receiveFailed: !receiveOk,
  };
}
