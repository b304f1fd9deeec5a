/**
 * A CloudTrail record as a SendMessageBatch entry, and its size as SQS counts it against
 * MaximumMessageSize and the batch limit: the body plus each attribute's name, type and value.
 */
import { createHash } from "node:crypto";
import type { MessageAttributeValue, SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import type { EncodedEntry, TrailRecord } from "@trailrouter/core";

/** An entry without its `Id`: ids are given per request, when the entries are sent. */
export type SqsEntry = Omit<SendMessageBatchRequestEntry, "Id">;

/** Record fields copied into message attributes, so consumers can filter without parsing. */
export const ATTRIBUTE_FIELDS = ["eventName", "eventSource", "awsRegion", "recipientAccountId"] as const;

export const DEFAULT_MESSAGE_GROUP = "trailrouter";

export interface EncodeOptions {
  /** FIFO queue: add MessageGroupId and MessageDeduplicationId. */
  readonly fifo: boolean;
  /** Record field (dotted path allowed) whose value is the FIFO message group. */
  readonly messageGroupIdField: string;
}

export function encodeRecord(record: TrailRecord, options: EncodeOptions): EncodedEntry<SqsEntry> {
  const body = JSON.stringify(record);
  let bytes = Buffer.byteLength(body);
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const name of ATTRIBUTE_FIELDS) {
    const value = record[name];
    // SQS refuses empty attribute values.
    if (typeof value !== "string" || value === "") continue;
    attributes[name] = { DataType: "String", StringValue: value };
    bytes += Buffer.byteLength(name) + Buffer.byteLength("String") + Buffer.byteLength(value);
  }
  const entry: SqsEntry = { MessageBody: body, MessageAttributes: attributes };
  if (options.fifo) {
    entry.MessageGroupId =
      scalarText(fieldValue(record, options.messageGroupIdField)) ??
      scalarText(record.eventSource) ??
      DEFAULT_MESSAGE_GROUP;
    entry.MessageDeduplicationId =
      scalarText(record.eventID) ?? createHash("sha256").update(body).digest("hex");
  }
  return { entry, bytes };
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
