import {
  DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
  type LoadedPipelineFile,
  type Logger,
  PluginError,
  type PluginRegistry,
  type RunSummary,
  runPipelines,
} from "@trailrouter/core";
import { EXIT_CONFIG, EXIT_FAILURES, EXIT_OK, loadOrReport } from "../load.js";
import { formatRunSummary } from "../summary.js";

export interface RunCommandOptions {
  readonly once: boolean;
  readonly registry: PluginRegistry;
  readonly logger: Logger;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * `trailrouter run`: load, validate, run every pipeline; exit code 0, 1 (failures) or 2 (config).
 * A service (not `--once`) stopped by a signal exits 0: what failed meanwhile was given back.
 */
export async function runCommand(file: string, options: RunCommandOptions): Promise<number> {
  const loaded = await loadOrReport(file, options.registry, options.err, options.env);
  if (!loaded) return EXIT_CONFIG;
  let summary: RunSummary;
  try {
    summary = await withShutdownSignals(loaded, options.logger, (signal) =>
      runLoaded(loaded, { ...options, signal }),
    );
  } catch (error) {
    // A plugin that cannot be created (it threw, or returned something that is not a plugin
    // instance) is a problem of the file or of the plugin, named in the message.
    if (error instanceof PluginError) {
      options.err.write(`trailrouter: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  if (options.once) {
    options.out.write(`${formatRunSummary(summary)}\n`);
    return summary.ok ? EXIT_OK : EXIT_FAILURES;
  }
  return summary.pipelines.some((p) => p.receiveFailed) ? EXIT_FAILURES : EXIT_OK;
}

/**
 * Work abandoned at the shutdown deadline (a sink still waiting on the network) must not keep
 * the process alive past it: once the run has returned, exit with the code set by then.
 */
const EXIT_AFTER_SHUTDOWN_MS = 1_000;

/**
 * The process's part of a run: SIGINT/SIGTERM. The first signal aborts `run`'s signal (stop
 * receiving, let envelopes in flight finish within the file's `shutdownTimeoutSeconds`, give back
 * the rest, close the sinks); a second one exits at once (130). Either way nothing unfinished is
 * deleted: it reappears in its queue.
 */
async function withShutdownSignals<T>(
  loaded: LoadedPipelineFile,
  logger: Logger,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn({ signal }, "second signal: exiting now; unfinished messages stay in their queues");
      process.exit(130);
    }
    logger.info(
      {
        signal,
        shutdownTimeoutSeconds: loaded.config.shutdownTimeoutSeconds ?? DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
      },
      "stopping: no new messages, finishing those in flight",
    );
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await run(controller.signal);
  } finally {
    if (controller.signal.aborted) {
      // Stopping: a second signal still exits at once, until the process is gone.
      setTimeout(() => process.exit(), EXIT_AFTER_SHUTDOWN_MS).unref();
    } else {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}

/** Runs every pipeline of a loaded file until done (`once`) or until `signal` aborts. */
export async function runLoaded(
  loaded: LoadedPipelineFile,
  options: Pick<RunCommandOptions, "once" | "registry" | "logger"> & { signal?: AbortSignal },
): Promise<RunSummary> {
  options.logger.info(
    { file: loaded.path, pipelines: loaded.config.pipelines.map((p) => p.name), once: options.once },
    "starting",
  );
  return runPipelines(loaded, {
    registry: options.registry,
    logger: options.logger,
    once: options.once,
    signal: options.signal,
  });
}
