/**
 * A CloudTrail record as a PublishBatch entry: the message the delivery engine encodes (body in
 * the sink's format, the record's attributes for subscription filter policies, FIFO ids) in SNS's
 * field names.
 */
import type { PublishBatchRequestEntry } from "@aws-sdk/client-sns";
import type { TrailRecord } from "@trailrouter/core";
import { type EncodedEntry, encodeMessage, type MessageEncodeOptions } from "@trailrouter/delivery";

/** An entry without its `Id`: ids are given per request, when the entries are sent. */
export type SnsEntry = Omit<PublishBatchRequestEntry, "Id">;

export function encodeRecord(
  record: TrailRecord,
  options: MessageEncodeOptions = {},
): EncodedEntry<SnsEntry> {
  const message = encodeMessage(record, options);
  const entry: SnsEntry = { Message: message.body, MessageAttributes: message.attributes };
  if (message.groupId !== undefined) entry.MessageGroupId = message.groupId;
  if (message.deduplicationId !== undefined) entry.MessageDeduplicationId = message.deduplicationId;
  return { entry, bytes: message.bytes };
}
