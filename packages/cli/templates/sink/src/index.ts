/**
 * Sink `__name__`: writes each batch of records as one JSON file, `{"records": [...]}`, in a
 * directory. The directory stands in for your service: keep the schema, the sender and
 * `batchingSink`, and replace the body of `send` with your service's request.
 *
 *   plugins: [./dist/index.js]        # relative to the pipeline file, or this package's name
 *   pipelines:
 *     - ...
 *       sinks:
 *         out: { type: __name__, dir: ./batches }
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { definePlugin, Type } from "@trailrouter/core";
import {
  type BatchSender,
  batchingSink,
  type RetrySettings,
  retrySettingsSchema,
} from "@trailrouter/delivery";

/** The `type:` of this sink's blocks in a pipeline file. */
export const TYPE = "__name__";

/**
 * The options of a block, each written once: its type, its default and its description. trailrouter
 * validates the pipeline file against it (an unknown option is an error, with its path), fills in
 * the defaults, and `trailrouter plugins` documents it. `create` receives exactly this type.
 */
export const schema = Type.Object({
  dir: Type.String({
    minLength: 1,
    description: "Directory the batch files are written to; relative to the pipeline file",
  }),
  batchSize: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 100,
    description: "Records per file, at most",
  }),
  maxBatchBytes: Type.Integer({
    minimum: 1024,
    maximum: 16_777_216,
    default: 1_048_576,
    description:
      "Bytes of record JSON per file, at most; a longer record is refused for good (RecordTooLarge)",
  }),
  retry: Type.Optional(Type.Unsafe<RetrySettings>(retrySettingsSchema)),
});

export const sink = definePlugin({
  kind: "sink",
  type: TYPE,
  description: "Writes each batch of records as one JSON file in a directory",
  schema,
  create(config, context) {
    const dir = path.resolve(context.baseDir, config.dir);
    const batches = context.metrics.counter(
      `trailrouter_${TYPE.replaceAll("-", "_")}_batches_total`,
      "Batches sent, by outcome",
      ["outcome"],
    );
    let sent = 0;
    let ready: Promise<unknown> | undefined;

    // What the service takes: entries per request, bytes per request and per entry, how a record
    // becomes an entry, and one request. batchingSink does the rest (see docs/PLUGINS.md).
    const sender: BatchSender<string> = {
      maxEntries: config.batchSize,
      maxBatchBytes: config.maxBatchBytes,
      maxEntryBytes: config.maxBatchBytes,
      encode(record) {
        const json = JSON.stringify(record);
        return { entry: json, bytes: Buffer.byteLength(json) };
      },
      async send(entries) {
        // Your service's request goes here. Throw when the whole request failed: its records are
        // sent again if isRetryableError (from @trailrouter/core) says the error may pass. List in
        // `failed` the entries the service refused, `permanent: true` for those it never will take.
        try {
          ready ??= mkdir(dir, { recursive: true });
          await ready;
          const file = path.join(dir, `${context.pipeline}-${context.name}-${Date.now()}-${++sent}.json`);
          await writeFile(file, `{"records":[${entries.join(",")}]}\n`, { flag: "wx" });
        } catch (error) {
          ready = undefined;
          batches.inc({ outcome: "failed" });
          throw error;
        }
        batches.inc({ outcome: "sent" });
        return { failed: [] };
      },
    };
    // `ordered: true` for a service that must receive records in order (a FIFO queue).
    return batchingSink(sender, context, { retry: config.retry, close() {} });
  },
});

/** What `plugins:` loads: a plugin, or an array of plugins. */
export default [sink];
