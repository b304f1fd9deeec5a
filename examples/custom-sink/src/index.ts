/**
 * A sink plugin in its own package: appends each record as one JSON line to a file.
 *
 *   plugins: ["@trailrouter/example-jsonl-sink"]     # or a path: ./dist/index.js
 *   sinks:
 *     audit: { type: jsonl-file, path: ./audit.jsonl, fields: [eventTime, eventName, userIdentity.arn] }
 */
import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { DeliveryError, definePlugin, type Sink, type TrailRecord } from "@trailrouter/core";

export interface JsonlFileSinkConfig {
  /** The file to append to; a relative path resolves against the pipeline file's directory. */
  path: string;
  /** Keep only these fields (dotted paths); the whole record when absent. */
  fields?: string[];
}

export const jsonlFileSink = definePlugin<"sink", JsonlFileSinkConfig>({
  kind: "sink",
  type: "jsonl-file",
  description: "Appends records to a JSON-lines file",
  schema: {
    type: "object",
    properties: {
      path: { type: "string", minLength: 1 },
      fields: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1, uniqueItems: true },
    },
    required: ["path"],
    additionalProperties: false,
  },
  create(config, context): Sink {
    const file = path.resolve(context.baseDir, config.path);
    const project = config.fields ? pick(config.fields) : (record: TrailRecord) => record;
    let ready: Promise<unknown> | undefined;
    return {
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
