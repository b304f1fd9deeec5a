/**
 * What the batch delivery engines share: turning records into entries (or failures), sending one
 * request and reading which of its entries failed, and the DeliveryError of an entry given up on.
 */
import {
  DeliveryError,
  type ErrorContext,
  type FailedDelivery,
  isRetryableError,
  type TrailRecord,
} from "@trailrouter/core";
import type { BatchSender, BatchSendResult, EncodedEntry } from "./sender.js";

/** A record encoded for its sink; `position` is its index in the `deliver` call that brought it. */
export interface PendingEntry<Entry> {
  readonly position: number;
  readonly record: TrailRecord;
  readonly entry: Entry;
  readonly bytes: number;
}

/** An entry the service (or the request) failed. */
export interface Rejection<Entry, Pending extends PendingEntry<Entry> = PendingEntry<Entry>> {
  readonly pending: Pending;
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  /** The service refused the entry itself, for good (see EntryFailure.permanent); never retried. */
  readonly permanent?: boolean;
  readonly cause?: unknown;
}

/** A failure and the position of its record in its `deliver` call, for results in record order. */
export interface PositionedFailure {
  readonly position: number;
  readonly failure: FailedDelivery;
}

export interface SinkIdentity {
  readonly sink: string;
  readonly pipeline?: string | undefined;
}

export function errorContext(
  identity: SinkIdentity,
  record: TrailRecord,
  extra: ErrorContext = {},
): ErrorContext {
  return {
    sink: identity.sink,
    ...(identity.pipeline === undefined ? {} : { pipeline: identity.pipeline }),
    eventID: record.eventID,
    ...extra,
  };
}

/**
 * Encodes `records`: those that can be sent become entries, the others (not encodable, or larger
 * than an entry or a whole request may be) failures that are never sent, and permanent: the same
 * record is refused the same way every time.
 */
export function encodeRecords<Entry>(
  records: readonly TrailRecord[],
  sender: BatchSender<Entry>,
  identity: SinkIdentity,
): { pending: PendingEntry<Entry>[]; failed: PositionedFailure[] } {
  // An entry larger than a whole request can never be sent either.
  const entryLimit = Math.min(sender.maxEntryBytes, sender.maxBatchBytes);
  const pending: PendingEntry<Entry>[] = [];
  const failed: PositionedFailure[] = [];
  records.forEach((record, position) => {
    let encoded: EncodedEntry<Entry>;
    try {
      encoded = sender.encode(record);
    } catch (error) {
      const encodeError = new DeliveryError(
        "RecordNotEncodable",
        `sink "${identity.sink}" cannot encode record ${record.eventID}: ${(error as Error).message}`,
        errorContext(identity, record),
        { cause: error },
      );
      failed.push({ position, failure: { record, error: encodeError, permanent: true } });
      return;
    }
    if (encoded.bytes > entryLimit) {
      const error = new DeliveryError(
        "RecordTooLarge",
        `record ${record.eventID} is ${encoded.bytes} bytes, over the ${entryLimit}-byte entry limit of sink "${identity.sink}"`,
        errorContext(identity, record, { bytes: encoded.bytes, limit: entryLimit }),
      );
      failed.push({ position, failure: { record, error, permanent: true } });
      return;
    }
    pending.push({ position, record, entry: encoded.entry, bytes: encoded.bytes });
  });
  return { pending, failed };
}

/**
 * How many entries from `first` on one request can carry: at most `maxEntries`, and at most
 * `maxBatchBytes` together (at least one: encodeRecords keeps no entry larger than a request).
 */
export function requestSize<Entry>(
  entries: readonly PendingEntry<Entry>[],
  first: number,
  sender: Pick<BatchSender<Entry>, "maxEntries" | "maxBatchBytes">,
): number {
  let bytes = 0;
  let size = 0;
  for (let index = first; index < entries.length; index++) {
    const entry = entries[index]!;
    if (size === sender.maxEntries || (size > 0 && bytes + entry.bytes > sender.maxBatchBytes)) break;
    bytes += entry.bytes;
    size++;
  }
  return size;
}

/**
 * The failure of an entry given up on after `attempts` sends: permanent only when the service
 * refused the entry itself, not when retries ran out or it was never sent.
 */
export function rejectionFailure<Entry>(
  rejection: Rejection<Entry>,
  attempts: number,
  identity: SinkIdentity,
): FailedDelivery {
  const { record } = rejection.pending;
  const gaveUp = rejection.retryable ? ` (still failing after ${attempts} attempts)` : "";
  const error = new DeliveryError(
    rejection.code,
    `sink "${identity.sink}" could not deliver record ${record.eventID}: ${rejection.message}${gaveUp}`,
    errorContext(identity, record, { attempts, retryable: rejection.retryable }),
    rejection.cause === undefined ? undefined : { cause: rejection.cause },
  );
  return { record, error, permanent: rejection.permanent === true };
}

/** Sends one request; resolves to the entries that failed (never throws). */
export async function sendRequest<Entry, Pending extends PendingEntry<Entry>>(
  sender: BatchSender<Entry>,
  request: readonly Pending[],
  sink: string,
): Promise<Rejection<Entry, Pending>[]> {
  let result: BatchSendResult;
  try {
    result = await sender.send(request.map((pending) => pending.entry));
  } catch (error) {
    const retryable = isRetryableError(error);
    const code = error instanceof Error ? error.name : "Error";
    const message = error instanceof Error ? error.message : String(error);
    // Never permanent, even when not retryable: a failed request (missing queue, denied access, a
    // 4xx, the network) is about the sink, not its records, and failing every record of a
    // misconfigured sink for good would dead-letter them all.
    return request.map((pending) => ({ pending, code, message, retryable, permanent: false, cause: error }));
  }
  const rejections = new Map<number, Rejection<Entry, Pending>>();
  for (const failure of result.failed) {
    const pending = request[failure.index];
    if (!pending) {
      // A sender bug: nothing is known about this request, so none of it counts as delivered.
      // Reported as failures (not thrown) so the other requests finish first.
      const message = `sink "${sink}" reported a failure for entry ${failure.index} of a ${request.length}-entry request`;
      return request.map((entry) => ({
        pending: entry,
        code: "InvalidSendResult",
        message,
        retryable: false,
      }));
    }
    const permanent = failure.permanent === true;
    rejections.set(failure.index, {
      pending,
      code: failure.code,
      message: failure.message,
      // Sent again, a permanently refused entry would only be refused again.
      retryable: failure.retryable && !permanent,
      permanent,
    });
  }
  return [...rejections.values()];
}
