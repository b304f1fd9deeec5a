/**
 * Batch delivery for sinks whose service takes many entries per request (SQS SendMessageBatch,
 * SNS PublishBatch, EventBridge PutEvents): records are encoded once, split into requests by
 * count and bytes, sent several requests at a time, and only the entries that failed with a
 * retryable error are sent again.
 */
import {
  type Clock,
  type DeliveryResult,
  type Logger,
  systemClock,
  type TrailRecord,
} from "@trailrouter/core";
import {
  encodeRecords,
  type PendingEntry,
  type Rejection,
  rejectionFailure,
  requestSize,
  sendRequest,
} from "./entries.js";
import { backoffDelay, mayRetry, type RetrySettings, resolveRetrySettings } from "./retry.js";
import type { BatchSender } from "./sender.js";

export interface BatchDeliveryOptions {
  /** The sink's name, carried by every DeliveryError. */
  readonly sink: string;
  readonly pipeline?: string;
  /** Requests sent at the same time; default 8. */
  readonly maxRequestsInFlight?: number;
  /**
   * FIFO order: one request at a time, and after a request with a retryable failure nothing later
   * is sent until that failure went through, so no entry overtakes one sent before it.
   */
  readonly ordered?: boolean;
  /** Unset, or any of its settings: retrySettingsSchema's defaults. */
  readonly retry?: Partial<RetrySettings>;
  /** Time and backoff sleeps; default systemClock. */
  readonly clock?: Clock;
  /** Uniform draw in [0, 1) for the backoff jitter; default Math.random. */
  readonly random?: () => number;
  readonly logger?: Logger;
}

export const DEFAULT_MAX_REQUESTS_IN_FLIGHT = 8;

/**
 * Deliver `records` through `sender`. Never throws for a record-level failure: records that
 * were too large, refused, or still failing when the retries ran out are listed in `failed`.
 */
export async function deliverInBatches<Entry>(
  records: readonly TrailRecord[],
  sender: BatchSender<Entry>,
  options: BatchDeliveryOptions,
): Promise<DeliveryResult> {
  const retry = resolveRetrySettings(options.retry);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const concurrency = options.ordered
    ? 1
    : Math.max(1, options.maxRequestsInFlight ?? DEFAULT_MAX_REQUESTS_IN_FLIGHT);
  const started = clock.now();
  const encoded = encodeRecords(records, sender, options);
  const failed = encoded.failed;
  let pending = encoded.pending;

  const reject = (rejection: Rejection<Entry>, attempts: number) => {
    failed.push({
      position: rejection.pending.position,
      failure: rejectionFailure(rejection, attempts, options),
    });
  };

  for (let attempt = 1; pending.length > 0; attempt++) {
    const requests = splitIntoRequests(pending, sender);
    const rejections: Rejection<Entry>[] = [];
    /** Ordered: the entries held back behind a request that must be retried first. */
    let held: PendingEntry<Entry>[] = [];
    await forEachConcurrently(requests, concurrency, async (request, index) => {
      const rejected = await sendRequest(sender, request, options.sink);
      rejections.push(...rejected);
      if (options.ordered && rejected.some((r) => r.retryable)) {
        held = requests.slice(index + 1).flat();
        return "stop";
      }
      return undefined;
    });

    const retryable: Rejection<Entry>[] = [];
    for (const rejection of rejections) {
      if (rejection.retryable) retryable.push(rejection);
      else reject(rejection, attempt);
    }
    if (retryable.length === 0) break;

    const delay = backoffDelay(attempt, retry, random);
    if (!mayRetry(attempt, clock.now() + delay - started, retry)) {
      for (const rejection of retryable) reject(rejection, attempt);
      for (const entry of held) {
        reject(
          {
            pending: entry,
            code: "NotSent",
            message: "not sent: an earlier entry of this ordered sink kept failing",
            retryable: true,
          },
          0,
        );
      }
      break;
    }
    options.logger?.debug(
      { sink: options.sink, attempt, entries: retryable.length, delayMs: delay, code: retryable[0]?.code },
      "retrying entries the service failed",
    );
    await clock.sleep(delay);
    pending = [...retryable.map((rejection) => rejection.pending), ...held].sort(
      (a, b) => a.position - b.position,
    );
  }

  failed.sort((a, b) => a.position - b.position);
  return { delivered: records.length - failed.length, failed: failed.map(({ failure }) => failure) };
}

/** Consecutive requests of the entries, in order, each as full as `sender` allows. */
function splitIntoRequests<Entry>(
  entries: readonly PendingEntry<Entry>[],
  sender: BatchSender<Entry>,
): PendingEntry<Entry>[][] {
  const requests: PendingEntry<Entry>[][] = [];
  for (let first = 0; first < entries.length; ) {
    const size = requestSize(entries, first, sender);
    requests.push(entries.slice(first, first + size));
    first += size;
  }
  return requests;
}

/** Runs `task` over `items`, `limit` at a time, in order; a task answering "stop" ends the run. */
async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<"stop" | undefined>,
) {
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < items.length) {
      const index = next++;
      if ((await task(items[index] as T, index)) === "stop") stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
