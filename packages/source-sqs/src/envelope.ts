import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import {
  asTrailrouterError,
  type Clock,
  type Envelope,
  type LabelledCounter,
  type Logger,
  type MessageDeadLetter,
  ObjectFetchError,
  type ObjectLocation,
  type PipelineMetrics,
  type SourceObject,
  TrailrouterError,
} from "@trailrouter/core";
import type { MessageDeleter } from "./deletes.js";
import { Heartbeat } from "./heartbeat.js";
import { type AnnouncedObject, classifyTrailKey, parseNotification } from "./notification.js";
import { readObjectBody } from "./object-body.js";
import { redeliveryDelay, type SqsSourceOptions } from "./options.js";

/** At shutdown, how long a heartbeat beat still waiting for its answer may delay the give-back or a delete. */
export const SHUTDOWN_BEAT_WAIT_MS = 2_000;

/** A received message: SQS always sets its id and receipt handle. */
export type ReceivedMessage = Message & { MessageId: string; ReceiptHandle: string };

export interface EnvelopeServices {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /** Deletes of acknowledged messages, several per request. */
  readonly deleter: MessageDeleter;
  readonly options: SqsSourceOptions;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  /** The source's own counter: notifications understood, by type. */
  readonly notifications: LabelledCounter;
  readonly clock: Clock;
}

/** Where a message that keeps failing goes, when the queue has no redrive policy of its own. */
export interface DeadLetterTarget {
  /** A sink of the pipeline: the runtime delivers the dead-letter record there. */
  readonly sinkName: string;
  readonly maxReceiveCount: number;
}

/** How the messages of one queue are handled, known once the queue's attributes are read. */
export interface MessagePolicy {
  /** Seconds; kept up by a heartbeat until the envelope is settled (none when 0). */
  readonly visibilityTimeout: number;
  readonly deadLetter: DeadLetterTarget | undefined;
}

/** The one record a dead-letter sink receives for a message that kept failing. */
export interface DeadLetterRecord {
  readonly trailrouterDeadLetter: 1;
  readonly messageId: string;
  readonly queueUrl: string;
  readonly receiveCount: number;
  /** ISO 8601. */
  readonly failedAt: string;
  readonly error: {
    readonly stage: string;
    readonly code: string;
    readonly message: string;
    readonly bucket?: string;
    readonly key?: string;
  };
  /** The message body, as received. */
  readonly body: string;
  readonly [field: string]: unknown;
}

/** How an envelope was settled: done, failed, or given back unfinished at shutdown. */
export type Outcome = "acked" | "nacked" | "released";

export interface SettleHooks {
  /** Called once, when the envelope is settled (before the SQS call). */
  readonly settling: (outcome: Outcome, messageId: string) => void;
  /**
   * Called once, when the envelope's SQS call is done with it: after a nack's or a give-back's
   * call finished (whatever its outcome), once an ack's delete is queued (the source's close()
   * sends and waits for queued deletes).
   */
  readonly settled: () => void;
  /**
   * An ack's only: called once, after `settled`, when its delete has its answer (whatever it was).
   * Until then the message may still be received again, and must reach this envelope.
   */
  readonly deleteAnswered: () => void;
}

/** ApproximateReceiveCount: 1 the first time (and when SQS did not say). */
export function receiveCountOf(message: Message): number {
  const count = Number.parseInt(message.Attributes?.ApproximateReceiveCount ?? "", 10);
  return Number.isInteger(count) && count > 0 ? count : 1;
}

/** One SQS message: the objects its notification announces, and its lease on the queue. */
export class SqsEnvelope implements Envelope {
  readonly id: string;
  /**
   * Of the receive that handed the envelope out: a receive of the message again while it is in
   * flight is a lapsed lease, not a failure, so it does not add to the redelivery delay.
   */
  readonly receiveCount: number;
  private readonly message: ReceivedMessage;
  /**
   * The newest receipt handle: once a message is received again, only the latest one deletes it or
   * changes its visibility (an older one may "succeed" and do nothing).
   */
  private receiptHandle: string;
  /** The handle the ack's delete went out with, once it did. */
  private deletedWith: string | undefined;
  /** The ack's delete with the newest handle. */
  private deleting: Promise<void> | undefined;
  private readonly services: EnvelopeServices;
  private readonly hooks: SettleHooks;
  private isSettled = false;
  private readonly heartbeat: Heartbeat | undefined;
  private readonly deadLetterTarget: DeadLetterTarget | undefined;

  constructor(
    message: ReceivedMessage,
    services: EnvelopeServices,
    hooks: SettleHooks,
    policy: MessagePolicy,
  ) {
    const { visibilityTimeout } = policy;
    this.deadLetterTarget = policy.deadLetter;
    this.message = message;
    this.receiptHandle = message.ReceiptHandle;
    this.services = services;
    this.hooks = hooks;
    this.id = message.MessageId;
    this.receiveCount = receiveCountOf(message);
    if (visibilityTimeout > 0) {
      this.heartbeat = new Heartbeat(
        visibilityTimeout,
        (seconds) => this.extend(seconds),
        (error, beat) =>
          services.logger.warn(
            { messageId: this.id, err: error, beat, visibilityTimeout },
            "could not extend the visibility timeout; trying again at the next beat",
          ),
      );
    }
  }

  async *objects(): AsyncGenerator<SourceObject> {
    const { options, metrics, logger } = this.services;
    const notification = parseNotification(this.message.Body ?? "", { messageId: this.id });
    this.services.notifications.inc({ type: notification.type });
    logger.debug(
      {
        messageId: this.id,
        type: notification.type,
        viaSns: notification.viaSns,
        objects: notification.objects.length,
      },
      "notification understood",
    );

    const wanted: AnnouncedObject[] = [];
    // Bucket names hold no "/": bucket/key names one object.
    const listed = new Set<string>();
    for (const object of notification.objects) {
      const location = `${object.bucket}/${object.key}`;
      if (listed.has(location)) {
        // Fetched once: a notification listing a key 50 times must not deliver its records 50 times.
        metrics.objectSkipped("duplicate");
        logger.debug(
          { messageId: this.id, bucket: object.bucket, key: object.key },
          "object listed again in the notification skipped",
        );
        continue;
      }
      listed.add(location);
      if (options.ignoreDigests && classifyTrailKey(object.key).kind === "digest") {
        metrics.objectSkipped("digest");
        logger.debug({ messageId: this.id, bucket: object.bucket, key: object.key }, "digest skipped");
        continue;
      }
      wanted.push(object);
    }
    // Refuse the whole message before reading anything, so no record of it is routed twice.
    for (const { bucket, key } of wanted) {
      if (options.allowedBuckets && !options.allowedBuckets.has(bucket)) {
        throw new ObjectFetchError("BucketNotAllowed", `bucket "${bucket}" is not one of allowedBuckets`, {
          messageId: this.id,
          bucket,
          key,
        });
      }
    }
    for (const object of wanted) {
      yield await this.fetchAnnounced(object);
    }
  }

  /**
   * Reads an object by its decoded key, or by the key as the notification wrote it when the
   * decoded one does not exist: a literal `+` or `%` in a key reads as an encoding.
   */
  private async fetchAnnounced(object: AnnouncedObject): Promise<SourceObject> {
    const { bucket, key, keyAsWritten } = object;
    try {
      const body = await this.fetch({ bucket, key });
      if (keyAsWritten !== undefined) {
        this.services.logger.debug(
          { messageId: this.id, bucket, key, keyAsWritten },
          "object read under the decoded key",
        );
      }
      return { bucket, key, body };
    } catch (error) {
      if (keyAsWritten === undefined || !isMissingObject(error)) throw error;
      let body: Uint8Array;
      try {
        body = await this.fetch({ bucket, key: keyAsWritten });
      } catch (asWrittenError) {
        if (isMissingObject(asWrittenError)) {
          // Neither spelling exists: the decoded key is the one to report, with the other beside it.
          Object.assign(error.context, { keyAsWritten });
          throw error;
        }
        throw asWrittenError;
      }
      this.services.logger.debug(
        { messageId: this.id, bucket, key: keyAsWritten, decodedKey: key },
        "no object under the decoded key: read it under the key as written",
      );
      return { bucket, key: keyAsWritten, body };
    }
  }

  private async fetch({ bucket, key }: ObjectLocation): Promise<Uint8Array> {
    const context = { messageId: this.id, bucket, key };
    const { maxObjectBytes } = this.services.options;
    try {
      const response = await this.services.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
      if (!body)
        throw new ObjectFetchError(
          "EmptyResponse",
          `GetObject returned no body for s3://${bucket}/${key}`,
          context,
        );
      const size = response.ContentLength;
      if (size !== undefined && size > maxObjectBytes) {
        // Refused before reading: a huge object must not exhaust memory (and crash every try).
        body.destroy?.();
        throw new ObjectFetchError(
          "ObjectTooLarge",
          `s3://${bucket}/${key} is ${size} bytes, over maxObjectBytes (${maxObjectBytes})`,
          { ...context, size },
        );
      }
      return await readObjectBody(body, size, maxObjectBytes, context);
    } catch (error) {
      if (error instanceof ObjectFetchError) throw error;
      const code = (error as Error).name || "Error";
      throw new ObjectFetchError(
        code,
        `cannot read s3://${bucket}/${key}: ${(error as Error).message || code}`,
        context,
        { cause: error },
      );
    }
  }

  async ack(): Promise<void> {
    if (!this.settle("acked")) return;
    const { options, logger } = this.services;
    try {
      try {
        await this.heartbeat?.stop();
        this.deleting = this.queueDelete();
      } finally {
        // Queued, the delete goes out with others': the envelope no longer needs its slot.
        this.hooks.settled();
      }
      await this.newestDelete();
      logger.debug({ messageId: this.id }, "message acked (deleted)");
    } catch (error) {
      throw asTrailrouterError(error, "ack", { messageId: this.id, queueUrl: options.queueUrl });
    } finally {
      this.hooks.deleteAnswered();
    }
  }

  /**
   * The message came back in a receive while this envelope holds it: its visibility timeout ran out
   * before the heartbeat renewed it. From now on the heartbeat, ack and nack use the newer receipt
   * handle; an ack's delete already queued with an older one is queued again with it.
   */
  receivedAgain(message: ReceivedMessage): void {
    this.receiptHandle = message.ReceiptHandle;
    const acked = this.deletedWith !== undefined;
    this.services.logger.info(
      { messageId: this.id, receiveCount: receiveCountOf(message), acked },
      "message received again while in flight: its envelope takes the newer receipt handle, none is handed out",
    );
    if (acked && this.deletedWith !== message.ReceiptHandle) this.deleting = this.queueDelete();
  }

  private queueDelete(): Promise<void> {
    this.deletedWith = this.receiptHandle;
    const deleting = this.services.deleter.delete(this.id, this.receiptHandle);
    // Replaced by a newer delete, an older one may fail unawaited: newestDelete() decides what counts.
    deleting.catch(() => {});
    return deleting;
  }

  /** Waits for the delete with the newest receipt handle, which a receive may replace meanwhile. */
  private async newestDelete(): Promise<void> {
    for (;;) {
      const deleting = this.deleting;
      try {
        await deleting;
      } catch (error) {
        if (deleting === this.deleting) throw error;
        continue;
      }
      if (deleting === this.deleting) return;
    }
  }

  /**
   * A message that failed at its `maxReceiveCount`-th receive or later, on a queue without a
   * redrive policy: its dead-letter record, for the runtime to deliver before it acks. The
   * heartbeat keeps the message hidden meanwhile.
   */
  deadLetter(error: Error): MessageDeadLetter | undefined {
    const target = this.deadLetterTarget;
    if (!target || this.receiveCount < target.maxReceiveCount || this.isSettled) return undefined;
    const { options, clock } = this.services;
    const record = deadLetterRecord(this.message, error, {
      queueUrl: options.queueUrl,
      receiveCount: this.receiveCount,
      failedAt: new Date(clock.now()),
    });
    return { sink: target.sinkName, record };
  }

  async nack(error: Error): Promise<void> {
    if (!this.settle("nacked")) return;
    const { options, logger } = this.services;
    try {
      await this.heartbeat?.stop();
      const delay = redeliveryDelay(options, this.receiveCount);
      await this.changeVisibility(delay);
      logger.debug(
        { messageId: this.id, err: error, receiveCount: this.receiveCount, visibleInSeconds: delay },
        "message nacked (given back)",
      );
    } catch (changeError) {
      logger.warn(
        { messageId: this.id, err: changeError, cause: error.message },
        "could not give the message back; it reappears when its visibility timeout ends",
      );
    } finally {
      this.hooks.settled();
    }
  }

  /**
   * Shutdown: give the message back at once, unfinished. Settles the envelope, so the outcome of
   * work still running on it is ignored.
   */
  async giveBackUnfinished(): Promise<void> {
    if (!this.settle("released")) return;
    const { options, logger } = this.services;
    try {
      await this.heartbeat?.stop(SHUTDOWN_BEAT_WAIT_MS);
      await this.changeVisibility(0);
      logger.info({ messageId: this.id }, "message given back unfinished (shutdown)");
    } catch (error) {
      logger.warn(
        {
          messageId: this.id,
          err: asTrailrouterError(error, "ack", { messageId: this.id, queueUrl: options.queueUrl }),
        },
        "could not give the message back; it reappears when its visibility timeout ends",
      );
    } finally {
      this.hooks.settled();
    }
  }

  async extend(seconds: number): Promise<void> {
    if (this.isSettled) return;
    try {
      await this.changeVisibility(seconds);
      this.services.logger.debug({ messageId: this.id, seconds }, "visibility extended");
    } catch (error) {
      throw asTrailrouterError(error, "ack", {
        messageId: this.id,
        queueUrl: this.services.options.queueUrl,
      });
    }
  }

  private async changeVisibility(seconds: number): Promise<void> {
    await this.services.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.services.options.queueUrl,
        ReceiptHandle: this.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  /** True the first time only: an envelope is settled exactly once. */
  private settle(outcome: Outcome): boolean {
    if (this.isSettled) return false;
    this.isSettled = true;
    this.hooks.settling(outcome, this.id);
    return true;
  }
}

/**
 * S3's answers for a key with no object: NoSuchKey, or AccessDenied to a reader not allowed to
 * list the bucket (S3 then does not say whether the key exists).
 */
function isMissingObject(error: unknown): error is ObjectFetchError {
  return error instanceof ObjectFetchError && (error.code === "NoSuchKey" || error.code === "AccessDenied");
}

/** The dead-letter record of a message: its body, and why it failed, with the error's context. */
export function deadLetterRecord(
  message: ReceivedMessage,
  error: Error,
  at: { queueUrl: string; receiveCount: number; failedAt: Date },
): DeadLetterRecord {
  const typed = error instanceof TrailrouterError ? error : undefined;
  const bucket = typed?.context.bucket;
  const key = typed?.context.key;
  return {
    trailrouterDeadLetter: 1,
    messageId: message.MessageId,
    queueUrl: at.queueUrl,
    receiveCount: at.receiveCount,
    failedAt: at.failedAt.toISOString(),
    error: {
      stage: typed?.stage ?? "process",
      code: typed?.code ?? error.name,
      message: error.message,
      ...(bucket === undefined ? {} : { bucket }),
      ...(key === undefined ? {} : { key }),
    },
    body: message.Body ?? "",
  };
}
