/**
 * One pipeline at run time: its plugins, built in a child container of the registry, and the
 * loop that takes envelopes from the source, routes their records and settles them.
 */
import type { DependencyContainer } from "tsyringe";
import type { PipelineConfig, PluginConfig } from "../config/types.js";
import {
  asTrailrouterError,
  DeliveryError,
  type ErrorContext,
  PluginError,
  type TrailrouterError,
} from "../errors.js";
import type {
  DecodeOptions,
  Decoder,
  Envelope,
  FailedDelivery,
  MessageDeadLetter,
  Sink,
  Source,
  SourceObject,
  TrailRecord,
} from "../interfaces.js";
import type { RouterMetrics } from "../metrics.js";
import type { PluginContext, PluginKind, PluginKinds } from "../plugin.js";
import { jsonBytesAtLeast } from "../record-size.js";
import type { PluginRegistry } from "../registry.js";
import {
  type AwsSettings,
  awsClientFactory,
  type Clock,
  type Logger,
  mergeAwsSettings,
  type PipelineMetrics,
  systemClock,
  TOKENS,
} from "../services.js";
import { codeOf, recordDeadLetter } from "./record-dead-letter.js";
import { type RouteDefinition, RoutedBatch, Router } from "./router.js";

/**
 * Routed records an object may hold before they are sent to their sinks. With their encoded
 * entries, the slices of the objects in flight are most of the live heap (docs/RELIABILITY.md,
 * "Bounded memory"); 500 rather than 1,000 took its peak from about 52 to 40 MB at concurrency 8.
 */
export const FLUSH_ROUTED_RECORDS = 500;

/**
 * What closing the plugins may take at least: after a stop whose deadline passed (unfinished
 * envelopes are given back as the source closes), after a run that had no deadline, or after a
 * plugin failed to start.
 */
export const CLOSE_GRACE_MS = 3_000;

export interface PipelineDependencies {
  readonly registry: PluginRegistry;
  readonly metrics: RouterMetrics;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The file-level `aws` block. */
  readonly aws?: AwsSettings;
  /** Directory of the pipeline file. */
  readonly baseDir: string;
}

export interface RunOptions {
  readonly signal: AbortSignal;
  readonly once: boolean;
  /**
   * Once `signal` aborts, how long envelopes in flight may take to finish. Those still at work
   * then are left unsettled: closing the source gives them back, and their late outcome is ignored.
   */
  readonly shutdownTimeoutSeconds?: number;
}

export class Pipeline {
  private constructor(
    readonly name: string,
    private readonly container: DependencyContainer,
    private readonly logger: Logger,
    private readonly metrics: PipelineMetrics,
    private readonly source: Source,
    private readonly decoder: Decoder,
    private readonly router: Router,
    private readonly sinks: ReadonlyMap<string, Sink>,
    /** Every created plugin instance that has a close(): source, sinks, and any other. */
    private readonly closables: readonly Closable[],
    private readonly clock: Clock,
    /** The `recordDeadLetter` sink's name, if the pipeline has one. */
    private readonly deadLetterSink: string | undefined,
  ) {}

  /** Envelopes whose shutdown deadline passed: the source gives them back, they are never settled here. */
  private readonly abandoned = new Set<Envelope>();

  /** Creates every plugin of the pipeline; a failure closes what was already created. */
  static async create(config: PipelineConfig, deps: PipelineDependencies): Promise<Pipeline> {
    const container = deps.registry.container.createChildContainer();
    const logger = deps.logger.child({ pipeline: config.name });
    const metrics = deps.metrics.forPipeline(config.name);
    const clock = deps.clock ?? systemClock;
    const pipelineAws = mergeAwsSettings(deps.aws, config.aws);
    container.register(TOKENS.PipelineName, { useValue: config.name });
    container.register(TOKENS.Logger, { useValue: logger });
    container.register(TOKENS.Metrics, { useValue: metrics });
    container.register(TOKENS.Clock, { useValue: clock });
    container.register(TOKENS.AwsSettings, { useValue: pipelineAws });
    container.register(TOKENS.AwsClients, { useValue: awsClientFactory(pipelineAws) });

    const created: Closable[] = [];
    const build = async <K extends PluginKind>(
      kind: K,
      name: string,
      block: PluginConfig,
    ): Promise<PluginKinds[K]> => {
      const plugin = deps.registry.get(kind, block.type);
      const context: PluginContext = {
        pipeline: config.name,
        name,
        container,
        logger: logger.child({ [kind]: name }),
        metrics,
        clock,
        aws: awsClientFactory(mergeAwsSettings(pipelineAws, block.aws)),
        baseDir: deps.baseDir,
      };
      const where = { pipeline: config.name, plugin: `${kind}:${block.type}`, name };
      const what = `${kind === "matcher" ? "the matcher of route" : kind} "${name}" (${block.type}) of pipeline "${config.name}"`;
      let instance: PluginKinds[K];
      try {
        instance = (await plugin.create(block, context)) as PluginKinds[K];
      } catch (error) {
        const cause = asTrailrouterError(error, "plugin", where);
        throw new PluginError("PluginCreateFailed", `cannot create ${what}: ${cause.message}`, where, {
          cause: error,
        });
      }
      const missing = missingMethods(kind, instance);
      if (missing) {
        throw new PluginError(
          "InvalidPluginInstance",
          `cannot create ${what}: create() returned ${describeValue(instance)}, not a ${kind} (${missing})`,
          where,
        );
      }
      if (typeof (instance as { close?: unknown }).close === "function")
        created.push({
          plugin: `${kind}:${block.type}`,
          name,
          instance: instance as unknown as { close(): Promise<void> },
        });
      return instance;
    };

    try {
      const source = await build("source", "source", config.source);
      const decoder = await build("decoder", "decoder", config.decoder);
      const sinks = new Map<string, Sink>();
      for (const [name, block] of Object.entries(config.sinks))
        sinks.set(name, await build("sink", name, block));
      container.register(TOKENS.Sinks, { useValue: sinks as ReadonlyMap<string, Sink> });
      // The routes of a matcher plugin with compileSet (event patterns) are compiled together by
      // the router, into one set for all of them; other matchers are plugin instances.
      const routes: RouteDefinition[] = [];
      for (const route of config.routes) {
        const plugin = deps.registry.get("matcher", route.match.type);
        routes.push(
          typeof plugin.compileSet === "function"
            ? { name: route.name, plugin, match: route.match, to: route.to }
            : { name: route.name, matcher: await build("matcher", route.name, route.match), to: route.to },
        );
      }
      let router: Router;
      try {
        router = new Router(routes);
      } catch (error) {
        throw asTrailrouterError(error, "plugin", { pipeline: config.name });
      }
      return new Pipeline(
        config.name,
        container,
        logger,
        metrics,
        source,
        decoder,
        router,
        sinks,
        created,
        clock,
        config.recordDeadLetter?.sink,
      );
    } catch (error) {
      await closeWithin(created, CLOSE_GRACE_MS, logger, config.name);
      container.dispose();
      throw error;
    }
  }

  /**
   * Receives until the source ends (`once`) or `signal` aborts, processing envelopes
   * concurrently (the source bounds how many are unsettled), then waits for those in flight.
   * Resolves to false if receiving itself failed.
   */
  async run(options: RunOptions): Promise<boolean> {
    const inFlight = new Map<Promise<void>, Envelope>();
    let receiveOk = true;
    try {
      for await (const envelope of this.source.receive(options)) {
        const work = this.process(envelope).finally(() => inFlight.delete(work));
        inFlight.set(work, envelope);
      }
    } catch (error) {
      receiveOk = false;
      const err = asTrailrouterError(error, "receive", { pipeline: this.name });
      this.metrics.failure(err.stage, err.code);
      this.logger.error({ err: err.toJSON() }, `receive failed: ${err.message}`);
    }
    const deadline = shutdownDeadline(options.signal, (options.shutdownTimeoutSeconds ?? Infinity) * 1000);
    const finished = await Promise.race([Promise.all(inFlight.keys()).then(() => true), deadline.passed]);
    deadline.cancel();
    if (!finished) {
      for (const envelope of inFlight.values()) this.abandoned.add(envelope);
      this.logger.warn(
        {
          unfinished: [...inFlight.values()].map((e) => e.id),
          shutdownTimeoutSeconds: options.shutdownTimeoutSeconds,
        },
        `shutdown deadline passed with ${inFlight.size} envelope(s) unfinished: they are given back, not acknowledged`,
      );
    }
    return receiveOk;
  }

  /** Every routed record of every object reached every sink → ack; anything else → nack. */
  private async process(envelope: Envelope): Promise<void> {
    const logger = this.logger.child({ messageId: envelope.id });
    try {
      for await (const object of envelope.objects()) {
        await this.processObject(object, envelope);
      }
    } catch (error) {
      const err = asTrailrouterError(error, "process", { pipeline: this.name, messageId: envelope.id });
      this.metrics.failure(err.stage, err.code);
      logger.error(
        { err: err.toJSON(), receiveCount: envelope.receiveCount },
        `envelope given back (${err.stage}/${err.code}): ${err.message}`,
      );
      if (this.abandoned.has(envelope)) return;
      const letter = envelope.deadLetter?.(err);
      if (letter && (await this.setAside(envelope, letter, err, logger))) return;
      try {
        await envelope.nack(err);
      } catch (nackError) {
        logger.warn(
          { err: asTrailrouterError(nackError, "ack").toJSON() },
          "nack failed; the message reappears when its visibility timeout ends",
        );
      }
      this.metrics.envelope("nacked");
      return;
    }
    if (this.abandoned.has(envelope)) {
      logger.info("finished after the shutdown deadline: not acknowledged, the message was given back");
      return;
    }
    try {
      await envelope.ack();
      this.metrics.envelope("acked");
      logger.debug("envelope done");
    } catch (error) {
      // Everything was delivered; the message will be received again and delivered again.
      const err = asTrailrouterError(error, "ack", { pipeline: this.name, messageId: envelope.id });
      this.metrics.failure(err.stage, err.code);
      logger.error({ err: err.toJSON() }, `delete failed, the message will be redelivered: ${err.message}`);
    }
  }

  /**
   * Delivers the dead letter of a message that keeps failing, then acks it. False when the
   * letter was not delivered: the envelope is then given back as usual.
   */
  private async setAside(
    envelope: Envelope,
    letter: MessageDeadLetter,
    error: TrailrouterError,
    logger: Logger,
  ): Promise<boolean> {
    const where = { pipeline: this.name, messageId: envelope.id, sink: letter.sink };
    const sink = this.sinks.get(letter.sink);
    try {
      if (!sink)
        throw new DeliveryError("UnknownSink", `no sink named "${letter.sink}" in this pipeline`, where);
      const result = await sink.deliver([letter.record]);
      if (result.failed.length > 0) throw result.failed[0]!.error;
      this.metrics.delivered(letter.sink, result.delivered);
    } catch (deliveryError) {
      logger.error(
        { ...where, err: asTrailrouterError(deliveryError, "deliver", where).toJSON() },
        "dead-letter delivery failed: the message is given back, not deleted",
      );
      return false;
    }
    try {
      await envelope.ack();
    } catch (ackError) {
      logger.error(
        { ...where, err: asTrailrouterError(ackError, "ack", where).toJSON() },
        "dead-lettered, but the delete failed: the message will be received (and dead-lettered) again",
      );
    }
    this.metrics.envelope("dead-lettered");
    logger.warn(
      { ...where, receiveCount: envelope.receiveCount, error: { code: error.code, stage: error.stage } },
      `message failed ${envelope.receiveCount} times: delivered to dead-letter sink "${letter.sink}" and deleted`,
    );
    return true;
  }

  /**
   * Decodes one object and delivers what it routes, in slices of at most FLUSH_ROUTED_RECORDS,
   * so memory stays bounded whatever the file's size. A failure stops the object (and so the
   * envelope, which is given back); slices already delivered are delivered again on redelivery.
   */
  private async processObject(object: SourceObject, envelope: Envelope): Promise<void> {
    const where = { pipeline: this.name, messageId: envelope.id, bucket: object.bucket, key: object.key };
    let batch = new RoutedBatch();
    let records = 0;
    // Records the router's prefilter rules out are skipped by the decoder, and counted here.
    const decodeOptions: DecodeOptions = {
      mayMatch: this.router.mayMatch,
      skipped: () => {
        records++;
      },
    };
    try {
      for await (const record of this.decoder.decode(object, decodeOptions)) {
        records++;
        this.router.route(record, batch);
        if (batch.size >= FLUSH_ROUTED_RECORDS) {
          await this.deliver(batch, where);
          batch = new RoutedBatch();
        }
      }
    } catch (error) {
      throw asTrailrouterError(error, "decode", where);
    }
    this.metrics.objectDecoded();
    this.metrics.records(records);
    await this.deliver(batch, where);
  }

  /**
   * Every record of `batch` to each of its sinks, at once. Throws a DeliveryError if any failed,
   * unless every failure is permanent and went to the `recordDeadLetter` sink.
   */
  private async deliver(batch: RoutedBatch, where: ObjectContext): Promise<void> {
    for (const [route, count] of batch.perRoute) this.metrics.routed(route, count);
    if (batch.isEmpty) return;
    const tooLarge = this.tooLargeRecords(batch, where);
    const deliveries = [...batch.bySink].map(async ([sinkName, sinkRecords]): Promise<SinkFailures> => {
      const sink = this.sinks.get(sinkName)!;
      const refused = tooLarge.get(sinkName) ?? [];
      const refusedRecords = new Set(refused.map((f) => f.record));
      const records = refused.length === 0 ? sinkRecords : sinkRecords.filter((r) => !refusedRecords.has(r));
      if (records.length === 0) return { sinkName, failed: refused };
      try {
        const result = await sink.deliver(records);
        this.metrics.delivered(sinkName, result.delivered);
        return { sinkName, failed: [...refused, ...result.failed] };
      } catch (error) {
        // A sink should list failures rather than throw; if it throws, nothing is known delivered.
        const err = asTrailrouterError(error, "deliver", { ...where, sink: sinkName });
        return { sinkName, failed: [...refused, ...records.map((record) => ({ record, error: err }))] };
      }
    });
    const failures = (await Promise.all(deliveries)).filter((d) => d.failed.length > 0);
    if (failures.length === 0) return;
    // With a transient failure the message is given back anyway: dead-lettering now would
    // write the same dead letters again on its redelivery.
    const allPermanent = failures.every((f) => f.failed.every((failure) => failure.permanent === true));
    if (allPermanent && this.deadLetterSink && (await this.deadLetter(failures, where))) return;

    const first = failures[0]!;
    const firstError = first.failed[0]!.error;
    const total = failures.reduce((n, f) => n + f.failed.length, 0);
    throw new DeliveryError(
      codeOf(firstError),
      `${total} record(s) not delivered (${failures.map((f) => `${f.sinkName}: ${f.failed.length}`).join(", ")}); first: ${firstError.message}`,
      { ...where, sink: first.sinkName, eventID: first.failed[0]!.record.eventID, failedRecords: total },
      { cause: firstError },
    );
  }

  /**
   * The records of `batch` longer than a sink they go to can ever deliver (`Sink.maxRecordBytes`),
   * by sink, as permanent `RecordTooLarge` failures: found by a walk of each record that stops past
   * the largest limit, so a huge record is never serialised for every sink it is routed to.
   */
  private tooLargeRecords(batch: RoutedBatch, where: ObjectContext): Map<string, FailedDelivery[]> {
    const refused = new Map<string, FailedDelivery[]>();
    const limits = [...batch.bySink.keys()].flatMap((name) => {
      const limit = this.sinks.get(name)?.maxRecordBytes;
      return limit === undefined ? [] : [limit];
    });
    if (limits.length === 0) return refused;
    const cap = Math.max(...limits);
    const sizes = new Map<TrailRecord, number>();
    for (const [sinkName, records] of batch.bySink) {
      const limit = this.sinks.get(sinkName)?.maxRecordBytes;
      if (limit === undefined) continue;
      for (const record of records) {
        let bytes = sizes.get(record);
        if (bytes === undefined) {
          bytes = jsonBytesAtLeast(record, cap);
          sizes.set(record, bytes);
        }
        if (bytes <= limit) continue;
        const error = new DeliveryError(
          "RecordTooLarge",
          `record ${record.eventID} is more than ${limit} bytes of JSON, over what sink "${sinkName}" can deliver`,
          { ...where, sink: sinkName, eventID: record.eventID, limit },
        );
        const list = refused.get(sinkName) ?? [];
        list.push({ record, error, permanent: true });
        refused.set(sinkName, list);
      }
    }
    return refused;
  }

  /**
   * Delivers the dead letter of every failure to the `recordDeadLetter` sink: with the record,
   * and again without it (its identifying fields only) for a letter that sink refused for good.
   * True when every letter was delivered; false leaves the failures to keep the message.
   */
  private async deadLetter(failures: readonly SinkFailures[], where: ObjectContext): Promise<boolean> {
    const name = this.deadLetterSink!;
    const sink = this.sinks.get(name)!;
    const failedAt = new Date(this.clock.now());
    const letters = failures.flatMap(({ sinkName, failed }) =>
      failed.map((failure) => ({
        failure,
        origin: {
          ...where,
          sink: sinkName,
          routes: this.router.routesFeeding(failure.record, sinkName),
          failedAt,
        },
      })),
    );
    const send = async (batch: { letter: (typeof letters)[number]; wrapped: TrailRecord }[]) => {
      try {
        const result = await sink.deliver(batch.map((b) => b.wrapped));
        this.metrics.delivered(name, result.delivered);
        const byRecord = new Map(batch.map((b) => [b.wrapped, b.letter]));
        return result.failed.map((failed) => ({ letter: byRecord.get(failed.record)!, failed }));
      } catch (error) {
        const err = asTrailrouterError(error, "deliver", { ...where, sink: name });
        return batch.map((b) => ({
          letter: b.letter,
          failed: { record: b.wrapped, error: err } as FailedDelivery,
        }));
      }
    };
    // A record too large for its sink is sent without it at once: it would not fit here either.
    const wrap = (letter: (typeof letters)[number], withRecord: boolean, because?: string) => ({
      letter,
      wrapped: recordDeadLetter(letter.failure, letter.origin, withRecord, because),
    });
    let refused = await send(letters.map((l) => wrap(l, codeOf(l.failure.error) !== "RecordTooLarge")));
    const again = refused.filter(({ failed }) => failed.permanent && "record" in failed.record);
    if (again.length > 0) {
      const retried = await send(
        again.map(({ letter, failed }) =>
          wrap(letter, false, `the dead-letter sink refused it too (${codeOf(failed.error)})`),
        ),
      );
      refused = [...refused.filter((r) => !again.includes(r)), ...retried];
    }
    if (refused.length > 0) {
      this.logger.error(
        {
          ...where,
          deadLetterSink: name,
          failed: refused.length,
          err: asTrailrouterError(refused[0]!.failed.error, "deliver", { ...where, sink: name }).toJSON(),
        },
        `the recordDeadLetter sink "${name}" did not take ${refused.length} record(s): the message is kept`,
      );
      return false;
    }
    // One count per refusing sink and code: what the counter and the log line both give.
    const refusals = new Map<string, { sink: string; code: string; count: number }>();
    for (const { failure, origin } of letters) {
      const code = codeOf(failure.error);
      const key = JSON.stringify([origin.sink, code]);
      const refusal = refusals.get(key) ?? { sink: origin.sink, code, count: 0 };
      refusal.count++;
      refusals.set(key, refusal);
    }
    for (const { sink: refusedBy, code, count } of refusals.values()) {
      this.metrics.deadLettered(refusedBy, code, count);
    }
    this.logger.warn(
      {
        ...where,
        deadLetterSink: name,
        refused: [...refusals.values()],
        eventIDs: letters.slice(0, 10).map((l) => l.failure.record.eventID),
      },
      `${letters.length} record(s) refused for good, delivered to the recordDeadLetter sink "${name}"`,
    );
    return true;
  }

  /** Closes every plugin instance, waiting at most `timeoutMs` (see closeWithin). */
  async close(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    await closeWithin(this.closables, timeoutMs, this.logger, this.name);
    this.container.dispose();
  }
}

/**
 * Closes every plugin instance at once, waiting at most `timeoutMs`: a close() still pending
 * then is logged and left to finish on its own, so a plugin that hangs cannot hold up the exit.
 */
async function closeWithin(
  closables: readonly Closable[],
  timeoutMs: number,
  logger: Logger,
  pipeline: string,
): Promise<void> {
  const open = new Set(closables);
  const closing = Promise.all(
    closables.map(async (closable) => {
      try {
        await closable.instance.close();
      } catch (error) {
        const where = { pipeline, plugin: closable.plugin, name: closable.name };
        logger.warn({ err: asTrailrouterError(error, "plugin", where).toJSON() }, "close failed");
      } finally {
        open.delete(closable);
      }
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const closed = await Promise.race([closing.then(() => true), timedOut]);
  clearTimeout(timer);
  if (!closed) {
    logger.warn(
      { unclosed: [...open].map(({ plugin, name }) => ({ plugin, name })), closeTimeoutMs: timeoutMs },
      `${open.size} plugin(s) did not close within ${timeoutMs} ms: not waiting for them`,
    );
  }
}

/** Where the records being delivered come from. */
interface ObjectContext extends ErrorContext {
  readonly pipeline: string;
  readonly messageId: string;
  readonly bucket: string;
  readonly key: string;
}

/** What one sink did not deliver of a slice. */
interface SinkFailures {
  readonly sinkName: string;
  readonly failed: readonly FailedDelivery[];
}

/** The methods the runtime calls on each kind of instance. */
const REQUIRED_METHODS: Record<PluginKind, readonly string[]> = {
  source: ["receive", "close"],
  decoder: ["decode"],
  matcher: ["matches"],
  sink: ["deliver", "close"],
};

/** What a created instance lacks to be of its kind (`an object with deliver() and close()`), if anything. */
function missingMethods(kind: PluginKind, instance: unknown): string | undefined {
  const methods = REQUIRED_METHODS[kind];
  const wanted = `an object with ${methods.map((m) => `${m}()`).join(" and ")}`;
  if (instance === null || typeof instance !== "object") return `expected ${wanted}`;
  const absent = methods.filter((m) => typeof (instance as Record<string, unknown>)[m] !== "function");
  return absent.length === 0
    ? undefined
    : `expected ${wanted}; missing ${absent.map((m) => `${m}()`).join(", ")}`;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

/** A plugin instance with a close(), and what to call it in logs. */
interface Closable {
  /** `kind:type`, as in error contexts. */
  readonly plugin: string;
  /** The sink's or route's name; `source`, `decoder`. */
  readonly name: string;
  readonly instance: { close(): Promise<void> };
}

/**
 * Resolves `passed` to false `timeoutMs` after `signal` aborts (counting from the abort, not
 * from now); never while the signal is not aborted.
 */
function shutdownDeadline(signal: AbortSignal, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const passed = new Promise<false>((resolve) => {
    if (!Number.isFinite(timeoutMs)) return;
    onAbort = () => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return {
    passed,
    cancel() {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener("abort", onAbort);
    },
  };
}
