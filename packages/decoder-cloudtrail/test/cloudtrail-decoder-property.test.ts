/**
 * The streaming decoder against a whole-file decode (gunzip everything, JSON.parse everything,
 * then check the shape), on generated files, good and broken: same records, same errors.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { DecodeError, type SourceObject, type TrailRecord } from "@trailrouter/core";
import { CloudTrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { loadSampleRecords } from "@trailrouter/local-aws";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const location = { bucket: "trail-bucket", key: "AWSLogs/123456789012/CloudTrail/us-east-1/file.json.gz" };

/** The records, or the error's code and context (and, for a record not an object, all records). */
type Outcome =
  | { records: unknown[]; code?: undefined }
  | { code: string; context: object; records?: unknown[] };

/** The whole-file decode: the reference for every answer of the streaming one. */
function decodeWhole(body: Uint8Array, maxDecompressedBytes: number): Outcome {
  let bytes = body;
  if (body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b) {
    try {
      bytes = gunzipSync(body, { maxOutputLength: maxDecompressedBytes });
    } catch (error) {
      const tooLarge = (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
      return tooLarge
        ? { code: "DecompressedTooLarge", context: { ...location, maxDecompressedBytes } }
        : { code: "CorruptGzip", context: location };
    }
  }
  if (bytes.length > maxDecompressedBytes) {
    return { code: "DecompressedTooLarge", context: { ...location, maxDecompressedBytes } };
  }
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { code: "InvalidJson", context: location };
  }
  if (
    typeof document !== "object" ||
    document === null ||
    Array.isArray(document) ||
    !("Records" in document)
  ) {
    return { code: "MissingRecords", context: location };
  }
  const records = (document as { Records: unknown }).Records;
  if (!Array.isArray(records)) return { code: "RecordsNotArray", context: location };
  const index = records.findIndex((r) => typeof r !== "object" || r === null || Array.isArray(r));
  if (index !== -1) return { code: "RecordNotObject", context: { ...location, index }, records };
  return { records };
}

async function decodeStreaming(decoder: CloudTrailDecoder, body: Uint8Array) {
  const records: TrailRecord[] = [];
  const source: SourceObject = { ...location, body };
  try {
    for await (const record of decoder.decode(source)) records.push(record);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return { records, error: error as DecodeError };
  }
  return { records, error: undefined };
}

const samples = loadSampleRecords();
const key = fc.string({ unit: "binary", maxLength: 12 }).filter((k) => k !== "Records");
const value = fc.jsonValue({ maxDepth: 3, stringUnit: "binary" });
/** Strings that look like the structure the scanner looks for. */
const tricky = fc.constantFrom(
  "]",
  "}",
  "},{",
  '"',
  "\\",
  '\\"',
  '"Records":[',
  '},{"eventVersion":',
  "\uFEFF",
);
const record = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...samples) },
  { weight: 3, arbitrary: fc.dictionary(key, value, { maxKeys: 6 }) },
  {
    weight: 2,
    arbitrary: fc.record({
      eventVersion: fc.oneof(tricky, fc.string()),
      note: fc.array(tricky, { maxLength: 4 }).map((parts) => parts.join("")),
      nested: fc.array(fc.record({ eventVersion: tricky }), { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: value },
);
/** What the Records field holds: usually records, sometimes not an array at all. */
const recordsField = fc.oneof(
  { weight: 12, arbitrary: fc.array(record, { maxLength: 12 }) },
  { weight: 1, arbitrary: value },
);
const document = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .tuple(fc.dictionary(key, value, { maxKeys: 3 }), recordsField, fc.nat(3), fc.nat(9))
      .map(([others, records, at, draw]) => {
        const entries = Object.entries(others);
        // One document in ten has no Records.
        if (draw > 0) entries.splice(Math.min(at, entries.length), 0, ["Records", records]);
        return Object.fromEntries(entries);
      }),
  },
  { weight: 1, arbitrary: value },
);
const whitespace = fc.string({ unit: fc.constantFrom(" ", "\t", "\n", "\r"), maxLength: 3 });
const text = fc
  .tuple(document, fc.constantFrom(undefined, 1, "\t", " \r\n"), whitespace, whitespace, fc.boolean())
  .map(([doc, indent, before, after, mark]) => {
    const json = `${before}${JSON.stringify(doc, null, indent)}${after}`;
    return Buffer.from(mark ? `\uFEFF${json}` : json);
  });

/** Damage to the bytes, plain or gzipped: none most of the time. */
type Damage =
  | { kind: "none" }
  | { kind: "truncate" | "delete"; at: number }
  | { kind: "replace" | "insert"; at: number; byte: number };
const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constantFrom("truncate" as const, "delete" as const), at: fc.nat() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom("replace" as const, "insert" as const),
      at: fc.nat(),
      byte: fc.oneof(fc.constantFrom(0x22, 0x5c, 0x2c, 0x5d, 0x7d, 0x20, 0x80, 0xff), fc.nat(255)),
    }),
  },
);

function damaged(bytes: Uint8Array, change: Damage): Uint8Array {
  if (change.kind === "none" || bytes.length === 0) return bytes;
  const at = change.at % bytes.length;
  const copy = Buffer.from(bytes);
  switch (change.kind) {
    case "truncate":
      return copy.subarray(0, at);
    case "delete":
      return Buffer.concat([copy.subarray(0, at), copy.subarray(at + 1)]);
    case "replace":
      copy[at] = change.byte;
      return copy;
    case "insert":
      return Buffer.concat([copy.subarray(0, at), Buffer.from([change.byte]), copy.subarray(at)]);
  }
}

const encoding = fc.record({
  gzip: fc.boolean(),
  damageGzip: fc.boolean(),
  damage,
  chunkSize: fc.oneof(fc.integer({ min: 64, max: 300 }), fc.constant(64 * 1024)),
  /** Small gzip bodies are gunzipped at once by default; 0 streams them as large ones are. */
  syncGunzipMaxBytes: fc.constantFrom(undefined, 0),
  /** The cap relative to the text's size, for undamaged files. */
  cap: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, fc.constantFrom(-1, 0, 1)),
});

describe("the streaming decoder and a whole-file decode", () => {
  it("give the same records and the same errors", async () => {
    await fc.assert(
      fc.asyncProperty(text, encoding, async (json, how) => {
        const plain = how.gzip && how.damageGzip ? json : damaged(json, how.damage);
        const body = !how.gzip
          ? plain
          : how.damageGzip
            ? damaged(gzipSync(json), how.damage)
            : gzipSync(plain);
        // A cap close to the size only for undamaged files: whether a broken gzip stream reaches
        // the cap before its fault shows depends on how much each read decompresses.
        const cap =
          how.cap === undefined || how.damage.kind !== "none" ? 1 << 20 : Math.max(1, plain.length + how.cap);

        const expected = decodeWhole(body, cap);
        const decoder = new CloudTrailDecoder({
          maxDecompressedBytes: cap,
          chunkSize: how.chunkSize,
          syncGunzipMaxBytes: how.syncGunzipMaxBytes,
        });
        const actual = await decodeStreaming(decoder, body);
        if (expected.code === undefined) {
          expect(actual.error).toBeUndefined();
          expect(actual.records).toEqual(expected.records);
          return;
        }
        expect(actual.error?.code).toBe(expected.code);
        expect(actual.error?.context).toMatchObject(expected.context);
        if (expected.code === "RecordNotObject") {
          const index = (expected.context as { index: number }).index;
          expect(actual.records).toEqual(expected.records?.slice(0, index));
        }
      }),
      { numRuns: 400 },
    );
  });

  it("give the same records when the decoder skips those a prefilter rules out, and count them", async () => {
    // A test on the text that formatting does not change: how many quotes it holds.
    const quotes = (json: string) => json.split('"').length - 1;
    const kept = (json: string) => quotes(json) % 3 !== 0;
    let skipped = 0;
    let yielded = 0;
    await fc.assert(
      fc.asyncProperty(text, encoding, async (json, how) => {
        const body = how.gzip ? gzipSync(json) : json;
        const expected = decodeWhole(body, 1 << 20);
        let skippedHere = 0;
        const records: TrailRecord[] = [];
        let error: unknown;
        const decoder = new CloudTrailDecoder({
          chunkSize: how.chunkSize,
          syncGunzipMaxBytes: how.syncGunzipMaxBytes,
        });
        const options = {
          mayMatch: kept,
          skipped: () => {
            skippedHere++;
          },
        };
        try {
          for await (const record of decoder.decode({ ...location, body }, options)) records.push(record);
        } catch (thrown) {
          error = thrown;
        }
        if (expected.code !== undefined) {
          expect(error).toBeInstanceOf(DecodeError);
          return;
        }
        expect(error).toBeUndefined();
        const objects = expected.records as object[];
        expect(records).toEqual(objects.filter((record) => kept(JSON.stringify(record))));
        expect(records.length + skippedHere).toBe(objects.length);
        skipped += skippedHere;
        yielded += records.length;
      }),
      { numRuns: 400 },
    );
    // Both outcomes are common, so the agreement means something.
    expect(skipped).toBeGreaterThan(200);
    expect(yielded).toBeGreaterThan(200);
  });
});
