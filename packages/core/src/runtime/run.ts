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
  // One pipeline whose queue cannot be read for good (it does not exist, access is denied) stops
  // them all, as a stop signal would: a service that runs part of its file looks healthy while
  // its notifications pile up. The process then exits non-zero and its supervisor sees it.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (signal.aborted) stop.abort();
  else signal.addEventListener("abort", onAbort, { once: true });
  // The shutdown deadline counts from the abort: closing gets what is left of it.
  let abortedAt = stop.signal.aborted ? Date.now() : undefined;
  stop.signal.addEventListener("abort", () => {
    abortedAt = Date.now();
  });
  let receiveResults: boolean[];
  try {
    receiveResults = await Promise.all(
      pipelines.map(async (p) => {
        const ok = await p.run({ signal: stop.signal, once: options.once, shutdownTimeoutSeconds });
        if (!ok && !options.once && !stop.signal.aborted) {
          options.logger.error(
            { pipeline: p.name },
            `pipeline "${p.name}" cannot receive: stopping every pipeline of the file`,
          );
          stop.abort();
        }
        return ok;
      }),
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
    ok: summaries.every((s) => s.envelopes.nacked + s.envelopes.deadLettered === 0 && !s.receiveFailed),
  };
}
