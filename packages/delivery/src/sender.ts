/**
 * What a sink of a batching service implements: how a record becomes an entry, the service's
 * limits, and one request with its per-entry answer. The delivery engines take it.
 */
import type { TrailRecord } from "@trailrouter/core";

/** A record in the service's entry shape, and its size as the service counts it. */
export interface EncodedEntry<Entry> {
  readonly entry: Entry;
  readonly bytes: number;
}

/** An entry the service did not accept. */
export interface EntryFailure {
  /** Index into the entries of the `send` call that reported it. */
  readonly index: number;
  /** The service's code, e.g. `InvalidParameterValue`. */
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  /**
   * The service refused this entry itself, for good (its content, its size): sending it again
   * can never succeed, so it is not retried whatever `retryable` says. Only for codes that speak
   * of the entry, never of the queue, topic, bus, account or request: those keep the message for
   * redelivery.
   */
  readonly permanent?: boolean;
}

export interface BatchSendResult {
  /** Entries not accepted; every other entry of the call was. */
  readonly failed: readonly EntryFailure[];
}

/** What a batching service accepts and how to call it. */
export interface BatchSender<Entry> {
  /** Entries per request. */
  readonly maxEntries: number;
  /** Sum of entry sizes per request. */
  readonly maxBatchBytes: number;
  /** Size of one entry. */
  readonly maxEntryBytes: number;
  encode(record: TrailRecord): EncodedEntry<Entry>;
  /**
   * One request. Throwing means the whole request failed: its entries are retried when the
   * error is retryable (see isRetryableError), and fail with the error's name otherwise, never
   * as permanent failures.
   */
  send(entries: readonly Entry[]): Promise<BatchSendResult>;
}
