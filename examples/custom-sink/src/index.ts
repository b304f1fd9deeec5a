/**
 * A sink plugin in its own package: appends each record as one JSON line to a file.
 *
 *   plugins: ["@trailrouter/example-jsonl-sink"]     # or a path: ./dist/index.js
 *   sinks:
 *     audit: { type: jsonl-file, path: ./audit.jsonl, fields: [eventTime, eventName, userIdentity.arn] }
 */
import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import {
  DeliveryError,
  definePlugin,
  type Sink,
  type Static,
  type TrailRecord,
  Type,
} from "@trailrouter/core";

/** The options of a `jsonl-file` block, each written once: its type, its default, its description. */
export const jsonlFileSchema = Type.Object({
  path: Type.String({
    minLength: 1,
    description: "The file to append to; a relative path resolves against the pipeline file's directory",
  }),
  fields: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      uniqueItems: true,
      description: "Keep only these fields (dotted paths); the whole record when absent",
    }),
  ),
  maxRecordBytes: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        "Refuse, for good (RecordTooLarge), a record whose JSON, before `fields`, is longer than this many bytes",
    }),
  ),
});

export type JsonlFileSinkConfig = Static<typeof jsonlFileSchema>;

export const jsonlFileSink = definePlugin({
  kind: "sink",
  type: "jsonl-file",
  description: "Appends records to a JSON-lines file",
  schema: jsonlFileSchema,
  create(config, context): Sink {
    const file = path.resolve(context.baseDir, config.path);
    const project = config.fields ? pick(config.fields) : (record: TrailRecord) => record;
    let ready: Promise<unknown> | undefined;
    return {
      // The runtime refuses a longer record before calling deliver: a sink written by hand says so.
      ...(config.maxRecordBytes === undefined ? {} : { maxRecordBytes: config.maxRecordBytes }),
      async deliver(records) {
        // One write per call: the lines of a batch land together or not at all.
        const lines = records.map((r) => `${JSON.stringify(project(r))}\n`).join("");
        try {
          ready ??= mkdir(path.dirname(file), { recursive: true });
          await ready;
          await appendFile(file, lines);
          return { delivered: records.length, failed: [] };
        } catch (error) {
          const failure = new DeliveryError(
            "WriteFailed",
            `cannot append to ${file}: ${(error as Error).message}`,
            {
              sink: context.name,
              file,
            },
          );
          return { delivered: 0, failed: records.map((record) => ({ record, error: failure })) };
        }
      },
      async close() {},
    };
  },
});

function pick(fields: string[]): (record: TrailRecord) => Record<string, unknown> {
  const paths = fields.map((f) => f.split("."));
  return (record) => {
    const out: Record<string, unknown> = {};
    for (const [i, segments] of paths.entries()) {
      let value: unknown = record;
      for (const s of segments)
        value = value && typeof value === "object" ? (value as Record<string, unknown>)[s] : undefined;
      if (value !== undefined) out[fields[i]!] = value;
    }
    return out;
  };
}

export default [jsonlFileSink];
