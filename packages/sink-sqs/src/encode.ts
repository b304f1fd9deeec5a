/**
 * A CloudTrail record as a SendMessageBatch entry: the message the delivery engine encodes (body
 * in the sink's format, the record's attributes, FIFO ids) in SQS's field names.
 */
import type { SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import type { TrailRecord } from "@trailrouter/core";
import { type EncodedEntry, encodeMessage, type MessageEncodeOptions } from "@trailrouter/delivery";

/** An entry without its `Id`: ids are given per request, when the entries are sent. */
export type SqsEntry = Omit<SendMessageBatchRequestEntry, "Id">;

export function encodeRecord(
  record: TrailRecord,
  options: MessageEncodeOptions = {},
): EncodedEntry<SqsEntry> {
  const message = encodeMessage(record, options);
  const entry: SqsEntry = { MessageBody: message.body, MessageAttributes: message.attributes };
  if (message.groupId !== undefined) entry.MessageGroupId = message.groupId;
  if (message.deduplicationId !== undefined) entry.MessageDeduplicationId = message.deduplicationId;
  return { entry, bytes: message.bytes };
}
