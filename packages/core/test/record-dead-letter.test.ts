/**
 * Records a sink refuses for good, with an in-memory source and sinks (pure logic, no AWS): with
 * `recordDeadLetter` they are wrapped and delivered there and the message is acked; without it,
 * or with any transient failure beside them, the message is kept.
 */
import {
  type AnyPlugin,
  builtinPlugins,
  DeliveryError,
  definePlugin,
  type FailedDelivery,
  PluginRegistry,
  parsePipelineText,
  RouterMetrics,
  runPipelines,
  type TrailRecord,
} from "@trailrouter/core";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { jsonRecordsDecoder, oneMessageSource } from "./support.js";

/** How a sink answers each record: delivered, or failed for good or for now. */
type Verdict = "ok" | "permanent" | "too-large" | "transient";

const CODES: Record<Exclude<Verdict, "ok">, string> = {
  permanent: "InvalidMessageContents",
  "too-large": "RecordTooLarge",
  transient: "ServiceUnavailable",
};
type Judge = (record: TrailRecord, sink: string) => Verdict;

function world(records: TrailRecord[], judge: Judge, maxRecordBytes?: number) {
  const received = new Map<string, TrailRecord[]>();
  /** Every record each deliver call was given, as [sink, eventID]. */
  const seen: (readonly [string, string | undefined])[] = [];
  const { plugin: source, settled } = oneMessageSource(records, {
    bucket: "trail-bucket",
    key: "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/04/file.json.gz",
  });
  const sink = definePlugin({
    kind: "sink",
    type: "judged",
    schema: { type: "object", properties: {} },
    create: (_config, context) => ({
      ...(maxRecordBytes === undefined || context.name === "rejected" ? {} : { maxRecordBytes }),
      async deliver(batch: readonly TrailRecord[]) {
        seen.push(...batch.map((r) => [context.name, r.eventID] as const));
        const failed: FailedDelivery[] = [];
        const ok: TrailRecord[] = [];
        for (const record of batch) {
          const verdict = judge(record, context.name);
          if (verdict === "ok") ok.push(record);
          else
            failed.push({
              record,
              permanent: verdict !== "transient",
              error: new DeliveryError(CODES[verdict], `${context.name} refused it`),
            });
        }
        received.set(context.name, [...(received.get(context.name) ?? []), ...ok]);
        return { delivered: ok.length, failed };
      },
      close: async () => {},
    }),
  });
  const ids = (outcome: "acked" | "nacked") => (settled.includes(outcome) ? ["m1"] : []);
  return {
    plugins: [source, sink] as AnyPlugin[],
    get acked() {
      return ids("acked");
    },
    get nacked() {
      return ids("nacked");
    },
    received,
    seen,
  };
}

const pipeline = (deadLetter: boolean) => `
pipelines:
  - name: p
    source: { type: memory }
    routes:
      - { name: users, match: { type: event-pattern, pattern: { eventName: [CreateUser] } }, to: [security] }
      - { name: iam, match: { type: event-pattern, pattern: { eventSource: [iam.amazonaws.com] } }, to: [security, archive] }
    sinks:
      security: { type: judged }
      archive: { type: judged }
      rejected: { type: judged }
${deadLetter ? "    recordDeadLetter: { sink: rejected }" : ""}
`;

const iam = (eventID: string, eventName: string, extra: Record<string, unknown> = {}): TrailRecord => ({
  eventID,
  eventName,
  eventSource: "iam.amazonaws.com",
  awsRegion: "us-east-1",
  ...extra,
});

async function run(w: ReturnType<typeof world>, deadLetter = true) {
  const registry = new PluginRegistry([...builtinPlugins, jsonRecordsDecoder, ...w.plugins]);
  const loaded = await parsePipelineText(pipeline(deadLetter), { registry });
  const metrics = new RouterMetrics();
  const summary = await runPipelines(loaded, {
    registry,
    logger: pino({ level: "silent" }),
    once: true,
    metrics,
  });
  return { summary: summary.pipelines[0]!, metrics };
}

describe("recordDeadLetter", () => {
  it("wraps a record a sink refused for good, delivers the rest of the file, and acks the message", async () => {
    const poison = iam("2", "CreateUser", { userAgent: "\uffff" });
    const w = world([iam("1", "CreateUser"), poison, iam("3", "ListUsers")], (record, sink) =>
      record.eventID === "2" && sink !== "rejected" ? "permanent" : "ok",
    );
    const { summary } = await run(w);

    expect(w.acked).toEqual(["m1"]);
    expect(w.nacked).toEqual([]);
    expect(w.received.get("security")!.map((r) => r.eventID)).toEqual(["1", "3"]);
    expect(w.received.get("archive")!.map((r) => r.eventID)).toEqual(["1", "3"]);
    const letters = w.received.get("rejected")!;
    // Refused by both sinks it was routed to: one letter per sink, each naming its routes.
    expect(letters.map((l) => [l.sink, l.routes])).toEqual([
      ["security", ["users", "iam"]],
      ["archive", ["iam"]],
    ]);
    expect(letters[0]).toMatchObject({
      trailrouterRecordDeadLetter: 1,
      pipeline: "p",
      messageId: "m1",
      bucket: "trail-bucket",
      key: "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/04/file.json.gz",
      error: { code: "InvalidMessageContents", message: "security refused it" },
      record: { eventID: "2", userAgent: "\uffff" },
    });
    expect(Number.isNaN(Date.parse(String(letters[0]!.failedAt)))).toBe(false);
    expect(summary.deadLettered).toEqual({ security: 1, archive: 1 });
    expect(summary.delivered.rejected).toBe(2);
  });

  it("sends a record too large for its sink without the record: its identifying fields, and where to read it", async () => {
    const huge = iam("9", "CreateUser", { requestParameters: { blob: "x".repeat(1000) } });
    const w = world([huge], (record, sink) =>
      sink !== "rejected" && record.eventID === huge.eventID ? "too-large" : "ok",
    );
    const { summary } = await run(w);
    const letters = w.received.get("rejected")!;
    expect(w.acked).toEqual(["m1"]);
    expect(letters).toHaveLength(2);
    for (const letter of letters) {
      expect(letter.record).toBeUndefined();
      expect(letter.error).toMatchObject({ code: "RecordTooLarge" });
      expect(letter.recordOmitted).toBe("the record is larger than the sinks accept");
      expect(letter.recordSummary).toEqual({
        eventID: "9",
        eventName: "CreateUser",
        eventSource: "iam.amazonaws.com",
        awsRegion: "us-east-1",
      });
      expect(letter.bucket).toBe("trail-bucket");
    }
    expect(summary.deadLettered).toEqual({ security: 1, archive: 1 });
  });

  it("sends a letter again without its record when the dead-letter sink refuses it for good too", async () => {
    const poison = iam("7", "CreateUser", { userAgent: "\uffff" });
    const w = world([poison], (record, sink) => {
      if (sink !== "rejected") return record.eventID === poison.eventID ? "permanent" : "ok";
      return "record" in record ? "permanent" : "ok";
    });
    const { summary } = await run(w);
    const letters = w.received.get("rejected")!;
    expect(w.acked).toEqual(["m1"]);
    expect(letters.map((l) => [l.sink, l.recordOmitted])).toEqual([
      ["security", "the dead-letter sink refused it too (InvalidMessageContents)"],
      ["archive", "the dead-letter sink refused it too (InvalidMessageContents)"],
    ]);
    expect(letters[0]!.recordSummary).toMatchObject({ eventID: "7" });
    expect(summary.deadLettered).toEqual({ security: 1, archive: 1 });
  });

  it("refuses a record larger than every sink it is routed to accepts before any of them is handed it", async () => {
    const huge = iam("big", "CreateUser", { requestParameters: { blob: "x".repeat(2_000_000) } });
    const w = world([iam("1", "CreateUser"), huge], () => "ok", 1_000_000);
    const { summary } = await run(w);
    expect(w.acked).toEqual(["m1"]);
    // Neither sink's deliver ever saw the huge record (it would have encoded it for each).
    expect(w.seen.filter(([sink]) => sink !== "rejected")).toEqual([
      ["security", "1"],
      ["archive", "1"],
    ]);
    const letters = w.received.get("rejected")!;
    expect(letters.map((l) => [l.sink, (l.error as { code: string }).code, l.record])).toEqual([
      ["security", "RecordTooLarge", undefined],
      ["archive", "RecordTooLarge", undefined],
    ]);
    expect(letters[0]!.error).toMatchObject({
      message: 'record big is more than 1000000 bytes of JSON, over what sink "security" can deliver',
    });
    expect(summary.deadLettered).toEqual({ security: 1, archive: 1 });
  });

  it("keeps the message when any failure beside the permanent ones is transient, writing no letter", async () => {
    const w = world([iam("1", "CreateUser"), iam("2", "CreateUser")], (record, sink) => {
      if (record.eventID === "1") return "permanent";
      return sink === "archive" ? "transient" : "ok";
    });
    await run(w);
    expect(w.nacked).toEqual(["m1"]);
    expect(w.acked).toEqual([]);
    expect(w.received.get("rejected")).toBeUndefined();
  });

  it("keeps the message when the dead-letter sink does not take the letter", async () => {
    const w = world([iam("1", "CreateUser")], (record, sink) =>
      sink === "rejected" ? "transient" : record.eventID === "1" ? "permanent" : "ok",
    );
    const { summary } = await run(w);
    expect(w.nacked).toEqual(["m1"]);
    expect(summary.deadLettered).toEqual({});
  });

  it("without recordDeadLetter, keeps the message as before", async () => {
    const w = world([iam("1", "CreateUser")], (record) => (record.eventID === "1" ? "permanent" : "ok"));
    await run(w, false);
    expect(w.nacked).toEqual(["m1"]);
    expect(w.received.get("rejected")).toBeUndefined();
  });

  it("must name a sink of its pipeline, checked when the file loads", async () => {
    const w = world([], () => "ok");
    const registry = new PluginRegistry([...builtinPlugins, jsonRecordsDecoder, ...w.plugins]);
    await expect(
      parsePipelineText(pipeline(true).replace("sink: rejected", "sink: nowhere"), { registry }),
    ).rejects.toMatchObject({
      problems: [
        {
          path: "pipelines[0].recordDeadLetter.sink",
          message: 'no sink named "nowhere" in pipeline "p" (sinks: security, archive, rejected)',
        },
      ],
    });
  });
});
