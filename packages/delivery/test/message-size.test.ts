/**
 * The SQS and SNS sinks' entries are `encodeMessage`'s body and size: what `maxRecordBytes` rests
 * on (an entry is never shorter than the record's JSON text) is checked here once for both.
 */
import { jsonBytesAtLeast, type TrailRecord } from "@trailrouter/core";
import { encodeMessage, wireJson } from "@trailrouter/delivery";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** Any code point, multi-byte ones and the units JSON escapes or SQS and SNS refuse among them. */
const text = fc.string({
  unit: fc.oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    fc.constantFrom("é", "日", "🦆", "\ufffe", "\uffff", "\u0000", "\ud800", "\udfff", '"', "\\"),
  ),
});
const trailRecord: fc.Arbitrary<TrailRecord> = fc
  .tuple(
    fc.record(
      {
        eventID: text,
        eventName: text,
        eventSource: text,
        awsRegion: text,
        recipientAccountId: text,
        userAgent: text,
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(text, fc.jsonValue({ stringUnit: "binary", maxDepth: 3 }), { maxKeys: 5 }),
  )
  .map(([fields, more]) => ({ ...more, ...fields }));

const utf8 = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe("a record as an SQS or SNS message, against the sink's maxRecordBytes", () => {
  it.each(["record", "eventbridge"] as const)(
    "format %s: the body holds the record's JSON text, so the entry is at least as long",
    (format) => {
      fc.assert(
        fc.property(trailRecord, fc.boolean(), (record, fifo) => {
          const { body, bytes } = encodeMessage(record, { format, fifo });
          expect(body).toContain(wireJson(record));
          expect(bytes).toBeGreaterThanOrEqual(utf8(record));
          expect(jsonBytesAtLeast(record, Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(bytes);
        }),
        { numRuns: 300 },
      );
    },
  );

  it.each([
    ["ASCII", { userAgent: "aws-cli/2.15" }],
    ["two-byte characters", { userAgent: "zoë-ß-é".repeat(50) }],
    ["three-byte characters", { userAgent: "日本語".repeat(50) }],
    ["characters above U+FFFF", { userAgent: "🦆".repeat(50) }],
    ["U+FFFE and U+FFFF", { userAgent: "\ufffe\uffff".repeat(50), eventName: "\uffff" }],
  ])("with %s: at least the UTF-8 length of JSON.stringify(record)", (_label, fields) => {
    const record: TrailRecord = { eventID: "e1", eventName: "CreateUser", ...fields };
    for (const format of ["record", "eventbridge"] as const) {
      expect(encodeMessage(record, { format }).bytes).toBeGreaterThanOrEqual(utf8(record));
    }
  });
});
