/**
 * Records a sink refuses for good (larger than it accepts, content its service refuses) would
 * block their whole file for ever, and send its other records again on every redelivery. With
 * the pipeline's `recordDeadLetter`, each goes to that sink instead, wrapped with what is needed
 * to act on it, and the rest of the file is delivered and its message deleted.
 */
import { TrailrouterError } from "../errors.js";
import type { FailedDelivery, TrailRecord } from "../interfaces.js";

/** The fields that identify a CloudTrail record, kept when the record itself cannot be sent. */
const SUMMARY_FIELDS = [
  "eventID",
  "eventTime",
  "eventSource",
  "eventName",
  "awsRegion",
  "recipientAccountId",
] as const;

/** Where a refused record came from and went: what its dead letter names. */
export interface DeadLetterOrigin {
  readonly pipeline: string;
  /** The sink that refused the record, and the routes that sent it there. */
  readonly sink: string;
  readonly routes: readonly string[];
  readonly messageId: string;
  /** The log file the record came from: it is still there, whole. */
  readonly bucket: string;
  readonly key: string;
  readonly failedAt: Date;
}

/** What the dead-letter sink receives for one refused record. */
export interface RecordDeadLetter extends TrailRecord, Omit<DeadLetterOrigin, "failedAt"> {
  readonly trailrouterRecordDeadLetter: 1;
  /** ISO 8601. */
  readonly failedAt: string;
  readonly error: { readonly code: string; readonly message: string };
  /** The record as decoded; absent when it could not be sent (see `recordOmitted`). */
  readonly record?: TrailRecord;
  /** Why `record` is absent, and its identifying fields instead. */
  readonly recordOmitted?: string;
  readonly recordSummary?: Partial<Record<(typeof SUMMARY_FIELDS)[number], unknown>>;
}

export function codeOf(error: Error): string {
  return error instanceof TrailrouterError ? error.code : error.name;
}

/**
 * The dead letter of `failure`. `withRecord: false` leaves the record out (its identifying fields
 * stay): for a record too large to send anywhere, or one the dead-letter sink refused too; the
 * whole record can still be read from its log file.
 */
export function recordDeadLetter(
  failure: FailedDelivery,
  origin: DeadLetterOrigin,
  withRecord: boolean,
  omittedBecause = "the record is larger than the sinks accept",
): RecordDeadLetter {
  const base = {
    trailrouterRecordDeadLetter: 1 as const,
    pipeline: origin.pipeline,
    sink: origin.sink,
    routes: origin.routes,
    messageId: origin.messageId,
    bucket: origin.bucket,
    key: origin.key,
    failedAt: origin.failedAt.toISOString(),
    error: { code: codeOf(failure.error), message: failure.error.message },
  };
  if (withRecord) return { ...base, record: failure.record };
  const summary: Record<string, unknown> = {};
  for (const field of SUMMARY_FIELDS) {
    if (failure.record[field] !== undefined) summary[field] = failure.record[field];
  }
  return { ...base, recordOmitted: omittedBecause, recordSummary: summary };
}
