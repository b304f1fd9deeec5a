import { gzipSync } from "node:zlib";
import {
  DEFAULT_DECODER,
  DecodeError,
  PluginError,
  PluginRegistry,
  type SourceObject,
  type TrailRecord,
  withDefaults,
} from "@trailrouter/core";
import {
  CloudTrailDecoder,
  cloudtrailDecoder,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
} from "@trailrouter/decoder-cloudtrail";
import { loadSampleRecords } from "@trailrouter/local-aws";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { MIN_CHUNK_SIZE } from "../src/cloudtrail.js";

const location = {
  bucket: "trail-bucket",
  key: "AWSLogs/123456789012/CloudTrail/us-east-1/2024/08/01/file.json.gz",
};
const object = (body: Uint8Array | string): SourceObject => ({
  ...location,
  body: typeof body === "string" ? new TextEncoder().encode(body) : body,
});
const logFile = (records: unknown[]) => JSON.stringify({ Records: records });
const records: TrailRecord[] = [
  { eventID: "1", eventName: "CreateUser", eventSource: "iam.amazonaws.com" },
  {
    eventID: "2",
    eventName: "DeleteUser",
    eventSource: "iam.amazonaws.com",
    requestParameters: { userName: "ü" },
  },
];

async function collect(decoder: CloudTrailDecoder, source: SourceObject): Promise<TrailRecord[]> {
  const out: TrailRecord[] = [];
  for await (const record of decoder.decode(source)) out.push(record);
  return out;
}

/**
 * Decode, expecting a DecodeError; also checks how many records were yielded before it (records
 * come out as soon as they are read, so a bad file may yield its first ones).
 */
async function decodeError(
  decoder: CloudTrailDecoder,
  source: SourceObject,
  yieldedFirst = 0,
): Promise<DecodeError> {
  let yielded = 0;
  try {
    for await (const _ of decoder.decode(source)) yielded++;
  } catch (error) {
    expect(yielded).toBe(yieldedFirst);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).stage).toBe("decode");
    return error as DecodeError;
  }
  throw new Error(`decoded ${yielded} records without an error`);
}

describe("the cloudtrail decoder: good files", () => {
  const decoder = new CloudTrailDecoder();

  it("decodes a gzip log file", async () => {
    expect(await collect(decoder, object(gzipSync(logFile(records))))).toEqual(records);
  });

  it("decodes a plain JSON log file", async () => {
    expect(await collect(decoder, object(logFile(records)))).toEqual(records);
  });

  it("tolerates a UTF-8 byte order mark and leading whitespace, plain or gzipped", async () => {
    const text = `\uFEFF \n\t${logFile(records)}\n`;
    expect(new TextEncoder().encode(text).subarray(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]));
    expect(await collect(decoder, object(text))).toEqual(records);
    expect(await collect(decoder, object(gzipSync(text)))).toEqual(records);
  });

  it("yields nothing for an empty Records array", async () => {
    expect(await collect(decoder, object(gzipSync(logFile([]))))).toEqual([]);
  });

  it("decodes real CloudTrail records unchanged", async () => {
    const samples = loadSampleRecords();
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(await collect(decoder, object(gzipSync(logFile(samples))))).toEqual(samples);
  });

  it("accepts a file exactly at the size limit", async () => {
    const text = logFile(records);
    const exact = new CloudTrailDecoder({ maxDecompressedBytes: Buffer.byteLength(text) });
    expect(await collect(exact, object(gzipSync(text)))).toEqual(records);
    expect(await collect(exact, object(text))).toEqual(records);
  });
});

describe("the cloudtrail decoder: bad files", () => {
  const decoder = new CloudTrailDecoder();

  it("refuses corrupt gzip", async () => {
    const error = await decodeError(decoder, object(new Uint8Array([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8])));
    expect(error.code).toBe("CorruptGzip");
    expect(error.context).toEqual(location);
    expect(error.message).toContain(`s3://${location.bucket}/${location.key}`);
  });

  it("refuses truncated gzip; streamed, after the records it could read", async () => {
    const gzip = gzipSync(logFile(records));
    const streaming = new CloudTrailDecoder({ syncGunzipMaxBytes: 0 });
    // The last 8 bytes are the checksum and the length: every record is there, then the stream ends early.
    const truncated = object(gzip.subarray(0, gzip.length - 8));
    const error = await decodeError(streaming, truncated, records.length);
    expect(error.code).toBe("CorruptGzip");
    expect(error.context).toEqual(location);
    const header = await decodeError(decoder, object(gzip.subarray(0, 10)));
    expect(header.code).toBe("CorruptGzip");
  });

  it("gunzips a small file at once: damage anywhere fails it before any record", async () => {
    const gzip = gzipSync(logFile(records));
    // A byte of the deflate data changed near its end, the trailer (a small length) kept.
    const damaged = Buffer.from(gzip);
    damaged[gzip.length - 10]! ^= 0xff;
    const error = await decodeError(decoder, object(damaged), 0);
    expect(error.code).toBe("CorruptGzip");
    expect(error.context).toEqual(location);
  });

  it("refuses a gzip bomb over the limit", async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(16 * 1024);
    const capped = new CloudTrailDecoder({ maxDecompressedBytes: 1024 * 1024 });
    const error = await decodeError(capped, object(bomb));
    expect(error.code).toBe("DecompressedTooLarge");
    expect(error.context).toEqual({ ...location, maxDecompressedBytes: 1024 * 1024 });
  });

  it("refuses one byte over the limit, gzipped or plain", async () => {
    const text = logFile(records);
    const capped = new CloudTrailDecoder({ maxDecompressedBytes: Buffer.byteLength(text) - 1 });
    expect((await decodeError(capped, object(gzipSync(text)))).code).toBe("DecompressedTooLarge");
    expect((await decodeError(capped, object(text))).code).toBe("DecompressedTooLarge");
  });

  it.each([
    ["text that is not JSON", "not json"],
    ["an empty object body", ""],
    ["two documents", `${logFile([])}${logFile([])}`],
  ])("refuses %s", async (_name, text) => {
    for (const body of [text, gzipSync(text)]) {
      const error = await decodeError(decoder, object(body));
      expect(error.code).toBe("InvalidJson");
      expect(error.context).toEqual(location);
    }
  });

  it("refuses truncated JSON after the records before the cut, naming the index of the cut one", async () => {
    const text = logFile(records).slice(0, -5);
    for (const body of [text, gzipSync(text)]) {
      const error = await decodeError(decoder, object(body), 1);
      expect(error.code).toBe("InvalidJson");
      expect(error.context).toEqual({ ...location, index: 1 });
      expect(error.message).toContain("Records[1]");
    }
  });

  it("refuses bytes that are not UTF-8", async () => {
    const body = new Uint8Array([
      ...new TextEncoder().encode('{"Records": ["'),
      0xff,
      0xfe,
      ...new TextEncoder().encode('"]}'),
    ]);
    expect((await decodeError(decoder, object(body))).code).toBe("InvalidJson");
  });

  it.each([
    ["an object without Records", "{}", "MissingRecords"],
    ["records under another name", '{"records": []}', "MissingRecords"],
    ["a bare array of records", JSON.stringify(records), "MissingRecords"],
    ["a string", '"Records"', "MissingRecords"],
    ["null", "null", "MissingRecords"],
    ["Records as an object", '{"Records": {}}', "RecordsNotArray"],
    ["Records as null", '{"Records": null}', "RecordsNotArray"],
    ["Records as a string", '{"Records": "[]"}', "RecordsNotArray"],
  ])("refuses %s", async (_name, text, code) => {
    const error = await decodeError(decoder, object(gzipSync(text)));
    expect(error.code).toBe(code);
    expect(error.context).toEqual(location);
  });

  it.each([
    ["a number", [records[0], 5, records[1]], 1],
    ["null", [null, records[0]], 0],
    ["an array", [records[0], records[1], []], 2],
    ["a string", ['{"eventName": "CreateUser"}'], 0],
  ])(
    "refuses a record that is %s, naming its index, after the records before it and none after",
    async (_name, list, index) => {
      const error = await decodeError(decoder, object(gzipSync(logFile(list))), index);
      expect(error.code).toBe("RecordNotObject");
      expect(error.context).toEqual({ ...location, index });
      expect(error.message).toContain(`Records[${index}]`);
    },
  );
});

describe("the cloudtrail decoder plugin", () => {
  it("is the decoder a pipeline gets when its file names none", () => {
    expect(new PluginRegistry([cloudtrailDecoder]).get("decoder", DEFAULT_DECODER.type)).toBe(
      cloudtrailDecoder,
    );
  });

  it("defaults the limit to 256 MiB and takes another", async () => {
    const byDefault = (await cloudtrailDecoder.create(
      withDefaults(cloudtrailDecoder, {}),
      {} as never,
    )) as CloudTrailDecoder;
    expect(byDefault.maxDecompressedBytes).toBe(256 * 1024 * 1024);
    expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBe(256 * 1024 * 1024);
    const capped = (await cloudtrailDecoder.create(
      withDefaults(cloudtrailDecoder, { maxDecompressedBytes: 10 }),
      {} as never,
    )) as CloudTrailDecoder;
    expect(capped.maxDecompressedBytes).toBe(10);
    expect((await decodeError(capped, object(logFile(records)))).code).toBe("DecompressedTooLarge");
  });

  it("validates its options, filling in the default", () => {
    const validate = new Ajv({ useDefaults: true }).compile(cloudtrailDecoder.schema);
    const config: Record<string, unknown> = {};
    expect(validate(config)).toBe(true);
    expect(config.maxDecompressedBytes).toBe(DEFAULT_MAX_DECOMPRESSED_BYTES);
    expect(validate({ maxDecompressedBytes: 1 })).toBe(true);
    expect(validate({ maxDecompressedBytes: 0 })).toBe(false);
    expect(validate({ maxDecompressedBytes: 1.5 })).toBe(false);
    expect(validate({ maxDecompressedBytes: "1MB" })).toBe(false);
    expect(validate({ maxDecompressedBytes: 2 ** 40 })).toBe(false);
    expect(validate({ maxDecompresedBytes: 1 })).toBe(false);
  });

  it("refuses an unusable limit or chunk size when built directly", () => {
    for (const maxDecompressedBytes of [0, -1, 1.5, Number.NaN, 2 ** 40]) {
      expect(() => new CloudTrailDecoder({ maxDecompressedBytes })).toThrow(PluginError);
    }
    for (const chunkSize of [0, 63, 64.5, Number.NaN]) {
      expect(() => new CloudTrailDecoder({ chunkSize })).toThrow(PluginError);
    }
    expect(new CloudTrailDecoder({ chunkSize: MIN_CHUNK_SIZE }).chunkSize).toBe(64);
    expect(new CloudTrailDecoder().chunkSize).toBe(DEFAULT_CHUNK_SIZE);
  });
});

describe("the cloudtrail decoder: streaming", () => {
  const many = Array.from({ length: 2000 }, (_, i) => ({ eventID: `${i}`, eventName: "CreateUser" }));

  it("yields each record as soon as its text is read, before the rest of the file", async () => {
    const decoder = new CloudTrailDecoder({ chunkSize: 1024 });
    // Bytes that are not UTF-8 at the very end: a whole-file decode would yield nothing.
    const text = new TextEncoder().encode(logFile(many));
    const body = new Uint8Array([...text.subarray(0, -2), 0xff, ...text.subarray(-2)]);
    for (const source of [body, gzipSync(body)]) {
      const yielded: TrailRecord[] = [];
      const decoding = (async () => {
        for await (const record of decoder.decode(object(source))) yielded.push(record);
      })();
      await expect(decoding).rejects.toMatchObject({ code: "InvalidJson" });
      // All but the records of the last chunk, which is checked whole before it is read.
      expect(yielded.length).toBeGreaterThan(many.length - 1024 / 30);
      expect(yielded).toEqual(many.slice(0, yielded.length));
    }
  });

  it("can be left after the first record", async () => {
    const decoder = new CloudTrailDecoder({ chunkSize: 1024 });
    const records = decoder.decode(object(gzipSync(logFile(many))));
    const first = await records.next();
    expect(first.value).toEqual(many[0]);
    expect(await records.return(undefined)).toEqual({ done: true, value: undefined });
    expect(await records.next()).toEqual({ done: true, value: undefined });
  });

  it("decodes the same records whatever the chunk size", async () => {
    const body = gzipSync(logFile(loadSampleRecords()));
    const expected = await collect(new CloudTrailDecoder(), object(body));
    for (const chunkSize of [64, 100, 1000, 4096, 1 << 20]) {
      expect(await collect(new CloudTrailDecoder({ chunkSize }), object(body))).toEqual(expected);
    }
  });
});
