/**
 * A record as a message of a queue or a topic (SQS, SNS): the body in the sink's output format,
 * the record fields consumers filter on as string attributes, the ids a FIFO queue or topic
 * needs, the size as both services count it, and their per-entry answer to a batch request.
 */
import { createHash } from "node:crypto";
import { type Static, type TObject, type TrailRecord, Type } from "@trailrouter/core";
import { lingerMsSchema } from "./coalesce.js";
import { formatRecord, type OutputFormat, outputFormatSchema } from "./format.js";
import { wireJson } from "./json.js";
import type { BatchSender, BatchSendResult, EntryFailure } from "./sender.js";

/** Record fields copied into message attributes, so consumers can filter without parsing. */
export const MESSAGE_ATTRIBUTE_FIELDS = [
  "eventName",
  "eventSource",
  "awsRegion",
  "recipientAccountId",
] as const;

/**
 * A character SQS refuses in a message (`InvalidMessageContents`), and SNS too, since it delivers
 * to queues: any but #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF. With the
 * `u` flag a lone surrogate is a code point of its own, outside the ranges.
 */
const REFUSED_MESSAGE_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Whether SQS and SNS take `text` as it is, in a body or an attribute value. */
export function messageServicesAccept(text: string): boolean {
  return !REFUSED_MESSAGE_CHARACTER.test(text);
}

/** The group of a FIFO message whose record has neither the configured field nor an eventSource. */
export const DEFAULT_MESSAGE_GROUP = "trailrouter";

/** The `messageGroupIdField` option of the sinks that write to FIFO queues or topics. */
export const messageGroupIdFieldSchema = Type.String({
  minLength: 1,
  default: "recipientAccountId",
  description:
    "FIFO only: record field (dotted path allowed) used as MessageGroupId; falls back to eventSource",
});

/** A message attribute as SQS and SNS both take it. */
export interface StringMessageAttribute {
  DataType: "String";
  StringValue: string;
}

export interface MessageEncodeOptions {
  /**
   * What the body carries; the attributes and ids always come from the record itself. Unset:
   * outputFormatSchema's default.
   */
  readonly format?: OutputFormat;
  /** FIFO queue or topic: give the message a group id and a deduplication id. */
  readonly fifo?: boolean;
  /**
   * Record field (dotted path allowed) whose value is the FIFO message group. Unset:
   * messageGroupIdFieldSchema's default.
   */
  readonly messageGroupIdField?: string;
}

export interface EncodedMessage {
  readonly body: string;
  readonly attributes: Record<string, StringMessageAttribute>;
  /** The body plus each attribute's name, type and value: what SQS and SNS count against their limits. */
  readonly bytes: number;
  /** Set for FIFO only. */
  readonly groupId?: string;
  /** Set for FIFO only: the eventID, so a record sent twice is deduplicated by the service. */
  readonly deduplicationId?: string;
}

export function encodeMessage(record: TrailRecord, options: MessageEncodeOptions = {}): EncodedMessage {
  // Escaped where the services refuse a character: the consumer parses the same value back.
  const body = wireJson(formatRecord(record, options.format));
  let bytes = Buffer.byteLength(body);
  const attributes: Record<string, StringMessageAttribute> = {};
  for (const name of MESSAGE_ATTRIBUTE_FIELDS) {
    const value = record[name];
    // SQS and SNS refuse empty attribute values.
    if (typeof value !== "string" || value === "") continue;
    // An attribute value is taken as it is, with no escape: one the services would refuse (the
    // whole entry with it) is left out. The body still carries the field.
    if (!messageServicesAccept(value)) continue;
    attributes[name] = { DataType: "String", StringValue: value };
    bytes += Buffer.byteLength(name) + Buffer.byteLength("String") + Buffer.byteLength(value);
  }
  if (!options.fifo) return { body, attributes, bytes };
  const groupId =
    scalarText(fieldValue(record, options.messageGroupIdField ?? messageGroupIdFieldSchema.default)) ??
    scalarText(record.eventSource) ??
    DEFAULT_MESSAGE_GROUP;
  const deduplicationId = scalarText(record.eventID) ?? createHash("sha256").update(body).digest("hex");
  return { body, attributes, bytes, groupId, deduplicationId };
}

function fieldValue(record: TrailRecord, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/** An entry of `Successful[]` in a SendMessageBatch or PublishBatch answer. */
export interface BatchEntrySuccess {
  Id?: string | undefined;
}

/** An entry of `Failed[]` in a SendMessageBatch or PublishBatch answer. */
export interface BatchEntryFailure {
  Id?: string | undefined;
  SenderFault?: boolean | undefined;
  Code?: string | undefined;
  Message?: string | undefined;
}

/**
 * A SendMessageBatch or PublishBatch answer as entry failures, for request entries whose `Id`
 * is their position. `SenderFault: true` means the sender got something wrong, false that the
 * service failed and may succeed later; a sender fault is permanent only with one of the service's
 * `permanentEntryErrors`, codes that speak of the entry's own content or size. An entry in
 * neither list is treated as not sent.
 */
export function batchEntryFailures(
  entryCount: number,
  successful: readonly BatchEntrySuccess[],
  failed: readonly BatchEntryFailure[],
  service: Pick<MessageService, "name" | "permanentEntryErrors">,
): BatchSendResult {
  const answered = new Set([...successful, ...failed].map((entry) => entry.Id));
  const failures: EntryFailure[] = failed.map((entry) => {
    const code = entry.Code ?? "UnknownError";
    const senderFault = entry.SenderFault === true;
    return {
      index: Number(entry.Id),
      code,
      message: entry.Message ?? `${service.name} gave no reason`,
      retryable: !senderFault,
      permanent: senderFault && service.permanentEntryErrors.has(code),
    };
  });
  for (let index = 0; index < entryCount; index++) {
    if (!answered.has(String(index))) {
      failures.push({
        index,
        code: "NoResult",
        message: `${service.name} returned no result for the entry`,
        retryable: true,
        permanent: false,
      });
    }
  }
  return { failed: failures };
}

/** What differs between the message services the SQS and SNS sinks write to. */
export interface MessageService {
  /** For messages: `SQS`, `SNS`. */
  readonly name: string;
  /** The batch call: `SendMessageBatch`, `PublishBatch`. */
  readonly request: string;
  readonly maxEntries: number;
  /** The most the size options accept. */
  readonly maxBytes: number;
  /** The size options' default. */
  readonly defaultBytes: number;
  /** How to set `maxMessageBytes` for this service. */
  readonly maxMessageBytesDescription: string;
  /**
   * Codes of a per-entry sender fault about the entry's own content or size: sent again, the
   * entry is refused again, so its record fails for good (`permanent`). Codes about the queue or
   * topic, the account or the request are not in it: they keep the message for redelivery.
   */
  readonly permanentEntryErrors: ReadonlySet<string>;
}

/**
 * The schemas of a message sink's options besides its address, with the service's limits: spread
 * them into the sink's `Type.Object`.
 */
export function messageSinkProperties(service: MessageService) {
  return {
    maxBatchEntries: Type.Integer({
      minimum: 1,
      maximum: service.maxEntries,
      default: service.maxEntries,
      description: `Entries per ${service.request} request`,
    }),
    maxBatchBytes: Type.Integer({
      minimum: 1024,
      maximum: service.maxBytes,
      default: service.defaultBytes,
      description: `Sum of message sizes per ${service.request} request`,
    }),
    maxMessageBytes: Type.Integer({
      minimum: 1024,
      maximum: service.maxBytes,
      default: service.defaultBytes,
      description: service.maxMessageBytesDescription,
    }),
    messageGroupIdField: messageGroupIdFieldSchema,
    format: outputFormatSchema,
    lingerMs: lingerMsSchema,
  };
}

/** The options a message sink takes besides its address, as its `create` gets them (defaults filled in). */
export type MessageSinkOptions = Static<TObject<ReturnType<typeof messageSinkProperties>>>;

/** A batch answer with the `Successful[]` and `Failed[]` lists SQS and SNS both return. */
export interface MessageBatchAnswer {
  Successful?: readonly BatchEntrySuccess[] | undefined;
  Failed?: readonly BatchEntryFailure[] | undefined;
}

/**
 * The BatchSender of a message sink: records encoded by `encodeMessage` and turned into the
 * service's entries by `toEntry`; `sendBatch` gets each request's entries with `Id` = position,
 * so a failure names its entry directly.
 */
export function messageBatchSender<Entry>(
  service: MessageService,
  options: MessageSinkOptions & { fifo: boolean },
  toEntry: (record: TrailRecord, encode: MessageEncodeOptions) => { entry: Entry; bytes: number },
  sendBatch: (entries: (Entry & { Id: string })[]) => Promise<MessageBatchAnswer>,
): BatchSender<Entry> {
  const encodeOptions: MessageEncodeOptions = {
    fifo: options.fifo,
    format: options.format,
    messageGroupIdField: options.messageGroupIdField,
  };
  return {
    maxEntries: options.maxBatchEntries,
    maxBatchBytes: options.maxBatchBytes,
    maxEntryBytes: options.maxMessageBytes,
    encode: (record) => toEntry(record, encodeOptions),
    async send(entries) {
      const answer = await sendBatch(entries.map((entry, index) => ({ ...entry, Id: String(index) })));
      return batchEntryFailures(entries.length, answer.Successful ?? [], answer.Failed ?? [], service);
    },
  };
}
