/**
 * A CloudTrail record as a PutEvents entry, its size as EventBridge counts it, and EventBridge's
 * per-entry answer as entry failures.
 */
import type { PutEventsRequestEntry, PutEventsResultEntry } from "@aws-sdk/client-eventbridge";
import type { TrailRecord } from "@trailrouter/core";
import {
  type BatchSendResult,
  type EncodedEntry,
  type EntryFailure,
  eventBridgeDetailType,
  formatRecord,
  type OutputFormat,
  wireJson,
} from "@trailrouter/delivery";

/** The `detailType` value that derives each entry's DetailType from the record, as EventBridge does. */
export const AUTO_DETAIL_TYPE = "auto";

export interface EntryOptions {
  /** Name or ARN of the event bus. */
  readonly eventBusName: string;
  readonly source: string;
  /** A fixed DetailType, or `auto`. */
  readonly detailType: string;
  /** Dotted record paths whose string values become the entry's Resources. */
  readonly resources: readonly string[];
  /** What the Detail carries. */
  readonly format: OutputFormat;
}

export function encodeEntry(record: TrailRecord, options: EntryOptions): EncodedEntry<PutEventsRequestEntry> {
  const entry: PutEventsRequestEntry = {
    EventBusName: options.eventBusName,
    Source: options.source,
    DetailType: options.detailType === AUTO_DETAIL_TYPE ? eventBridgeDetailType(record) : options.detailType,
    // Escaped as the queues that rules target need: the consumer parses the same value back.
    Detail: wireJson(formatRecord(record, options.format)),
  };
  const time = eventTime(record);
  // Without Time, EventBridge stamps the event with the time of the PutEvents call.
  if (time) entry.Time = time;
  const resources = resourceValues(record, options.resources);
  if (resources.length > 0) entry.Resources = resources;
  return { entry, bytes: putEventsEntrySize(entry) };
}

/**
 * An entry's size as EventBridge counts it against the PutEvents limit ("Calculating PutEvents
 * event entry size" in the EventBridge user guide): 14 bytes for Time when set, plus the UTF-8
 * bytes of Source, DetailType, Detail and each Resource. EventBusName does not count.
 */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  size += Buffer.byteLength(entry.Source ?? "");
  size += Buffer.byteLength(entry.DetailType ?? "");
  size += Buffer.byteLength(entry.Detail ?? "");
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource);
  return size;
}

function eventTime(record: TrailRecord): Date | undefined {
  if (typeof record.eventTime !== "string") return undefined;
  const time = new Date(record.eventTime);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/**
 * The non-empty strings found at each dotted path, in order and without repeats. A path goes
 * through arrays: `resources.ARN` reads the ARN of every element of the record's `resources`.
 */
export function resourceValues(record: TrailRecord, paths: readonly string[]): string[] {
  const found = new Set<string>();
  for (const path of paths) {
    for (const value of valuesAt(record, path.split("."))) {
      if (typeof value === "string" && value !== "") found.add(value);
    }
  }
  return [...found];
}

function valuesAt(value: unknown, keys: readonly string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuesAt(item, keys));
  const [key, ...rest] = keys;
  if (key === undefined) return [value];
  if (typeof value !== "object" || value === null) return [];
  return valuesAt((value as Record<string, unknown>)[key], rest);
}

/** Per-entry error codes that may succeed when the entry is sent again. */
export const RETRYABLE_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "InternalException",
  "InternalFailure",
]);

/**
 * Per-entry error codes about the entry itself: `MalformedDetail`, a Detail that is not a JSON
 * object, is refused again whenever the record is sent. The other codes PutEvents documents are
 * left out: `InvalidArgument` may name the bus, source or detail-type of the sink's options as
 * well as the record's time or resources, `InvalidAccountIdException` the bus's account,
 * `NotAuthorizedFor*` and `AccessDeniedException` the sink's permissions, `RedactionFailure` the
 * service; they keep the message for redelivery.
 */
export const PERMANENT_ENTRY_ERRORS: ReadonlySet<string> = new Set(["MalformedDetail"]);

/**
 * PutEvents answers with one result per request entry, in order: an EventId, or an ErrorCode
 * and ErrorMessage. An entry without either (or missing from the answer) counts as not sent.
 */
export function putEventsEntryFailures(
  entryCount: number,
  results: readonly PutEventsResultEntry[],
): BatchSendResult {
  const failed: EntryFailure[] = [];
  for (let index = 0; index < entryCount; index++) {
    const result = results[index];
    if (result?.ErrorCode) {
      failed.push({
        index,
        code: result.ErrorCode,
        message: result.ErrorMessage ?? "EventBridge gave no reason",
        retryable: RETRYABLE_ENTRY_ERRORS.has(result.ErrorCode),
        permanent: PERMANENT_ENTRY_ERRORS.has(result.ErrorCode),
      });
    } else if (!result?.EventId) {
      failed.push({
        index,
        code: "NoResult",
        message: "EventBridge returned no result for the entry",
        retryable: true,
        permanent: false,
      });
    }
  }
  return { failed };
}
