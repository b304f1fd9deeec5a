/**
 * Deletes of acknowledged messages, coalesced: the acks of envelopes settling close together go
 * out as one DeleteMessageBatch (up to 10 entries, the queue's only) instead of one DeleteMessage
 * each. A batch leaves when it is full, when the source is about to receive again (`sendPending`),
 * or once its first entry waited `lingerMs`.
 */
import {
  DeleteMessageBatchCommand,
  type DeleteMessageBatchCommandOutput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { asTrailrouterError, TrailrouterError } from "@trailrouter/core";

/** Entries per DeleteMessageBatch: SQS's limit. */
export const DELETE_BATCH_MAX_ENTRIES = 10;

/**
 * The longest a delete waits for others to share its request, in ms; 0: the end of the current
 * turn of the event loop. An acked envelope frees its slot as soon as its delete is queued, so the
 * wait delays no work; it is far below any visibility timeout (the heartbeat leaves at least half
 * of one when it stops).
 */
export const DEFAULT_DELETE_LINGER_MS = 50;

interface PendingDelete {
  readonly messageId: string;
  readonly receiptHandle: string;
  resolve(): void;
  reject(error: TrailrouterError): void;
}

export class MessageDeleter {
  private pending: PendingDelete[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly lingerMs = DEFAULT_DELETE_LINGER_MS,
  ) {}

  /**
   * Deletes one message. Resolves when SQS confirmed its entry; rejects with a TrailrouterError
   * (stage `ack`, the entry's code) when its entry or the whole request failed.
   */
  delete(messageId: string, receiptHandle: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ messageId, receiptHandle, resolve, reject });
      if (this.pending.length >= DELETE_BATCH_MAX_ENTRIES) this.send();
      else this.timer ??= this.later();
    });
  }

  /** Sends what waits, now. */
  sendPending(): void {
    while (this.pending.length > 0) this.send();
  }

  /** Sends what waits at once and resolves when every delete sent so far has its answer. */
  async flush(): Promise<void> {
    this.sendPending();
    await Promise.all(this.inFlight);
  }

  /** Sends what waits after the linger: a timer, or for 0 the end of this turn of the event loop. */
  private later(): NodeJS.Timeout | NodeJS.Immediate {
    return this.lingerMs === 0
      ? setImmediate(() => this.send())
      : setTimeout(() => this.send(), this.lingerMs);
  }

  private send(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = undefined;
    const batch = this.pending.splice(0, DELETE_BATCH_MAX_ENTRIES);
    const request = this.deleteBatch(batch).finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
    // More than a batch waited (pushed while a full one was going out): the rest goes on its own.
    if (this.pending.length > 0) this.timer = this.later();
  }

  private async deleteBatch(batch: readonly PendingDelete[]): Promise<void> {
    let answer: DeleteMessageBatchCommandOutput;
    try {
      answer = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((entry, index) => ({ Id: String(index), ReceiptHandle: entry.receiptHandle })),
        }),
      );
    } catch (error) {
      for (const entry of batch) {
        entry.reject(
          asTrailrouterError(error, "ack", { messageId: entry.messageId, queueUrl: this.queueUrl }),
        );
      }
      return;
    }
    const failed = new Map((answer.Failed ?? []).map((failure) => [failure.Id, failure]));
    const deleted = new Set((answer.Successful ?? []).map((success) => success.Id));
    batch.forEach((entry, index) => {
      const id = String(index);
      const failure = failed.get(id);
      const context = { messageId: entry.messageId, queueUrl: this.queueUrl };
      if (failure) {
        const code = failure.Code ?? "UnknownError";
        entry.reject(
          new TrailrouterError(
            "ack",
            code,
            `SQS did not delete message ${entry.messageId}: ${failure.Message ?? code}`,
            { ...context, senderFault: failure.SenderFault ?? false },
          ),
        );
      } else if (deleted.has(id)) {
        entry.resolve();
      } else {
        entry.reject(
          new TrailrouterError(
            "ack",
            "NoResult",
            `SQS returned no result for the delete of ${entry.messageId}`,
            context,
          ),
        );
      }
    });
  }
}
