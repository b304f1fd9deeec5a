/**
 * Runs every pipeline of a validated file side by side and reports what each did.
 */
import { DEFAULT_SHUTDOWN_TIMEOUT_SECONDS } from "../config/schema.js";
import type { LoadedPipelineFile } from "../config/types.js";
import { RouterMetrics } from "../metrics.js";
import type { PluginRegistry } from "../registry.js";
import type { Clock, Logger } from "../services.js";
import { CLOSE_GRACE_MS, Pipeline } from "./pipeline.js";
import { type RunSummary, summarize } from "./summary.js";

export interface RunPipelinesOptions {
  readonly registry: PluginRegistry;
  readonly logger: Logger;
  /** Stop when every source has nothing new (the queue answered empty). */
  readonly once: boolean;
  /**
   * Aborting stops receiving; envelopes in flight get the file's `shutdownTimeoutSeconds` to
   * finish, then are given back unfinished when the sources close.
   */
  readonly signal?: AbortSignal;
  readonly metrics?: RouterMetrics;
  readonly clock?: Clock;
}

export async function runPipelines(
  loaded: LoadedPipelineFile,
  options: RunPipelinesOptions,
): Promise<RunSummary> {
  const metrics = options.metrics ?? new RouterMetrics();
  const signal = options.signal ?? new AbortController().signal;
  const { config } = loaded;

  // Build everything before anything runs: a plugin that cannot start stops the whole run.
  const pipelines: Pipeline[] = [];
  try {
    for (const pipelineConfig of config.pipelines) {
      pipelines.push(
        await Pipeline.create(pipelineConfig, {
          registry: options.registry,
          metrics,
          logger: options.logger,
          clock: options.clock,
          aws: config.aws,
          baseDir: loaded.baseDir,
        }),
      );
    }
  } catch (error) {
    await Promise.all(pipelines.map((p) => p.close(CLOSE_GRACE_MS)));
    throw error;
  }

  const shutdownTimeoutSeconds = config.shutdownTimeoutSeconds ?? DEFAULT_SHUTDOWN_TIMEOUT_SECONDS;
  // The shutdown deadline counts from the abort: closing gets what is left of it.
  let abortedAt = signal.aborted ? Date.now() : undefined;
  const onAbort = () => {
    abortedAt = Date.now();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  let receiveResults: boolean[];
  try {
    receiveResults = await Promise.all(
      pipelines.map((p) => p.run({ signal, once: options.once, shutdownTimeoutSeconds })),
    );
  } finally {
    signal.removeEventListener("abort", onAbort);
    const left = abortedAt === undefined ? 0 : abortedAt + shutdownTimeoutSeconds * 1000 - Date.now();
    const closeTimeoutMs = Math.max(left, CLOSE_GRACE_MS);
    await Promise.all(pipelines.map((p) => p.close(closeTimeoutMs)));
  }

  const summaries = await Promise.all(
    config.pipelines.map((pipelineConfig, i) =>
      summarize(metrics, pipelineConfig, receiveResults[i] ?? false),
    ),
  );
  return {
    pipelines: summaries,
    ok: summaries.every((s) => s.envelopes.nacked === 0 && !s.receiveFailed),
  };
}
