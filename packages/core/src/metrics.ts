/**
 * Pipeline counters on prom-client. One Registry per run (not the global default), so tests
 * and several runs in one process do not share counts.
 */
import { Counter, Registry } from "prom-client";
import type { PipelineMetrics } from "./services.js";

export class RouterMetrics {
  readonly registry = new Registry();
  readonly notifications = this.counter(
    "trailrouter_notifications_total",
    "Notifications understood, by type",
    ["pipeline", "type"],
  );
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

  forPipeline(pipeline: string): PipelineMetrics {
    return {
      notification: (type) => this.notifications.inc({ pipeline, type }),
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
