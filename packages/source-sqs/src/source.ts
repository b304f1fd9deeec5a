import { S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  asTrailrouterError,
  type Clock,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type Envelope,
  isRetryableError,
  type Logger,
  type PipelineMetrics,
  type PluginContext,
  type ReceiveOptions,
  type Source,
  TrailrouterError,
} from "@trailrouter/core";
import { MessageDeleter } from "./deletes.js";
import {
  type EnvelopeServices,
  type MessagePolicy,
  type ReceivedMessage,
  receiveCountOf,
  SHUTDOWN_BEAT_WAIT_MS,
  SqsEnvelope,
} from "./envelope.js";
import { MIN_VISIBILITY_TIMEOUT_SECONDS, redeliveryDelay, type SqsSourceOptions } from "./options.js";

/** The source's counter of notifications by type (`cloudtrail`, `s3-event`, `validation`, ...). */
export const NOTIFICATIONS_METRIC = "trailrouter_notifications_total";
/** Pause after a failed ReceiveMessage: 1 s, doubling, at most 30 s. */
const RECEIVE_BACKOFF_INITIAL_MS = 1_000;
const RECEIVE_BACKOFF_MAX_MS = 30_000;
/**
 * Pause after consecutive empty receives, less the time the receive took: 50 ms, doubling, at
 * most 1 s. With waitTimeSeconds 0 an idle queue would otherwise be asked some 900 times a second;
 * a long poll that waited its 20 s pauses not at all.
 */
const EMPTY_RECEIVE_PAUSE_INITIAL_MS = 50;
const EMPTY_RECEIVE_PAUSE_MAX_MS = 1_000;
/**
 * SQS errors the SDK does not retry that still pass with time: too many messages in flight on the
 * queue (other consumers settle theirs), KMS throttling the queue's encryption key.
 */
const PASSING_RECEIVE_ERRORS: ReadonlySet<string> = new Set(["OverLimit", "KmsThrottled"]);
/** In `once` mode a receive waits this long at most: enough to see a queue is empty. */
const ONCE_WAIT_TIME_SECONDS = 1;
/** What SQS applies to a queue created without a VisibilityTimeout. */
const SQS_DEFAULT_VISIBILITY_TIMEOUT = 30;

/** Counts envelopes handed out and not yet settled, and lets the receive loop wait for room. */
class Slots {
  private unsettled = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly limit: number) {}

  get free(): number {
    return this.limit - this.unsettled;
  }

  take(): void {
    this.unsettled += 1;
  }

  release(): void {
    this.unsettled -= 1;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves when `wanted` slots (at most the limit) are free, or when `signal` aborts. */
  whenFree(signal: AbortSignal, wanted = 1): Promise<void> {
    const enough = () => this.free >= Math.min(wanted, this.limit) || signal.aborted;
    if (enough()) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        if (!enough()) return;
        this.waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }
}

/** What the source reads from its queue once, when it starts receiving. */
export interface QueueSettings {
  /** Of the messages this source receives: the configured one, else the queue's. */
  readonly visibilityTimeout: number;
  /** The queue's RedrivePolicy, when it has one: SQS moves failing messages to a dead-letter queue. */
  readonly redrivePolicy:
    | { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number }
    | undefined;
}

/** Long-polls one SQS queue and hands out one envelope per message. */
export class SqsSource implements Source {
  private readonly options: SqsSourceOptions;
  private readonly logger: Logger;
  private readonly metrics: PipelineMetrics;
  private readonly clock: Clock;
  private readonly sqs: SQSClient;
  private readonly s3: S3Client;
  private readonly services: EnvelopeServices;
  private readonly deleter: MessageDeleter;
  private readonly slots: Slots;
  /** Acks under way (their delete not queued yet): close() waits for them. */
  private readonly acking = new Set<Promise<void>>();
  /**
   * Handed out and not settled yet, by message id: given back unfinished when the source closes,
   * and never handed out a second time (see receivedAgain). An acked one stays until its delete
   * has its answer.
   */
  private readonly inFlight = new Map<string, SqsEnvelope>();
  private policy: MessagePolicy | undefined;
  /** The pipeline's request timeout, which a long poll's wait comes on top of. */
  private readonly requestTimeoutMs: number;

  constructor(options: SqsSourceOptions, context: PluginContext) {
    this.options = options;
    this.logger = context.logger;
    this.metrics = context.metrics;
    this.clock = context.clock;
    this.sqs = context.aws.client(SQSClient);
    this.s3 = context.aws.client(S3Client);
    this.requestTimeoutMs = context.aws.settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.deleter = new MessageDeleter(this.sqs, options.queueUrl);
    this.services = {
      sqs: this.sqs,
      s3: this.s3,
      deleter: this.deleter,
      options,
      logger: this.logger,
      metrics: this.metrics,
      notifications: this.metrics.counter(NOTIFICATIONS_METRIC, "Notifications understood, by type", [
        "type",
      ]),
      clock: this.clock,
    };
    this.slots = new Slots(options.concurrency);
  }

  async *receive({ signal, once }: ReceiveOptions): AsyncGenerator<Envelope> {
    // Messages nacked during a `once` run: seen again, they are given back, not handed out.
    const nackedThisRun = new Set<string>();
    let received: ReceivedMessage[] = [];
    let failedReceives = 0;
    /** The failure of the latest receive while it keeps failing: a stop then reports it. */
    let failing: TrailrouterError | undefined;
    let emptyReceives = 0;
    try {
      while (!signal.aborted) {
        // Waiting for half the slots (or a full receive) before asking again: one receive then
        // brings several messages instead of one per envelope settled.
        await this.slots.whenFree(
          signal,
          Math.min(this.options.maxMessages, Math.ceil(this.options.concurrency / 2)),
        );
        if (signal.aborted) break;
        const receiveStarted = this.clock.now();
        try {
          this.policy ??= this.messagePolicy(await this.readQueueSettings(signal));
          // The acks since the last receive go out together, rather than waiting for their linger.
          this.deleter.sendPending();
          received = await this.receiveMessages(once, signal);
        } catch (error) {
          if (signal.aborted) break;
          const failure = asTrailrouterError(error, "receive", { queueUrl: this.options.queueUrl });
          if (once) throw failure;
          if (!mayPass(error)) {
            // A missing queue, a denied request, no credentials: retrying for ever would only hide it.
            this.logger.error(
              { err: failure, queueUrl: this.options.queueUrl },
              "receiving from the queue failed and retrying cannot help: the source stops",
            );
            throw failure;
          }
          // Retried here, so never seen by the caller: count it.
          this.metrics.failure("receive", failure.code);
          failedReceives += 1;
          failing = failure;
          const delayMs = Math.min(
            RECEIVE_BACKOFF_INITIAL_MS * 2 ** (failedReceives - 1),
            RECEIVE_BACKOFF_MAX_MS,
          );
          if (failedReceives === 1) {
            this.logger.warn(
              { err: failure, retryInMs: delayMs },
              "receiving from the queue failed; retrying with backoff",
            );
          } else if (delayMs === RECEIVE_BACKOFF_MAX_MS) {
            // A queue that stays unreachable is seen at warn every retry, not only at the first.
            this.logger.warn(
              { err: failure, attempt: failedReceives, retryInMs: delayMs },
              "receiving from the queue still fails; retrying at the longest backoff",
            );
          } else {
            this.logger.debug(
              { code: failure.code, attempt: failedReceives, retryInMs: delayMs },
              "receive failed again",
            );
          }
          await this.clock.sleep(delayMs, signal);
          continue;
        }
        if (failedReceives > 0) {
          this.logger.info({ failedReceives }, "receiving from the queue works again");
          failedReceives = 0;
          failing = undefined;
        }

        received = received.filter((message) => !this.toEnvelopeInFlight(message));

        const seenFailing = received.filter((message) => nackedThisRun.has(message.MessageId));
        if (seenFailing.length > 0) {
          received = received.filter((message) => !nackedThisRun.has(message.MessageId));
          await Promise.all(
            seenFailing.map((message) =>
              this.giveBack(message, redeliveryDelay(this.options, receiveCountOf(message))),
            ),
          );
        }
        if (once && received.length === 0) break;
        if (received.length === 0) {
          emptyReceives += 1;
          const pauseMs =
            Math.min(EMPTY_RECEIVE_PAUSE_INITIAL_MS * 2 ** (emptyReceives - 1), EMPTY_RECEIVE_PAUSE_MAX_MS) -
            (this.clock.now() - receiveStarted);
          if (pauseMs > 0) await this.clock.sleep(pauseMs, signal);
          continue;
        }
        emptyReceives = 0;

        while (received.length > 0 && !signal.aborted) {
          const message = received.shift()!;
          // Twice in one receive, or received again while waiting here to be handed out.
          if (this.toEnvelopeInFlight(message)) continue;
          this.slots.take();
          let acked: (() => void) | undefined;
          this.logger.debug(
            {
              messageId: message.MessageId,
              receiveCount: message.Attributes?.ApproximateReceiveCount,
              sentTimestamp: message.Attributes?.SentTimestamp,
            },
            "message received",
          );
          const envelope: SqsEnvelope = new SqsEnvelope(
            message,
            this.services,
            {
              settling: (outcome, messageId) => {
                // A nacked or released message is meant to come back; an acked one waits for its
                // delete's answer (received again before then, it is deleted again).
                if (outcome !== "acked") this.forget(envelope);
                if (once && outcome === "nacked") nackedThisRun.add(messageId);
                if (outcome === "acked") {
                  const acking = new Promise<void>((resolve) => {
                    acked = resolve;
                  }).finally(() => this.acking.delete(acking));
                  this.acking.add(acking);
                }
              },
              settled: () => {
                acked?.();
                this.slots.release();
              },
              deleteAnswered: () => this.forget(envelope),
            },
            this.policy!,
          );
          this.inFlight.set(envelope.id, envelope);
          yield envelope;
        }
      }
      // Stopped while the queue could not be read: the run did not end well, and says so.
      if (failing) throw failing;
    } finally {
      // Received but never handed out (abort, or the consumer stopped): make them visible again now.
      await Promise.all(received.map((message) => this.giveBack(message, 0)));
    }
  }

  /**
   * True when the message is one this process already holds an envelope for (its visibility timeout
   * ran out before it was renewed): that envelope takes the newer receipt handle, none is handed out.
   */
  private toEnvelopeInFlight(message: ReceivedMessage): boolean {
    const envelope = this.inFlight.get(message.MessageId);
    if (!envelope) return false;
    envelope.receivedAgain(message);
    return true;
  }

  private forget(envelope: SqsEnvelope): void {
    if (this.inFlight.get(envelope.id) === envelope) this.inFlight.delete(envelope.id);
  }

  /** With a redrive policy, SQS moves failing messages itself: `deadLetter` then stays unused. */
  private messagePolicy(queue: QueueSettings): MessagePolicy {
    const { deadLetter } = this.options;
    if (!deadLetter) return { visibilityTimeout: queue.visibilityTimeout, deadLetter: undefined };
    if (queue.redrivePolicy) {
      this.logger.info(
        { redrivePolicy: queue.redrivePolicy, deadLetterSink: deadLetter.sink },
        "the queue has a RedrivePolicy: SQS moves failing messages to its dead-letter queue; deadLetter is not used",
      );
      return { visibilityTimeout: queue.visibilityTimeout, deadLetter: undefined };
    }
    return {
      visibilityTimeout: queue.visibilityTimeout,
      deadLetter: { sinkName: deadLetter.sink, maxReceiveCount: deadLetter.maxReceiveCount },
    };
  }

  private async readQueueSettings(signal: AbortSignal): Promise<QueueSettings> {
    const { queueUrl, visibilityTimeout } = this.options;
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["VisibilityTimeout", "RedrivePolicy"],
      }),
      { abortSignal: signal },
    );
    const queueTimeout = Number(Attributes.VisibilityTimeout ?? SQS_DEFAULT_VISIBILITY_TIMEOUT);
    const settings: QueueSettings = {
      visibilityTimeout:
        visibilityTimeout ?? (Number.isFinite(queueTimeout) ? queueTimeout : SQS_DEFAULT_VISIBILITY_TIMEOUT),
      redrivePolicy: parseRedrivePolicy(Attributes.RedrivePolicy),
    };
    if (settings.visibilityTimeout < MIN_VISIBILITY_TIMEOUT_SECONDS) {
      throw visibilityTimeoutTooShort(queueUrl, settings.visibilityTimeout, visibilityTimeout !== undefined);
    }
    this.logger.info(
      {
        queueUrl,
        visibilityTimeout: settings.visibilityTimeout,
        redrivePolicy: settings.redrivePolicy ?? null,
      },
      "queue settings read",
    );
    return settings;
  }

  private async receiveMessages(once: boolean, signal: AbortSignal): Promise<ReceivedMessage[]> {
    const { queueUrl, maxMessages, waitTimeSeconds, visibilityTimeout } = this.options;
    const wait = once ? Math.min(waitTimeSeconds, ONCE_WAIT_TIME_SECONDS) : waitTimeSeconds;
    const response = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(maxMessages, this.slots.free),
        WaitTimeSeconds: wait,
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        ...(visibilityTimeout === undefined ? {} : { VisibilityTimeout: visibilityTimeout }),
      }),
      // A long poll is silent for its whole wait: its timeout counts from the end of the wait, so
      // a request timeout shorter than waitTimeSeconds does not fail every poll of an empty queue.
      { abortSignal: signal, requestTimeout: wait * 1000 + this.requestTimeoutMs },
    );
    return (response.Messages ?? []) as ReceivedMessage[];
  }

  /** Make a message visible again after `seconds`; if that fails it reappears after its timeout anyway. */
  private async giveBack(message: ReceivedMessage, seconds: number): Promise<void> {
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.options.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
      this.logger.debug({ messageId: message.MessageId, visibleInSeconds: seconds }, "message given back");
    } catch (error) {
      this.logger.warn(
        { messageId: message.MessageId, err: error },
        "could not give the message back; it reappears when its visibility timeout ends",
      );
    }
  }

  /** Gives back what is unsettled and sends the deletes of acks under way before releasing the clients. */
  async close(): Promise<void> {
    await Promise.all([...this.inFlight.values()].map((envelope) => envelope.giveBackUnfinished()));
    // An ack waits for a heartbeat beat in flight before it queues its delete; a hung beat must not
    // hold the shutdown: past this wait, that delete fails and the message is received again.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.acking),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_BEAT_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    await this.deleter.flush();
    this.sqs.destroy();
    this.s3.destroy();
  }
}

/** Whether a failed receive may work if tried again: what the SDK retries, and a few SQS errors that pass. */
function mayPass(error: unknown): boolean {
  if (error instanceof TrailrouterError) return false;
  return isRetryableError(error) || PASSING_RECEIVE_ERRORS.has((error as Error | undefined)?.name ?? "");
}

/**
 * A visibility timeout the heartbeat cannot keep up: the message would be handed out again, to this
 * process and every other consumer, while it is being worked on. Not retried: the queue or the
 * configuration must change.
 */
function visibilityTimeoutTooShort(queueUrl: string, seconds: number, configured: boolean): TrailrouterError {
  const what = configured
    ? `visibilityTimeout ${seconds} s is below the ${MIN_VISIBILITY_TIMEOUT_SECONDS} s minimum; set it to 30 to 120 s`
    : `queue ${queueUrl} has a VisibilityTimeout of ${seconds} s, below the ${MIN_VISIBILITY_TIMEOUT_SECONDS} s minimum; set the source's visibilityTimeout (30 to 120 s recommended), or raise the queue's VisibilityTimeout`;
  return new TrailrouterError(
    "receive",
    "VisibilityTimeoutTooShort",
    `${what}: the heartbeat renews a message's lease every half timeout, and a shorter one expires before it is renewed, so the message would be received again while it is worked on`,
    { queueUrl, visibilityTimeout: seconds, minimum: MIN_VISIBILITY_TIMEOUT_SECONDS },
  );
}

function parseRedrivePolicy(text: string | undefined): QueueSettings["redrivePolicy"] {
  if (!text) return undefined;
  let policy: { deadLetterTargetArn?: string; maxReceiveCount?: string | number };
  try {
    policy = JSON.parse(text);
  } catch {
    // SQS applies a policy we cannot read: leave failing messages to it rather than delete any.
    return { deadLetterTargetArn: "(unreadable RedrivePolicy)", maxReceiveCount: Number.NaN };
  }
  if (!policy.deadLetterTargetArn) return undefined;
  return { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount: Number(policy.maxReceiveCount) };
}
