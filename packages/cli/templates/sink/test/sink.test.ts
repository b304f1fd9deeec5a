/**
 * The sink on its own (createPlugin: its options as a pipeline file gives them, defaults filled
 * in), then in a pipeline file run in memory (runPipeline): no AWS needed.
 */
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TrailRecord } from "@trailrouter/core";
import { createPlugin, runPipeline, toLogFiles, trailRecord } from "@trailrouter/testing";
import { describe, expect, it } from "vitest";
import { sink, TYPE } from "../src/index.js";

const newDir = () => mkdtemp(path.join(tmpdir(), `${TYPE}-`));

/** The records of each file the sink wrote. */
async function batches(dir: string): Promise<TrailRecord[][]> {
  const files = (await readdir(dir)).sort();
  return Promise.all(
    files.map(
      async (f) =>
        (JSON.parse(await readFile(path.join(dir, f), "utf8")) as { records: TrailRecord[] }).records,
    ),
  );
}

const ids = (records: readonly TrailRecord[]) => records.map((r) => r.eventID).sort();

describe(`sink ${TYPE}`, () => {
  it("sends records in batches of batchSize", async () => {
    const dir = await newDir();
    const instance = await createPlugin(sink, { dir, batchSize: 10 });
    const records = Array.from({ length: 25 }, () => trailRecord());
    expect(await instance.deliver(records)).toEqual({ delivered: 25, failed: [] });
    await instance.close();
    const sent = await batches(dir);
    expect(sent.map((b) => b.length).sort((a, b) => b - a)).toEqual([10, 10, 5]);
    expect(ids(sent.flat())).toEqual(ids(records));
  });

  it("refuses a record longer than maxBatchBytes, for good, and sends the others", async () => {
    const dir = await newDir();
    const instance = await createPlugin(sink, { dir, maxBatchBytes: 2048 });
    const huge = trailRecord({ requestParameters: { userName: "x".repeat(4096) } });
    const result = await instance.deliver([huge, trailRecord()]);
    expect(result.delivered).toBe(1);
    expect(result.failed).toEqual([expect.objectContaining({ record: huge, permanent: true })]);
    expect(result.failed[0]!.error).toMatchObject({ code: "RecordTooLarge" });
  });

  it("refuses an unknown option, with its path", async () => {
    await expect(createPlugin(sink, { dir: "out", batchsize: 5 })).rejects.toThrow(
      /unknown option "batchsize" \(did you mean "batchSize"\?\)/,
    );
  });

  it("receives exactly the records a pipeline file routes to it", async () => {
    const dir = await newDir();
    const records = [trailRecord(), trailRecord({ eventName: "DeleteUser" }), trailRecord()];
    const run = await runPipeline(
      `
pipelines:
  - name: users
    source: { type: memory }
    routes:
      - name: new-users
        match: { type: event-pattern, pattern: { eventName: [CreateUser] } }
        to: [out]
    sinks:
      out: { type: ${TYPE}, dir: ${JSON.stringify(dir)} }
`,
      { plugins: [sink], logFiles: toLogFiles(records) },
    );
    expect(run.summary.ok).toBe(true);
    expect(run.messages.map((m) => m.outcome)).toEqual(["acked"]);
    expect(ids(run.sinks.out!.delivered)).toEqual(ids([records[0]!, records[2]!]));
    expect(ids((await batches(dir)).flat())).toEqual(ids([records[0]!, records[2]!]));
  });
});
