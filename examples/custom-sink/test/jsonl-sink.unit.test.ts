/**
 * The jsonl-file sink with the testing kit, without AWS: made from its options as a pipeline file
 * gives them, then in a pipeline file run in memory.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPlugin, runPipeline, toLogFiles, trailRecord } from "@trailrouter/testing";
import { describe, expect, it } from "vitest";
import { jsonlFileSink } from "../src/index.js";

const newDir = () => mkdtemp(path.join(tmpdir(), "trailrouter-jsonl-"));
const lines = async (file: string) =>
  (await readFile(file, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("sink jsonl-file", () => {
  it("appends one line per record, with only the fields asked for, under their dotted names", async () => {
    const dir = await newDir();
    const sink = await createPlugin(
      jsonlFileSink,
      { path: "out/audit.jsonl", fields: ["eventName", "userIdentity.arn", "missing.field"] },
      { baseDir: dir },
    );
    const records = [trailRecord(), trailRecord({ eventName: "DeleteUser" })];
    expect(await sink.deliver(records)).toEqual({ delivered: 2, failed: [] });
    expect(await lines(path.join(dir, "out/audit.jsonl"))).toEqual([
      { eventName: "CreateUser", "userIdentity.arn": "arn:aws:iam::111122223333:user/alice" },
      { eventName: "DeleteUser", "userIdentity.arn": "arn:aws:iam::111122223333:user/alice" },
    ]);
  });

  it("refuses options its schema does not take, with their paths", async () => {
    await expect(createPlugin(jsonlFileSink, { path: "a.jsonl", fields: [] })).rejects.toThrow(
      /fields: must not be empty/,
    );
    await expect(createPlugin(jsonlFileSink, { pathh: "a.jsonl" })).rejects.toThrow(
      /unknown option "pathh" \(did you mean "path"\?\)/,
    );
  });

  it("fails a write, not for good: the message is given back", async () => {
    const dir = await newDir();
    const run = await runPipeline(
      `
pipelines:
  - name: audit
    source: { type: memory }
    routes: [{ name: all, match: { type: event-name, names: [CreateUser] }, to: [file] }]
    sinks: { file: { type: jsonl-file, path: "." } }
`,
      { plugins: [jsonlFileSink], logFiles: toLogFiles([trailRecord()]), baseDir: dir },
    );
    expect(run.messages.map((m) => m.outcome)).toEqual(["nacked"]);
    expect(run.sinks.file!.failed[0]).toMatchObject({ error: { code: "WriteFailed" } });
    expect(run.sinks.file!.failed[0]!.permanent).toBeUndefined();
  });

  it("declares maxRecordBytes: a longer record goes to recordDeadLetter, the rest to the file", async () => {
    const dir = await newDir();
    const huge = trailRecord({ requestParameters: { userName: "x".repeat(5000) } });
    const small = trailRecord();
    const run = await runPipeline(
      `
pipelines:
  - name: audit
    source: { type: memory }
    routes: [{ name: all, match: { type: event-name, names: [CreateUser] }, to: [file] }]
    sinks:
      file: { type: jsonl-file, path: audit.jsonl, maxRecordBytes: 4096 }
      refused: { type: memory }
    recordDeadLetter: { sink: refused }
`,
      { plugins: [jsonlFileSink], logFiles: toLogFiles([huge, small]), baseDir: dir },
    );
    expect(run.messages.map((m) => m.outcome)).toEqual(["acked"]);
    expect((await lines(path.join(dir, "audit.jsonl"))).map((l) => l.eventID)).toEqual([small.eventID]);
    expect(run.sinks.file!.received).toEqual([small]);
    expect(run.sinks.refused!.received).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ code: "RecordTooLarge" }) }),
    ]);
  });
});
