/**
 * The CloudTrail log file decoder: gzip (detected by its magic bytes) or plain JSON holding
 * `{"Records": [...]}`. The file is decompressed, decoded and scanned a chunk at a time, and each
 * record is yielded as soon as its text is complete: memory holds the chunk being read, the next
 * one being decompressed and the record being cut, whatever the size of the file. (A value outside
 * Records, which a log does not have, is held whole while it is checked.)
 *
 * A bad file throws a DecodeError once its first records may already have been yielded. The
 * error is the one a whole-file decode would give: a fault of the gzip stream or the size cap
 * anywhere in the file wins over bad JSON, which wins over JSON that is not a log.
 *
 * Given `mayMatch` (the router's prefilter), a record whose text fails it is skipped without
 * being parsed, unless `strict`: its brackets and strings are still checked, its other syntax
 * is not, so a syntax error inside such a record does not fail the file.
 */
import { constants } from "node:buffer";
import { createGunzip, gunzipSync } from "node:zlib";
import {
  type ConfigOf,
  DecodeError,
  type DecodeOptions,
  type Decoder,
  definePlugin,
  PluginError,
  type SourceObject,
  type TrailRecord,
  Type,
} from "@trailrouter/core";
import { RecordsScanner, type ScannedObject } from "./records-scanner.js";
import { Utf8Chunks } from "./utf8-chunks.js";

/**
 * The largest text a JSON log can be: a string of more UTF-16 units than this cannot exist, and
 * a UTF-8 text never has more units than bytes.
 */
export const MAX_DECOMPRESSED_BYTES_LIMIT = constants.MAX_STRING_LENGTH;

/** The decoder plugin's options; CloudTrailDecoder's defaults for them are these too. */
const cloudtrailDecoderSchema = Type.Object(
  {
    maxDecompressedBytes: Type.Integer({
      minimum: 1,
      maximum: MAX_DECOMPRESSED_BYTES_LIMIT,
      default: 256 * 1024 * 1024,
      description: "Refuse a log file whose JSON is larger than this many bytes once gunzipped (a gzip bomb)",
    }),
    strict: Type.Boolean({
      default: false,
      description:
        "Parse every record, so that a syntax error anywhere in a log file fails it. By default a record that no route can match (none of the literal values the routes' event patterns require appears in its text) is only checked for brackets and strings, not parsed",
    }),
  },
  { additionalProperties: false },
);

/** The `cloudtrail` decoder's options, as its `create` gets them (defaults filled in). */
export type CloudTrailDecoderConfig = ConfigOf<typeof cloudtrailDecoderSchema>;

/** The schema's default of `maxDecompressedBytes`: 256 MiB. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES: number =
  cloudtrailDecoderSchema.properties.maxDecompressedBytes.default;

export const DEFAULT_CHUNK_SIZE = 64 * 1024;

/**
 * A gzip body whose JSON is at most this many bytes is gunzipped at once rather than streamed
 * (about a millisecond of the event loop's time).
 */
export const SYNC_GUNZIP_MAX_BYTES = 1024 * 1024;

/** zlib's smallest output chunk. */
export const MIN_CHUNK_SIZE = 64;

/** Each option unset: its default (the plugin schema's, for those the plugin takes). */
export interface CloudTrailDecoderOptions {
  /** Refuse an object whose JSON text is larger than this many bytes (after gunzip). */
  maxDecompressedBytes?: number;
  /** Bytes of JSON text decompressed and scanned at a time. */
  chunkSize?: number;
  /** A gzip body whose JSON is announced at most this long is gunzipped at once; 0 streams every body. */
  syncGunzipMaxBytes?: number;
  /**
   * Parse every record, even those the caller's `mayMatch` rules out, so that a syntax error
   * anywhere fails the file. Otherwise such records are only cut out (brackets and strings
   * checked) and skipped.
   */
  strict?: boolean;
}

/** The errors that come from the bytes themselves rather than from the JSON they hold. */
const BYTE_ERRORS = new Set(["CorruptGzip", "DecompressedTooLarge"]);

export class CloudTrailDecoder implements Decoder {
  readonly maxDecompressedBytes: number;
  readonly chunkSize: number;
  readonly strict: boolean;
  readonly syncGunzipMaxBytes: number;

  constructor(options: CloudTrailDecoderOptions = {}) {
    const max =
      options.maxDecompressedBytes ??
      (cloudtrailDecoderSchema.properties.maxDecompressedBytes.default as number);
    if (!Number.isInteger(max) || max < 1 || max > MAX_DECOMPRESSED_BYTES_LIMIT) {
      throw new PluginError(
        "InvalidPluginOptions",
        `maxDecompressedBytes must be an integer from 1 to ${MAX_DECOMPRESSED_BYTES_LIMIT}, got ${max}`,
        { type: "cloudtrail" },
      );
    }
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE) {
      throw new PluginError(
        "InvalidPluginOptions",
        `chunkSize must be an integer of at least ${MIN_CHUNK_SIZE}, got ${chunkSize}`,
        { type: "cloudtrail" },
      );
    }
    this.maxDecompressedBytes = max;
    this.chunkSize = chunkSize;
    this.strict = options.strict ?? (cloudtrailDecoderSchema.properties.strict.default as boolean);
    this.syncGunzipMaxBytes = options.syncGunzipMaxBytes ?? SYNC_GUNZIP_MAX_BYTES;
  }

  /**
   * The records of the object, each as soon as it is read; a DecodeError (with bucket and key)
   * for a bad file. Unless `strict`, records whose text fails `options.mayMatch` are skipped
   * unparsed and reported to `options.skipped`.
   */
  async *decode(object: SourceObject, options: DecodeOptions = {}): AsyncGenerator<TrailRecord> {
    const scanned: ScannedObject = {
      where: `s3://${object.bucket}/${object.key}`,
      context: { bucket: object.bucket, key: object.key },
    };
    const chunks = this.chunks(object.body, scanned);
    const text = new Utf8Chunks();
    const scanner = new RecordsScanner(scanned, this.strict ? {} : options);
    try {
      for (let chunk = await chunks.next(); !chunk.done; chunk = await chunks.next()) {
        const bytes = chunk.value;
        scanner.push(utf8(scanned, () => text.decode(bytes)));
        for (let record = scanner.next(); record !== undefined; record = scanner.next()) yield record;
      }
      utf8(scanned, () => text.end());
      scanner.end();
    } catch (error) {
      // A fault in the rest of the bytes outranks what the text showed so far.
      if (!(error instanceof DecodeError && BYTE_ERRORS.has(error.code))) await drain(chunks);
      throw error;
    } finally {
      await chunks.return();
    }
  }

  /** The JSON text's bytes, `chunkSize` at a time; a DecodeError past the size cap or for bad gzip. */
  private async *chunks(body: Uint8Array, scanned: ScannedObject): AsyncGenerator<Uint8Array, void> {
    const { chunkSize } = this;
    if (!isGzip(body)) {
      if (body.byteLength > this.maxDecompressedBytes)
        throw this.tooLarge(scanned, `is ${body.byteLength} bytes`);
      for (let start = 0; start < body.byteLength; start += chunkSize) {
        yield body.subarray(start, start + chunkSize);
      }
      return;
    }
    const small = this.gunzipSmall(body, scanned);
    if (small !== undefined) {
      for (let start = 0; start < small.byteLength; start += chunkSize) {
        yield small.subarray(start, start + chunkSize);
      }
      return;
    }
    const gunzip = createGunzip({ chunkSize });
    gunzip.end(body);
    let decompressed = 0;
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        decompressed += chunk.byteLength;
        if (decompressed > this.maxDecompressedBytes) {
          throw this.tooLarge(scanned, `decompresses to more than ${this.maxDecompressedBytes} bytes`);
        }
        yield chunk;
      }
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      throw corruptGzip(scanned, error);
    }
  }

  /**
   * Most log files are small: one synchronous gunzip costs less than a stream's round trips to
   * the thread pool. Only for a body whose trailer announces JSON of at most syncGunzipMaxBytes;
   * the output is capped there, so a trailer that lies cannot make it grow. Undefined, to stream
   * instead, for anything larger.
   */
  private gunzipSmall(body: Uint8Array, scanned: ScannedObject): Buffer | undefined {
    const limit = Math.min(this.syncGunzipMaxBytes, this.maxDecompressedBytes);
    if (limit === 0 || announcedSize(body) > limit) return undefined;
    try {
      return gunzipSync(body, { maxOutputLength: limit });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ERR_BUFFER_TOO_LARGE") {
        throw corruptGzip(scanned, error);
      }
      if (limit === this.maxDecompressedBytes) {
        throw this.tooLarge(scanned, `decompresses to more than ${this.maxDecompressedBytes} bytes`);
      }
      return undefined;
    }
  }

  private tooLarge(scanned: ScannedObject, what: string): DecodeError {
    return new DecodeError(
      "DecompressedTooLarge",
      `${scanned.where} ${what}, over the limit of ${this.maxDecompressedBytes}`,
      { ...scanned.context, maxDecompressedBytes: this.maxDecompressedBytes },
    );
  }
}

function corruptGzip(scanned: ScannedObject, error: unknown): DecodeError {
  return new DecodeError(
    "CorruptGzip",
    `${scanned.where} is not a valid gzip stream: ${(error as Error).message}`,
    { ...scanned.context },
    { cause: error },
  );
}

/** Runs a step of UTF-8 decoding: bytes that are not UTF-8 make the file invalid JSON. */
function utf8<T>(scanned: ScannedObject, step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw new DecodeError(
      "InvalidJson",
      `${scanned.where} is not valid UTF-8 JSON: ${(error as Error).message}`,
      { ...scanned.context },
      { cause: error },
    );
  }
}

/** Reads the rest of the chunks, for the errors they may throw. */
async function drain(chunks: AsyncGenerator<Uint8Array, void>): Promise<void> {
  let chunk = await chunks.next();
  while (!chunk.done) chunk = await chunks.next();
}

/** The JSON length a gzip trailer announces (its last 4 bytes: the size modulo 2^32). */
function announcedSize(body: Uint8Array): number {
  if (body.byteLength < 18) return 0;
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32LE(body.byteLength - 4);
}

function isGzip(body: Uint8Array): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/** `decoder: { type: cloudtrail }` */
export const cloudtrailDecoder = definePlugin({
  kind: "decoder",
  type: "cloudtrail",
  description: "Decodes CloudTrail log files (gzip or plain JSON) into their records",
  schema: cloudtrailDecoderSchema,
  create: (config) =>
    new CloudTrailDecoder({ maxDecompressedBytes: config.maxDecompressedBytes, strict: config.strict }),
});
