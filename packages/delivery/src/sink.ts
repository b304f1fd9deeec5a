/** The Sink of a batching service, built from its BatchSender. */
import type { PluginContext, Sink } from "@trailrouter/core";
import { deliverInBatches } from "./batch.js";
import { CoalescingDelivery } from "./coalesce.js";
import type { RetrySettings } from "./retry.js";
import type { BatchSender } from "./sender.js";

/**
 * A Sink over `sender`, for plugins whose `create` only has to describe the service: the
 * pipeline's clock and logger, the block's `retry` and `lingerMs` options, and `ordered` (FIFO:
 * see BatchDeliveryOptions.ordered). The records of concurrent `deliver` calls share requests
 * (CoalescingDelivery); an ordered sink delivers each call on its own, one request at a time,
 * because a shared queue would let one call's retry hold back, or fail, every other call's
 * records, and FIFO queues and topics are limited by their message groups, not by requests.
 *
 * `maxRecordBytes` is the longest entry `sender` sends (an entry is never larger than a request):
 * it bounds the record's own JSON text only if every entry `sender.encode` makes is at least as
 * long as `JSON.stringify(record)` in UTF-8, as the built-in senders' are (the body or Detail
 * holds that text, escaped where need be).
 */
export function batchingSink<Entry>(
  sender: BatchSender<Entry>,
  context: Pick<PluginContext, "name" | "pipeline" | "clock" | "logger">,
  options: {
    retry?: Partial<RetrySettings> | undefined;
    ordered?: boolean;
    lingerMs?: number | undefined;
    close(): void;
  },
): Sink {
  const settings = {
    sink: context.name,
    pipeline: context.pipeline,
    retry: options.retry,
    clock: context.clock,
    logger: context.logger,
  };
  const maxRecordBytes = Math.min(sender.maxEntryBytes, sender.maxBatchBytes);
  if (options.ordered) {
    return {
      maxRecordBytes,
      deliver: (records) => deliverInBatches(records, sender, { ...settings, ordered: true }),
      close: async () => options.close(),
    };
  }
  const delivery = new CoalescingDelivery(sender, { ...settings, lingerMs: options.lingerMs });
  return {
    maxRecordBytes,
    deliver: (records) => delivery.deliver(records),
    close: async () => {
      await delivery.close();
      options.close();
    },
  };
}
