/**
 * The CloudTrail log file decoder: gzip (detected by its magic bytes) or plain JSON holding
 * `{"Records": [...]}`. The whole object is decoded and checked before the first record is
 * yielded, so a bad file yields nothing rather than part of its records.
 */
import { constants } from "node:buffer";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { DecodeError, PluginError } from "../errors.js";
import type { Decoder, SourceObject, TrailRecord } from "../interfaces.js";
import { definePlugin } from "../plugin.js";

export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/**
 * The largest text a JSON log can be: a string of more UTF-16 units than this cannot exist, and
 * a UTF-8 text never has more units than bytes.
 */
export const MAX_DECOMPRESSED_BYTES_LIMIT = constants.MAX_STRING_LENGTH;

const gunzipAsync = promisify(gunzip);
const utf8 = new TextDecoder("utf-8", { fatal: true });

export interface CloudTrailDecoderOptions {
  /** Refuse an object whose JSON text is larger than this many bytes (after gunzip). */
  maxDecompressedBytes?: number;
}

export class CloudTrailDecoder implements Decoder {
  readonly maxDecompressedBytes: number;

  constructor(options: CloudTrailDecoderOptions = {}) {
    const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
    if (!Number.isInteger(max) || max < 1 || max > MAX_DECOMPRESSED_BYTES_LIMIT) {
      throw new PluginError(
        "InvalidPluginOptions",
        `maxDecompressedBytes must be an integer from 1 to ${MAX_DECOMPRESSED_BYTES_LIMIT}, got ${max}`,
        { type: "cloudtrail" },
      );
    }
    this.maxDecompressedBytes = max;
  }

  async *decode(object: SourceObject): AsyncGenerator<TrailRecord> {
    yield* await this.decodeAll(object);
  }

  /** Every record of the object, or a DecodeError (with bucket and key) if any part is bad. */
  async decodeAll(object: SourceObject): Promise<TrailRecord[]> {
    const context = { bucket: object.bucket, key: object.key };
    const where = `s3://${object.bucket}/${object.key}`;
    const bytes = isGzip(object.body) ? await this.gunzip(object.body, where, context) : object.body;
    if (bytes.byteLength > this.maxDecompressedBytes) {
      throw new DecodeError(
        "DecompressedTooLarge",
        `${where} is ${bytes.byteLength} bytes, over the limit of ${this.maxDecompressedBytes}`,
        { ...context, maxDecompressedBytes: this.maxDecompressedBytes },
      );
    }

    let document: unknown;
    try {
      // The decoder drops a leading UTF-8 BOM; JSON.parse skips leading whitespace.
      document = JSON.parse(utf8.decode(bytes));
    } catch (error) {
      throw new DecodeError(
        "InvalidJson",
        `${where} is not valid UTF-8 JSON: ${(error as Error).message}`,
        context,
        {
          cause: error,
        },
      );
    }

    if (
      typeof document !== "object" ||
      document === null ||
      Array.isArray(document) ||
      !("Records" in document)
    ) {
      throw new DecodeError(
        "MissingRecords",
        `${where} is not a CloudTrail log: no "Records" field`,
        context,
      );
    }
    const records = (document as { Records: unknown }).Records;
    if (!Array.isArray(records)) {
      throw new DecodeError(
        "RecordsNotArray",
        `${where}: "Records" is ${describe(records)}, not an array`,
        context,
      );
    }
    records.forEach((record: unknown, index) => {
      if (typeof record !== "object" || record === null || Array.isArray(record)) {
        throw new DecodeError(
          "RecordNotObject",
          `${where}: Records[${index}] is ${describe(record)}, not an object`,
          {
            ...context,
            index,
          },
        );
      }
    });
    return records as TrailRecord[];
  }

  private async gunzip(
    body: Uint8Array,
    where: string,
    context: { bucket: string; key: string },
  ): Promise<Uint8Array> {
    try {
      return await gunzipAsync(body, { maxOutputLength: this.maxDecompressedBytes });
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        throw new DecodeError(
          "DecompressedTooLarge",
          `${where} decompresses to more than ${this.maxDecompressedBytes} bytes`,
          { ...context, maxDecompressedBytes: this.maxDecompressedBytes },
          { cause: error },
        );
      }
      throw new DecodeError(
        "CorruptGzip",
        `${where} is not a valid gzip stream: ${(error as Error).message}`,
        context,
        {
          cause: error,
        },
      );
    }
  }
}

function isGzip(body: Uint8Array): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export interface CloudTrailDecoderConfig {
  maxDecompressedBytes?: number;
}

/** `decoder: { type: cloudtrail }` */
export const cloudtrailDecoder = definePlugin<"decoder", CloudTrailDecoderConfig>({
  kind: "decoder",
  type: "cloudtrail",
  description: "Decodes CloudTrail log files (gzip or plain JSON) into their records",
  schema: {
    type: "object",
    properties: {
      maxDecompressedBytes: {
        type: "integer",
        minimum: 1,
        maximum: MAX_DECOMPRESSED_BYTES_LIMIT,
        default: DEFAULT_MAX_DECOMPRESSED_BYTES,
        description:
          "Refuse a log file whose JSON is larger than this many bytes once gunzipped (a gzip bomb)",
      },
    },
    additionalProperties: false,
  },
  create: (config) => new CloudTrailDecoder({ maxDecompressedBytes: config.maxDecompressedBytes }),
});
