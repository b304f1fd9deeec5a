import { gzipSync } from "node:zlib";
import { DecodeError, type SourceObject, type TrailRecord } from "@trailrouter/core";
import { CloudTrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { describe, expect, it } from "vitest";

const location = { bucket: "trail-bucket", key: "AWSLogs/123456789012/CloudTrail/us-east-1/file.json.gz" };
const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const object = (body: Uint8Array | string): SourceObject => ({
  ...location,
  body: typeof body === "string" ? bytes(body) : body,
});
const concat = (...parts: (Uint8Array | string)[]) =>
  Buffer.concat(parts.map((part) => (typeof part === "string" ? bytes(part) : part)));

interface Outcome {
  records: TrailRecord[];
  error?: DecodeError;
}

/** What decoding gives: the records yielded, then the DecodeError if there is one. */
async function decode(decoder: CloudTrailDecoder, body: Uint8Array | string): Promise<Outcome> {
  const records: TrailRecord[] = [];
  try {
    for await (const record of decoder.decode(object(body))) records.push(record);
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return { records, error: error as DecodeError };
  }
  return { records };
}

const BYTE_ORDER_MARK = bytes("\uFEFF");

/**
 * Plain and gzipped, in chunks of 64 bytes cut at each of the `shifts` first offsets (all of them
 * by default): whitespace at the start (after a byte order mark) moves every chunk boundary.
 */
async function decodeEveryWay(text: string | Uint8Array, shifts = 64): Promise<Outcome[]> {
  const body = typeof text === "string" ? bytes(text) : text;
  const mark = Buffer.from(body.subarray(0, 3)).equals(BYTE_ORDER_MARK) ? 3 : 0;
  const outcomes: Outcome[] = [];
  const decoder = new CloudTrailDecoder({ chunkSize: 64 });
  for (let shift = 0; shift < shifts; shift++) {
    const shifted = concat(body.subarray(0, mark), " ".repeat(shift), body.subarray(mark));
    outcomes.push(await decode(decoder, shifted));
  }
  outcomes.push(await decode(new CloudTrailDecoder(), body));
  outcomes.push(await decode(new CloudTrailDecoder(), gzipSync(body)));
  outcomes.push(await decode(decoder, gzipSync(body)));
  return outcomes;
}

async function expectRecords(text: string | Uint8Array, expected: unknown[]): Promise<void> {
  for (const outcome of await decodeEveryWay(text)) {
    expect(outcome.error).toBeUndefined();
    expect(outcome.records).toEqual(expected);
  }
}

async function expectError(
  text: string | Uint8Array,
  code: string,
  context: Record<string, unknown> = {},
  shifts?: number,
): Promise<DecodeError> {
  const outcomes = await decodeEveryWay(text, shifts);
  for (const outcome of outcomes) {
    expect(outcome.error?.code).toBe(code);
    expect(outcome.error?.context).toEqual({ ...location, ...context });
  }
  return outcomes[0]!.error!;
}

/** A deterministic stream of bytes (xorshift32). */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state & 0xff;
  }
  return out;
}

const record = { eventID: "1", eventName: "CreateUser", requestParameters: { userName: "bob" } };
const log = (records: unknown[]) => JSON.stringify({ Records: records });

describe("hostile input: nesting", () => {
  const levels = 100_000;
  const shifts = 3;

  it("refuses a record nested 100,000 arrays deep as not an object", async () => {
    const deep = `${"[".repeat(levels)}${"]".repeat(levels)}`;
    const error = await expectError(`{"Records":[${deep}]}`, "RecordNotObject", { index: 0 }, shifts);
    expect(error.message).toContain("Records[0] is an array");
  });

  it("refuses 100,000 unclosed arrays as invalid JSON, at the top or in Records", async () => {
    const open = "[".repeat(levels);
    await expectError(open, "InvalidJson", {}, shifts);
    await expectError(`{"Records":${open}`, "InvalidJson", { index: 0 }, shifts);
    await expectError(`{"Records":[{"a":${open}`, "InvalidJson", { index: 0 }, shifts);
  });

  it("refuses a document that is 100,000 nested arrays as no log", async () => {
    await expectError(`${"[".repeat(levels)}${"]".repeat(levels)}`, "MissingRecords", {}, shifts);
  });

  it("decodes a record holding objects 100,000 deep", async () => {
    const text = `{"Records":[{"eventID":"deep","a":${'{"a":'.repeat(levels)}1${"}".repeat(levels + 1)}]}`;
    const { records, error } = await decode(new CloudTrailDecoder(), gzipSync(text));
    expect(error).toBeUndefined();
    expect(records).toHaveLength(1);
    let depth = 0;
    for (let node = records[0] as unknown; typeof node === "object"; node = (node as { a: unknown }).a)
      depth++;
    expect(depth).toBe(levels + 1);
  });
});

describe("hostile input: shapes that are not a log", () => {
  it.each([
    ["a string", '"CreateUser"', "a string"],
    ["a number", "12.5e3", "a number"],
    ["null", "null", "null"],
    ["true", "true", "a boolean"],
    ["an array", "[{}]", "an array"],
  ])("refuses a record that is %s, after the records before it", async (_name, json, described) => {
    const text = `{"Records":[${JSON.stringify(record)},${json},${JSON.stringify(record)}]}`;
    for (const outcome of await decodeEveryWay(text)) {
      expect(outcome.records).toEqual([record]);
      expect(outcome.error?.code).toBe("RecordNotObject");
      expect(outcome.error?.context).toEqual({ ...location, index: 1 });
      expect(outcome.error?.message).toContain(`Records[1] is ${described}, not an object`);
    }
  });

  it.each([
    ["an object", '{"0":{"eventID":"1"}}'],
    ["a string", '"[]"'],
    ["a number", "0"],
    ["null", "null"],
  ])("refuses Records that is %s", async (_name, json) => {
    await expectError(`{"Records":${json}}`, "RecordsNotArray");
    await expectError(`{"a":[1,{"b":"}"}],"Records":${json},"z":{}}`, "RecordsNotArray");
  });

  it("refuses a second Records field, after the records of the first and none of its own", async () => {
    const first = JSON.stringify(record);
    for (const second of ["[]", `[${first},${first}]`, "{}"]) {
      for (const outcome of await decodeEveryWay(`{"Records":[${first}],"Records":${second}}`)) {
        expect(outcome.records).toEqual([record]);
        expect(outcome.error?.code).toBe("DuplicateRecords");
      }
    }
    await expectError(`{"Records":[],"Records":[{},{"a":}]}`, "InvalidJson", { index: 1 });
  });

  it("refuses a document without Records at the top, even with Records deeper down", async () => {
    await expectError(`{"logs":{"Records":[${JSON.stringify(record)}]}}`, "MissingRecords");
    await expectError(`[{"Records":[]}]`, "MissingRecords");
    await expectError(`"{\\"Records\\":[]}"`, "MissingRecords");
  });
});

describe("hostile input: bytes", () => {
  it("refuses 1 MiB of random bytes, plain, gzipped, or posing as gzip", async () => {
    const random = pseudoRandomBytes(1024 * 1024, 0x5eed);
    const decoder = new CloudTrailDecoder();
    expect((await decode(decoder, random)).error?.code).toBe("InvalidJson");
    expect((await decode(decoder, gzipSync(random))).error?.code).toBe("InvalidJson");
    const posing = concat(new Uint8Array([0x1f, 0x8b]), random);
    expect((await decode(decoder, posing)).error?.code).toBe("CorruptGzip");
  });

  it.each([
    ["a lone continuation byte", [0x80]],
    ["a byte that never starts a character", [0xff]],
    ["an overlong encoding of '/'", [0xc0, 0xaf]],
    ["a UTF-16 surrogate", [0xed, 0xa0, 0x80]],
    ["a character cut short", [0xe2, 0x82]],
    ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
  ])("refuses %s inside a string", async (_name, bad) => {
    const text = concat(`{"Records":[{"eventID":"1","userName":"a`, new Uint8Array(bad), `b"}]}`);
    await expectError(text, "InvalidJson");
  });

  it("refuses a character cut short at the very end", async () => {
    await expectError(concat(`{"Records":[]}`, new Uint8Array([0xe2, 0x82])), "InvalidJson");
  });

  it("decodes characters of every length, wherever chunks cut them", async () => {
    const records = [{ eventID: "é€😀", userName: "ü\u2028\uFEFF 中文 𝄞" }];
    await expectRecords(log(records), records);
  });

  it("refuses an empty body", async () => {
    await expectError("", "InvalidJson");
    await expectError(" \n\t", "InvalidJson");
    await expectError("\uFEFF", "InvalidJson");
  });

  it("decodes a byte order mark only at the very start", async () => {
    await expectRecords(`\uFEFF${log([record])}`, [record]);
    await expectError(` \uFEFF${log([record])}`, "InvalidJson");
    await expectError(`\uFEFF\uFEFF${log([record])}`, "InvalidJson");
    await expectRecords(log([{ eventID: "\uFEFF" }]), [{ eventID: "\uFEFF" }]);
  });
});

describe("hostile input: gzip", () => {
  it("refuses a gzip bomb, whether its text is JSON or not", async () => {
    // 256 gzip members of 4 MiB each: 1 GiB of text from a body of about 1 MiB.
    const cap = 8 * 1024 * 1024;
    const capped = new CloudTrailDecoder({ maxDecompressedBytes: cap });
    for (const filler of [" ", "\0"]) {
      const member = gzipSync(Buffer.alloc(4 * 1024 * 1024, filler), { level: 9 });
      const bomb = concat(gzipSync('{"Records":['), ...Array.from({ length: 256 }, () => member));
      expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
      const { error } = await decode(capped, bomb);
      expect(error?.code).toBe("DecompressedTooLarge");
      expect(error?.context).toEqual({ ...location, maxDecompressedBytes: cap });
    }
  });

  it("stops decompressing at the cap: yields the records within it and no more", async () => {
    // Records of exactly 32 bytes, repeated far past the cap.
    const one = '{"eventID":"x","eventName":"A"},';
    expect(one).toHaveLength(32);
    const member = gzipSync(one.repeat(32 * 1024));
    const body = concat(gzipSync('{"Records":['), ...Array.from({ length: 64 }, () => member));
    const cap = 3 * 1024 * 1024;
    const { records, error } = await decode(new CloudTrailDecoder({ maxDecompressedBytes: cap }), body);
    expect(error?.code).toBe("DecompressedTooLarge");
    expect(records.length).toBeLessThanOrEqual(cap / 32);
    expect(records.length).toBeGreaterThan((cap - 2 * 64 * 1024) / 32);
  });

  it("refuses a gzip stream cut anywhere", async () => {
    const gzip = gzipSync(log(Array.from({ length: 200 }, (_, i) => ({ ...record, eventID: `${i}` }))));
    const decoder = new CloudTrailDecoder({ chunkSize: 256 });
    for (let length = 10; length < gzip.length; length += 37) {
      const { records, error } = await decode(decoder, gzip.subarray(0, length));
      expect(error?.code).toBe("CorruptGzip");
      expect(records.map((r) => r.eventID)).toEqual(records.map((_, i) => `${i}`));
    }
  });

  it("refuses a flipped byte in the compressed data as corrupt gzip, not as bad JSON", async () => {
    const gzip = gzipSync(log(Array.from({ length: 50 }, (_, i) => ({ ...record, eventID: `${i}` }))));
    const flipped = Buffer.from(gzip);
    flipped[Math.floor(gzip.length / 2)]! ^= 0xff;
    expect((await decode(new CloudTrailDecoder(), flipped)).error?.code).toBe("CorruptGzip");
  });
});

describe("hostile input: JSON that looks like structure", () => {
  it('decodes {"Records":[]} and an empty file\'s worth of whitespace around it', async () => {
    await expectRecords('{"Records":[]}', []);
    await expectRecords(' \r\n\t{ \r\n\t"Records" \r\n\t: \r\n\t[ \r\n\t] \r\n\t} \r\n\t', []);
  });

  it("decodes whitespace everywhere JSON allows it", async () => {
    const records = [record, { eventID: "2", list: [1, { a: null }], flag: true }];
    await expectRecords(JSON.stringify({ Records: records }, null, "\t"), records);
    await expectRecords(JSON.stringify({ Records: records }, null, 4).replaceAll("\n", "\r\n"), records);
    const spaced = `\n{\n"Records"\n:\n[\n${records.map((r) => JSON.stringify(r, null, 1)).join("\n,\n")}\n]\n}\n`;
    await expectRecords(spaced, records);
  });

  it("refuses whitespace JSON does not allow", async () => {
    await expectError(`{"Records":[${JSON.stringify(record)}\u00a0]}`, "InvalidJson", { index: 0 });
    await expectError(`{"Records":[]}\u000b`, "InvalidJson");
  });

  it("decodes a Records key inside records and inside other fields, in any order", async () => {
    const records = [
      { eventID: "1", Records: [1, 2, { Records: "x" }] },
      { eventID: "2", requestParameters: { Records: { Records: [] } } },
    ];
    await expectRecords(log(records), records);
    const text = `{"before":{"Records":[{"eventID":"no"}]},"Records":${JSON.stringify(records)},"after":["Records",[]]}`;
    await expectRecords(text, records);
  });

  it("decodes keys and strings full of quotes, backslashes, brackets and the words of the format", async () => {
    const records = [
      { 'a"b': 'c"d', "\\": "\\", '\\"': '"\\' },
      { eventID: "]}", eventName: "}]", text: '"Records":[', more: '},{"eventVersion":"1.08",' },
      { eventID: "\\\\\\", path: "C:\\dir\\", quote: '\\"},{\\"', empty: "" },
      { "": "", "]": "[", "{": "}", ",": ":" },
    ];
    await expectRecords(log(records), records);
    await expectRecords(`{"x\\"Records":5,"Records":${JSON.stringify(records)},"y":"\\"}"}`, records);
  });

  it("reads an escaped Records key as Records", async () => {
    await expectRecords(`{"Rec\\u006frds":[${JSON.stringify(record)}]}`, [record]);
    await expectError(`{"Rec\\u006frds":{}}`, "RecordsNotArray");
  });

  it("decodes records whose end is easy to mistake", async () => {
    // The next record starts like this one, right after `},`, inside a string and inside a record.
    const records = [
      { eventVersion: "1", note: '},{"eventVersion":"2"}' },
      { eventVersion: "3", nested: [{ eventVersion: "4" }, { eventVersion: "5" }] },
      { eventVersion: "6" },
      { other: 1 },
      { eventVersion: "7" },
    ];
    await expectRecords(log(records), records);
  });

  it("decodes a record far larger than a chunk, full of escapes", async () => {
    const big = { eventID: "big", text: '\\"}]{['.repeat(100_000), after: "x" };
    const records = [record, big, record];
    for (const chunkSize of [64, 4096]) {
      const decoder = new CloudTrailDecoder({ chunkSize });
      expect((await decode(decoder, log(records))).records).toEqual(records);
      expect((await decode(decoder, gzipSync(log(records)))).records).toEqual(records);
    }
  });

  it("decodes many tiny records and records that do not look alike", async () => {
    const tiny = Array.from({ length: 50_000 }, (_, i) => (i % 3 === 0 ? {} : { [`k${i % 7}`]: i }));
    const { records, error } = await decode(new CloudTrailDecoder(), gzipSync(log(tiny)));
    expect(error).toBeUndefined();
    expect(records).toEqual(tiny);
  });

  it.each([
    ["a missing comma between records", `{"Records":[{"a":1} {"b":2}]}`, { index: 0 }],
    ["a comma after the last record", `{"Records":[{"a":1},]}`, { index: 1 }],
    ["two commas", `{"Records":[{"a":1},,{"b":2}]}`, { index: 1 }],
    ["a record with an unquoted key", `{"Records":[{"a":1},{b:2}]}`, { index: 1 }],
    ["a record with a raw newline in a string", `{"Records":[{"a":"x\ny"}]}`, { index: 0 }],
    ["mismatched brackets", `{"Records":[{"a":[1}]}]}`, { index: 0 }],
    ["a missing colon", `{"Records" [{"a":1}]}`, {}],
    ["an unquoted top-level key", `{Records:[]}`, {}],
    ["trailing garbage", `{"Records":[]}x`, {}],
    ["bad JSON in another field", `{"Records":[{"a":1}],"z":tru}`, {}],
    ["a bad literal at the top", `nul`, {}],
    ["a string never closed", `{"Records":[{"a":"\\"}]}`, { index: 0 }],
  ])("refuses %s as invalid JSON", async (_name, text, context) => {
    await expectError(text, "InvalidJson", context);
  });

  it("prefers invalid JSON anywhere to a record that is not an object", async () => {
    await expectError(`{"Records":[5,{"a":1}],"z":}`, "InvalidJson");
    await expectError(`{"Records":{},"z":[}`, "InvalidJson");
    await expectError(`[1,2}`, "InvalidJson");
  });
});

describe("hostile input, records skipped by a prefilter", () => {
  /** Records yielded and skipped with `mayMatch`, in chunks of 64 bytes at every offset, and whole. */
  async function decodeFiltered(
    text: string,
    mayMatch: (json: string) => boolean,
    decoderOptions: { strict?: boolean } = {},
  ): Promise<(Outcome & { skipped: number })[]> {
    const outcomes: (Outcome & { skipped: number })[] = [];
    const decoders = [
      ...Array.from(
        { length: 64 },
        (_, shift) => [new CloudTrailDecoder({ chunkSize: 64, ...decoderOptions }), shift] as const,
      ),
      [new CloudTrailDecoder(decoderOptions), 0] as const,
    ];
    for (const [decoder, shift] of decoders) {
      let skipped = 0;
      const records: TrailRecord[] = [];
      const options = { mayMatch, skipped: () => void skipped++ };
      try {
        for await (const record of decoder.decode(object(`${" ".repeat(shift)}${text}`), options))
          records.push(record);
        outcomes.push({ records, skipped });
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
        outcomes.push({ records, skipped, error: error as DecodeError });
      }
    }
    return outcomes;
  }

  it("cuts records whose end is easy to mistake exactly, skipped or not", async () => {
    const records = [
      { eventVersion: "1", note: '},{"eventVersion":"2"}' },
      { eventVersion: "3", nested: [{ eventVersion: "4" }, { eventVersion: "5" }], keep: true },
      { eventVersion: "6", text: '\\"}]{[' },
      { eventVersion: "6", keep: true },
      { other: 1 },
      { eventVersion: "7", nested: [{ eventVersion: "8", keep: true }, { eventVersion: "9" }] },
      { eventVersion: "10" },
    ];
    const kept = (json: string) => json.includes('"keep"');
    for (const outcome of await decodeFiltered(log(records), kept)) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.records).toEqual(records.filter((r) => kept(JSON.stringify(r))));
      expect(outcome.records.length + outcome.skipped).toBe(records.length);
    }
  });

  it("passes a syntax error inside a skipped record, and fails on it when strict", async () => {
    const text = `{"Records":[${JSON.stringify(record)},{"eventName":"Other","n":01,"t":tru},${JSON.stringify(record)}]}`;
    const mayMatch = (json: string) => json.includes('"CreateUser"');
    for (const outcome of await decodeFiltered(text, mayMatch)) {
      expect(outcome.error).toBeUndefined();
      expect(outcome).toMatchObject({ records: [record, record], skipped: 1 });
    }
    for (const outcome of await decodeFiltered(text, mayMatch, { strict: true })) {
      expect(outcome.error?.code).toBe("InvalidJson");
      expect(outcome.error?.context).toEqual({ ...location, index: 1 });
      expect(outcome.skipped).toBe(0);
    }
  });

  it("refuses a skipped record whose string or brackets do not close", async () => {
    const never = () => false;
    for (const text of [
      `{"Records":[{"eventName":"Other","t":"open}]}`,
      `{"Records":[{"eventName":"Other","t":{"a":1}]}`,
      `{"Records":[{"eventName":"Other"}}]}`,
      `{"Records":[{"eventName":"Other"}`,
    ]) {
      for (const outcome of await decodeFiltered(text, never)) {
        expect(outcome.error?.code, text).toBe("InvalidJson");
      }
    }
  });

  it("still parses records that are not objects, and refuses them", async () => {
    for (const outcome of await decodeFiltered(
      `{"Records":[${JSON.stringify(record)},[1],"x"]}`,
      () => false,
    )) {
      expect(outcome.error?.code).toBe("RecordNotObject");
      expect(outcome.error?.context).toEqual({ ...location, index: 1 });
    }
  });
});
