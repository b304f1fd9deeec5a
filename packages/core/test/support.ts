/**
 * What the core tests share. Core has no decoder of its own (the CloudTrail decoder is the
 * @trailrouter/decoder-cloudtrail package, which core does not depend on), so the tests that
 * run pipelines register this one.
 */
import {
  DecodeError,
  type DecodeOptions,
  definePlugin,
  type Envelope,
  type SourceObject,
  type TrailRecord,
} from "@trailrouter/core";

/**
 * Decoder `cloudtrail` (the type a pipeline gets when its file names none) for tests: the body is
 * plain JSON `{"Records": [...]}`, parsed whole; anything else is a DecodeError `InvalidJson`.
 * Given `mayMatch`, a record whose `JSON.stringify` fails it is left out and reported to
 * `skipped`: that is its text in the files the tests write with `JSON.stringify({ Records })`.
 * `tally.skipped` counts those records, across every decoder the plugin creates.
 */
export function jsonRecordsDecoderPlugin(tally: { skipped: number } = { skipped: 0 }) {
  return definePlugin({
    kind: "decoder",
    type: "cloudtrail",
    schema: { type: "object", properties: {}, additionalProperties: false },
    create: () => ({
      *decode(object: SourceObject, options: DecodeOptions = {}) {
        const context = { bucket: object.bucket, key: object.key };
        let records: unknown;
        try {
          records = (JSON.parse(new TextDecoder().decode(object.body)) as { Records?: unknown }).Records;
        } catch (error) {
          throw new DecodeError("InvalidJson", `${object.key} is not valid JSON`, context, { cause: error });
        }
        if (!Array.isArray(records)) {
          throw new DecodeError("InvalidJson", `${object.key} has no Records array`, context);
        }
        for (const record of records as TrailRecord[]) {
          if (options.mayMatch !== undefined && !options.mayMatch(JSON.stringify(record))) {
            tally.skipped++;
            options.skipped?.();
            continue;
          }
          yield record;
        }
      },
    }),
  });
}

/** The decoder the core tests' pipelines get by default. */
export const jsonRecordsDecoder = jsonRecordsDecoderPlugin();

/**
 * Source `memory`: one message `m1` announcing one log file of `records` at `bucket`/`key`;
 * `settled` lists how it ended (`acked`, `nacked`).
 */
export function oneMessageSource(
  records: readonly TrailRecord[],
  location: { bucket: string; key: string } = { bucket: "b", key: "k" },
) {
  const settled: ("acked" | "nacked")[] = [];
  const plugin = definePlugin({
    kind: "source",
    type: "memory",
    schema: { type: "object", properties: {} },
    create: () => ({
      async *receive() {
        const envelope: Envelope = {
          id: "m1",
          receiveCount: 1,
          async *objects() {
            yield { ...location, body: new TextEncoder().encode(JSON.stringify({ Records: records })) };
          },
          ack: async () => void settled.push("acked"),
          nack: async () => void settled.push("nacked"),
        };
        yield envelope;
      },
      close: async () => {},
    }),
  });
  return { plugin, settled };
}
