/**
 * Batch delivery shared by every `deliver` call of a sink: the entries of concurrent calls (the
 * envelopes in flight) wait in one queue and go out together, so a service that takes ten entries
 * per request gets full requests even when each call brings only a few records. A request leaves
 * when it is full (entries or bytes), or once the oldest entry waited `lingerMs`; at most
 * `maxRequestsInFlight` are in flight. Each call resolves when its own entries are settled, with
 * the result `deliverInBatches` would give: failed entries listed, never thrown. The model is the
 * AWS SDK for Java's SqsAsyncBatchManager.
 */
import { type DeliveryResult, systemClock, type TrailRecord, Type } from "@trailrouter/core";
import { type BatchDeliveryOptions, DEFAULT_MAX_REQUESTS_IN_FLIGHT } from "./batch.js";
import {
  encodeRecords,
  type PendingEntry,
  type PositionedFailure,
  type Rejection,
  rejectionFailure,
  requestSize,
  sendRequest,
} from "./entries.js";
import { backoffDelay, mayRetry, resolveRetrySettings } from "./retry.js";
import type { BatchSender } from "./sender.js";

/**
 * The `lingerMs` option of a batching sink: how long a request that is not full waits for entries
 * of other calls. Its default, 0, is the end of the current turn of the event loop. Measured end to
 * end (docs/BENCHMARKS.md): under load a timer of 1–20 ms saved at most 5 % of the requests (the
 * requests in flight already hold entries back), and every millisecond of it is added to each
 * envelope when AWS is some milliseconds away.
 */
export const lingerMsSchema = Type.Integer({
  minimum: 0,
  maximum: 60_000,
  default: 0,
  description:
    "How long a request that is not full waits for the records of other messages in flight, in ms; 0: until the end of the current turn of the event loop",
});

export interface CoalescingDeliveryOptions extends Omit<BatchDeliveryOptions, "ordered"> {
  /**
   * Longest wait of a request that is not full, in ms; 0: until the end of the current turn of the
   * event loop, so that the calls made in the same turn share requests. Unset: lingerMsSchema's
   * default.
   */
  readonly lingerMs?: number;
}

/** One `deliver` call: its failures so far, and how many of its entries are not settled yet. */
interface Delivery {
  readonly started: number;
  readonly records: number;
  readonly failed: PositionedFailure[];
  unsettled: number;
  resolve(result: DeliveryResult): void;
}

interface QueuedEntry<Entry> extends PendingEntry<Entry> {
  readonly delivery: Delivery;
  /** Sends so far. */
  attempts: number;
}

export class CoalescingDelivery<Entry> {
  private readonly sender: BatchSender<Entry>;
  private readonly options: CoalescingDeliveryOptions;
  private readonly retry;
  private readonly clock;
  private readonly random;
  private readonly maxInFlight: number;
  private readonly lingerMs: number;
  private queue: QueuedEntry<Entry>[] = [];
  private inFlight = 0;
  /** A linger wait is running. */
  private lingering = false;
  /** The linger ended: what is queued goes out as soon as a request may start, full or not. */
  private flushDue = false;
  private closing = false;
  /** Wakes retry and linger waits when the sink closes. */
  private readonly closed = new AbortController();

  constructor(sender: BatchSender<Entry>, options: CoalescingDeliveryOptions) {
    this.sender = sender;
    this.options = options;
    this.retry = resolveRetrySettings(options.retry);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.maxInFlight = Math.max(1, options.maxRequestsInFlight ?? DEFAULT_MAX_REQUESTS_IN_FLIGHT);
    this.lingerMs = options.lingerMs ?? (lingerMsSchema.default as number);
  }

  /**
   * Deliver `records` beside the other calls' records. Never throws for a record-level failure:
   * records that were too large, refused, or still failing when the retries ran out are listed in
   * `failed`, in the order of `records`.
   */
  deliver(records: readonly TrailRecord[]): Promise<DeliveryResult> {
    const { pending, failed } = encodeRecords(records, this.sender, this.options);
    return new Promise((resolve) => {
      const delivery: Delivery = {
        started: this.clock.now(),
        records: records.length,
        failed,
        unsettled: pending.length,
        resolve,
      };
      if (pending.length === 0) return this.finish(delivery);
      const entries = pending.map((entry): QueuedEntry<Entry> => ({ ...entry, delivery, attempts: 0 }));
      if (this.closing) return this.failClosed(entries);
      this.queue.push(...entries);
      this.dispatch();
    });
  }

  /**
   * Stops sending: entries queued or waiting for a retry are reported failed (`SinkClosed`, or
   * their last error), requests in flight settle their entries when answered, and later calls
   * fail at once. The runtime closes sinks once every envelope it still acknowledges is done, so
   * what is left belongs to envelopes given back unfinished: sending it would only duplicate it.
   */
  close(): Promise<void> {
    this.closing = true;
    // Wakes the retry waits, which then fail their entries (see retryLater).
    this.closed.abort();
    const queued = this.queue;
    this.queue = [];
    this.failClosed(queued);
    return Promise.resolve();
  }

  /** Starts every request that may start now. */
  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const size = requestSize(this.queue, 0, this.sender);
      // Full: as many entries as a request takes, or the next one would not fit.
      const full = size === this.sender.maxEntries || size < this.queue.length;
      if (!full && !this.flushDue) break;
      const request = this.queue.splice(0, size);
      if (this.queue.length === 0) this.flushDue = false;
      void this.send(request);
    }
    if (this.queue.length > 0 && !this.flushDue && !this.lingering) this.linger();
  }

  private linger(): void {
    this.lingering = true;
    const lingered = () => {
      this.lingering = false;
      if (this.queue.length === 0) return;
      this.flushDue = true;
      this.dispatch();
    };
    if (this.lingerMs === 0) setImmediate(lingered);
    else void this.clock.sleep(this.lingerMs, this.closed.signal).then(lingered);
  }

  private async send(request: QueuedEntry<Entry>[]): Promise<void> {
    this.inFlight++;
    for (const entry of request) entry.attempts++;
    const rejections = await sendRequest(this.sender, request, this.options.sink);
    this.inFlight--;
    const rejected = new Set(rejections.map((rejection) => rejection.pending));
    for (const entry of request) if (!rejected.has(entry)) this.settle(entry);
    // Retried entries are grouped by their number of sends: one backoff per group.
    const retries = new Map<number, Rejection<Entry, QueuedEntry<Entry>>[]>();
    for (const rejection of rejections) {
      if (!rejection.retryable) {
        this.fail(rejection.pending, rejection);
        continue;
      }
      const group = retries.get(rejection.pending.attempts) ?? [];
      group.push(rejection);
      retries.set(rejection.pending.attempts, group);
    }
    for (const [attempts, group] of retries) this.retryLater(attempts, group);
    this.dispatch();
  }

  /** Queues `group` again after a backoff, or fails those whose attempts or time ran out. */
  private retryLater(attempts: number, group: Rejection<Entry, QueuedEntry<Entry>>[]): void {
    const delay = backoffDelay(attempts, this.retry, this.random);
    const now = this.clock.now();
    const again: Rejection<Entry, QueuedEntry<Entry>>[] = [];
    for (const rejection of group) {
      const { delivery } = rejection.pending;
      if (this.closing || !mayRetry(attempts, now + delay - delivery.started, this.retry))
        this.fail(rejection.pending, rejection);
      else again.push(rejection);
    }
    if (again.length === 0) return;
    this.options.logger?.debug(
      {
        sink: this.options.sink,
        attempt: attempts,
        entries: again.length,
        delayMs: delay,
        code: again[0]?.code,
      },
      "retrying entries the service failed",
    );
    void this.clock.sleep(delay, this.closed.signal).then(() => {
      if (this.closing) {
        for (const rejection of again) this.fail(rejection.pending, rejection);
        return;
      }
      this.queue.push(...again.map((rejection) => rejection.pending));
      this.dispatch();
    });
  }

  private failClosed(entries: readonly QueuedEntry<Entry>[]): void {
    for (const entry of entries) {
      this.fail(entry, {
        pending: entry,
        code: "SinkClosed",
        message: "the sink was closed before the record was sent",
        retryable: false,
      });
    }
  }

  private fail(entry: QueuedEntry<Entry>, rejection: Rejection<Entry>): void {
    entry.delivery.failed.push({
      position: entry.position,
      failure: rejectionFailure(rejection, entry.attempts, this.options),
    });
    this.settle(entry);
  }

  private settle(entry: QueuedEntry<Entry>): void {
    if (--entry.delivery.unsettled === 0) this.finish(entry.delivery);
  }

  private finish(delivery: Delivery): void {
    delivery.failed.sort((a, b) => a.position - b.position);
    delivery.resolve({
      delivered: delivery.records - delivery.failed.length,
      failed: delivery.failed.map(({ failure }) => failure),
    });
  }
}
