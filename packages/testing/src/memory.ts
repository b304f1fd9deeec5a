/**
 * A pipeline file run in memory: a source that hands out log files given by the test, the
 * file's own decoders, matchers and sinks, and a record of what every sink received and how
 * every message was settled. No AWS, no emulator.
 */
import {
  type AnyPlugin,
  builtinPlugins,
  type Clock,
  definePlugin,
  type Envelope,
  type FailedDelivery,
  type Logger,
  PluginRegistry,
  parsePipelineText,
  RouterMetrics,
  type RunSummary,
  runPipelines,
  type Sink,
  type SourceObject,
  type TrailRecord,
  Type,
} from "@trailrouter/core";
import { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { pino } from "pino";
import { encodeLogFile, type LogFile } from "./log-files.js";

/** An object of a message: a log file (gzipped as CloudTrail writes it) or bytes as they are. */
export type MemoryObject =
  | (LogFile & { readonly bucket?: string })
  | { readonly key: string; readonly body: Uint8Array | string; readonly bucket?: string };

/** One message of the memory source: the objects it announces, read in order. */
export interface MemoryMessage {
  /** Default `message-N`, N counting from 1 in the order given. */
  readonly id?: string;
  readonly objects: readonly MemoryObject[];
}

/** How a message of the memory source was settled. `unsettled`: the run ended first. */
export interface MessageOutcome {
  readonly pipeline: string;
  readonly id: string;
  readonly keys: readonly string[];
  readonly outcome: "acked" | "nacked" | "unsettled";
  /** The error a nacked message was given back with. */
  readonly error?: Error;
}

export interface MemorySourceOptions {
  /** The bucket of objects that name none. Default `trail`. */
  readonly bucket?: string;
  /** Messages handed out and not yet settled, at most. Default 1: messages one after the other. */
  readonly concurrency?: number;
  /** Called as each message is settled (and, at close, for each message left unsettled). */
  readonly onSettled?: (outcome: MessageOutcome) => void;
}

/**
 * Source `memory` (no options): each instance hands out `messages` once, in order; with `once`,
 * it ends when they are all handed out. `ack` and `nack` are reported to `onSettled`; nothing is
 * given back for a second try.
 */
export function memorySource(messages: readonly MemoryMessage[], options: MemorySourceOptions = {}) {
  const bucket = options.bucket ?? "trail";
  const concurrency = Math.max(1, options.concurrency ?? 1);
  return definePlugin({
    kind: "source",
    type: "memory",
    description: "Messages given by the test, in memory (@trailrouter/testing)",
    schema: Type.Object({}),
    create(_config, context) {
      const unsettled = new Map<string, MemoryMessage & { id: string }>();
      let wake: (() => void) | undefined;
      let closed = false;
      const notify = () => {
        wake?.();
        wake = undefined;
      };
      const report = (
        message: MemoryMessage & { id: string },
        outcome: MessageOutcome["outcome"],
        error?: Error,
      ) =>
        options.onSettled?.({
          pipeline: context.pipeline,
          id: message.id,
          keys: message.objects.map((o) => o.key),
          outcome,
          ...(error ? { error } : {}),
        });
      const envelope = (message: MemoryMessage & { id: string }): Envelope => {
        const settle = async (outcome: "acked" | "nacked", error?: Error) => {
          if (!unsettled.delete(message.id)) return;
          report(message, outcome, error);
          notify();
        };
        return {
          id: message.id,
          receiveCount: 1,
          async *objects(): AsyncIterable<SourceObject> {
            for (const object of message.objects) {
              const body =
                "records" in object
                  ? encodeLogFile(object.records)
                  : typeof object.body === "string"
                    ? Buffer.from(object.body)
                    : object.body;
              yield { bucket: object.bucket ?? bucket, key: object.key, body };
            }
          },
          ack: () => settle("acked"),
          nack: (error) => settle("nacked", error),
        };
      };
      return {
        async *receive({ signal, once }) {
          const stopped = () => signal.aborted || closed;
          // Until a message is settled, the source closes or the run stops.
          const waitForNews = () =>
            new Promise<void>((resolve) => {
              const done = () => {
                signal.removeEventListener("abort", done);
                resolve();
              };
              wake = done;
              signal.addEventListener("abort", done, { once: true });
            });
          for (const [index, message] of messages.entries()) {
            while (unsettled.size >= concurrency && !stopped()) await waitForNews();
            if (stopped()) return;
            const numbered = { ...message, id: message.id ?? `message-${index + 1}` };
            unsettled.set(numbered.id, numbered);
            yield envelope(numbered);
          }
          // A daemon's source has nothing more, but keeps waiting until it is stopped.
          while (!once && !stopped()) await waitForNews();
        },
        async close() {
          closed = true;
          for (const message of unsettled.values()) report(message, "unsettled");
          unsettled.clear();
          notify();
        },
      };
    },
  });
}

/** What the memory sink creates: a sink that accepts every record and keeps it in `records`. */
export interface MemorySink extends Sink {
  readonly records: TrailRecord[];
}

/** Sink `memory` (no options): accepts every record, in `records` of the instance. */
export const memorySink = definePlugin({
  kind: "sink",
  type: "memory",
  description: "Accepts every record and keeps it in memory (@trailrouter/testing)",
  schema: Type.Object({}),
  create(): MemorySink {
    const records: TrailRecord[] = [];
    return {
      records,
      async deliver(batch) {
        records.push(...batch);
        return { delivered: batch.length, failed: [] };
      },
      async close() {},
    };
  },
});

/** What one sink of the run was given and what it answered. */
export interface SinkActivity {
  readonly pipeline: string;
  readonly sink: string;
  /** `deliver` calls. */
  calls: number;
  /** Every record given to `deliver`, in order. */
  readonly received: TrailRecord[];
  /** The records it accepted: those received and not listed in a result's `failed`. */
  readonly delivered: TrailRecord[];
  /** The failures it reported (or every record of a call that threw, with its error). */
  readonly failed: FailedDelivery[];
}

export interface RunPipelineOptions {
  /** Plugins the file may name, besides the built-in matchers, decoder `cloudtrail` and the kit's `memory` source and sink. */
  readonly plugins?: readonly AnyPlugin[];
  /** Log files for the `memory` sources: one message each. */
  readonly logFiles?: readonly MemoryObject[];
  /** Messages for the `memory` sources, after `logFiles`: for messages that announce several objects. */
  readonly messages?: readonly MemoryMessage[];
  /** Variables for `${VAR}` in the file; the process environment by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where `plugins:` entries and relative paths resolve; the working directory by default. */
  readonly baseDir?: string;
  /** Default: silent. */
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** The memory source's options (its `onSettled` is the run's own). */
  readonly source?: Omit<MemorySourceOptions, "onSettled">;
}

export interface PipelineRun {
  /** What `runPipelines` resolved to: the figures `trailrouter run --once` prints. */
  readonly summary: RunSummary;
  /** Every sink of the file, by its name (by `pipeline/sink` in a file of several pipelines). */
  readonly sinks: Readonly<Record<string, SinkActivity>>;
  /** How each message was settled, in the order it was. */
  readonly messages: readonly MessageOutcome[];
  /** The run's metrics registry: plugins' histograms, every counter (`metrics.registry.metrics()`). */
  readonly metrics: RouterMetrics;
}

/**
 * Runs the pipeline file `text` once, as `trailrouter run --once` would, with its sources of
 * type `memory` handing out `logFiles` and `messages`. Resolves when every message is settled;
 * a file that does not validate rejects with the ConfigError `trailrouter validate` would print.
 */
export async function runPipeline(text: string, options: RunPipelineOptions = {}): Promise<PipelineRun> {
  const messages: MemoryMessage[] = [
    ...(options.logFiles ?? []).map((object) => ({ objects: [object] })),
    ...(options.messages ?? []),
  ];
  const settled: MessageOutcome[] = [];
  const source = memorySource(messages, {
    ...options.source,
    onSettled: (outcome) => settled.push(outcome),
  });
  const registry = new PluginRegistry([
    ...builtinPlugins,
    cloudtrailDecoder,
    source,
    memorySink,
    ...(options.plugins ?? []),
  ]);
  const loaded = await parsePipelineText(text, {
    registry,
    ...(options.env ? { env: options.env } : {}),
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
  });
  const several = loaded.config.pipelines.length > 1;
  const sinks: Record<string, SinkActivity> = {};
  // The same plugins (those the file's `plugins:` loaded too), each sink watched.
  const watched = new PluginRegistry(
    registry.all().map((plugin) =>
      plugin.kind === "sink"
        ? {
            ...plugin,
            async create(
              config: Parameters<typeof plugin.create>[0],
              context: Parameters<typeof plugin.create>[1],
            ) {
              const sink = (await plugin.create(config, context)) as Sink;
              const activity: SinkActivity = {
                pipeline: context.pipeline,
                sink: context.name,
                calls: 0,
                received: [],
                delivered: [],
                failed: [],
              };
              sinks[several ? `${context.pipeline}/${context.name}` : context.name] = activity;
              return watch(sink, activity);
            },
          }
        : plugin,
    ),
  );
  const metrics = new RouterMetrics();
  const summary = await runPipelines(loaded, {
    registry: watched,
    logger: options.logger ?? pino({ level: "silent" }),
    once: true,
    metrics,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { summary, sinks, messages: settled, metrics };
}

/** `sink`, telling `activity` what it is given and what it answers. */
function watch(sink: Sink, activity: SinkActivity): Sink {
  return {
    ...(sink.maxRecordBytes === undefined ? {} : { maxRecordBytes: sink.maxRecordBytes }),
    async deliver(records) {
      activity.calls++;
      activity.received.push(...records);
      try {
        const result = await sink.deliver(records);
        const failed = new Set(result.failed.map((f) => f.record));
        activity.delivered.push(...records.filter((r) => !failed.has(r)));
        activity.failed.push(...result.failed);
        return result;
      } catch (error) {
        activity.failed.push(...records.map((record) => ({ record, error: error as Error })));
        throw error;
      }
    },
    close: () => sink.close(),
  };
}
