import type { PutEventsRequestEntry, PutEventsResultEntry } from "@aws-sdk/client-eventbridge";
import {
  type AwsClientFactory,
  type Clock,
  DeliveryError,
  jsonBytesAtLeast,
  type Sink,
  type TrailRecord,
  type WithoutDefaults,
  withDefaults,
} from "@trailrouter/core";
import { toEventBridgeEvent, wireJson } from "@trailrouter/delivery";
import { pluginContext } from "@trailrouter/local-aws";
import {
  type EventBridgeSinkConfig,
  encodeEntry,
  eventBridgeSink,
  putEventsEntrySize,
  resourceValues,
} from "@trailrouter/sink-eventbridge";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

type Answer = (entries: PutEventsRequestEntry[], call: number) => PutEventsResultEntry[];

/** A sink whose PutEvents calls are answered by `answer` instead of a service; backoffs take no time. */
async function sinkAnsweredBy(answer: Answer, options: WithoutDefaults<EventBridgeSinkConfig> = {}) {
  const calls: PutEventsRequestEntry[][] = [];
  const fakeClient = {
    async send(command: { input: { Entries: PutEventsRequestEntry[] } }) {
      const entries = command.input.Entries;
      calls.push(entries);
      const results = answer(entries, calls.length);
      return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
    },
    destroy() {},
  };
  const aws: AwsClientFactory = { settings: {}, client: () => fakeClient as never };
  let now = 0;
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
  const context = pluginContext({ name: "bus", clock, aws });
  const sink: Sink = await eventBridgeSink.create(withDefaults(eventBridgeSink, options), context);
  return { sink, calls };
}

const accepted = (entries: PutEventsRequestEntry[]): PutEventsResultEntry[] =>
  entries.map((_, i) => ({ EventId: `event-${i}` }));

function trailRecord(n: number, fields: Partial<TrailRecord> = {}): TrailRecord {
  return {
    eventID: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    eventTime: "2024-05-01T12:00:00Z",
    eventName: "CreateUser",
    eventSource: "iam.amazonaws.com",
    ...fields,
  };
}

const recordIdsOf = (records: TrailRecord[]) => records.map((record) => record.eventID);
const detailIds = (entries: PutEventsRequestEntry[] | undefined) =>
  (entries ?? []).map((entry) => (JSON.parse(entry.Detail ?? "{}") as TrailRecord).eventID);

describe("eventbridge sink, per-entry failures", () => {
  it.each(["ThrottlingException", "InternalException", "InternalFailure"])(
    "sends an entry failed with %s again, alone, until it is accepted",
    async (code) => {
      const records = [trailRecord(1), trailRecord(2), trailRecord(3)];
      const { sink, calls } = await sinkAnsweredBy((entries, call) =>
        call === 1
          ? [{ EventId: "a" }, { ErrorCode: code, ErrorMessage: "slow down" }, { EventId: "c" }]
          : accepted(entries),
      );

      expect(await sink.deliver(records)).toEqual({ delivered: 3, failed: [] });
      expect(calls.map(detailIds)).toEqual([recordIdsOf(records), [records[1]?.eventID]]);
    },
  );

  it("reports an entry failed with MalformedDetail as permanent, after one attempt", async () => {
    const records = [trailRecord(1), trailRecord(2)];
    const { sink, calls } = await sinkAnsweredBy(() => [
      { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." },
      { EventId: "b" },
    ]);

    const result = await sink.deliver(records);

    expect(calls).toHaveLength(1);
    expect(result.delivered).toBe(1);
    expect(result.failed.map((failure) => [failure.record, failure.permanent])).toEqual([[records[0], true]]);
    expect(result.failed[0]?.error).toMatchObject({
      code: "MalformedDetail",
      context: { attempts: 1, retryable: false },
    });
  });

  it.each([
    "NotAuthorizedForSourceException",
    "NotAuthorizedForDetailTypeException",
    "AccessDeniedException",
    "ResourceNotFoundException",
    "InvalidArgument",
    "InvalidAccountIdException",
    "KMSAccessDeniedException",
  ])("keeps an entry failed with %s transient: it speaks of the sink, not the record", async (code) => {
    const { sink } = await sinkAnsweredBy(() => [{ ErrorCode: code, ErrorMessage: "no" }]);
    const result = await sink.deliver([trailRecord(1)]);
    expect(result.failed.map((failure) => failure.permanent)).toEqual([false]);
  });

  it("reports an entry failed with a non-retryable code, with that code, after one attempt", async () => {
    const records = [trailRecord(1), trailRecord(2), trailRecord(3)];
    const { sink, calls } = await sinkAnsweredBy(() => [
      { EventId: "a" },
      { EventId: "b" },
      { ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: "Not authorized for the source." },
    ]);

    const result = await sink.deliver(records);

    expect(calls).toHaveLength(1);
    expect(result.delivered).toBe(2);
    expect(result.failed.map((failure) => failure.record)).toEqual([records[2]]);
    const error = result.failed[0]?.error;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({
      code: "NotAuthorizedForSourceException",
      context: { sink: "bus", pipeline: "test", eventID: records[2]?.eventID, attempts: 1, retryable: false },
    });
    expect(error?.message).toMatch(/Not authorized for the source/);
  });

  it("reports an entry still throttled when the attempts run out", async () => {
    const records = [trailRecord(1), trailRecord(2)];
    const { sink, calls } = await sinkAnsweredBy(
      (entries) =>
        entries.map((entry) =>
          detailIds([entry])[0] === records[0]?.eventID
            ? { EventId: "a" }
            : { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" },
        ),
      { retry: { attempts: 3 } },
    );

    const result = await sink.deliver(records);

    expect(calls.map((entries) => entries.length)).toEqual([2, 1, 1]);
    expect(result.delivered).toBe(1);
    expect(result.failed[0]?.error).toMatchObject({
      code: "ThrottlingException",
      context: { eventID: records[1]?.eventID, attempts: 3, retryable: true },
    });
    expect(result.failed[0]?.permanent).toBe(false);
  });

  it("sends again the entries the answer says nothing about", async () => {
    const records = [trailRecord(1), trailRecord(2), trailRecord(3)];
    const { sink, calls } = await sinkAnsweredBy((entries, call) =>
      call === 1 ? [{ EventId: "a" }, {}] : accepted(entries),
    );

    expect(await sink.deliver(records)).toEqual({ delivered: 3, failed: [] });
    expect(calls.map(detailIds)).toEqual([recordIdsOf(records), recordIdsOf(records.slice(1))]);
  });

  it("splits requests by maxBatchEntries and by the entry sizes EventBridge counts", async () => {
    const padded = (n: number) => trailRecord(n, { padding: "x".repeat(900) });
    const { sink, calls } = await sinkAnsweredBy(accepted, { maxBatchEntries: 3, maxBatchBytes: 2048 });

    const records = Array.from({ length: 5 }, (_, n) => padded(n));
    expect(await sink.deliver(records)).toEqual({ delivered: 5, failed: [] });
    // Each entry is over 1000 bytes: two of them already fill a 2048-byte request.
    expect(calls.map((entries) => entries.length)).toEqual([1, 1, 1, 1, 1]);

    calls.length = 0;
    expect(await sink.deliver([trailRecord(1), trailRecord(2), trailRecord(3), trailRecord(4)])).toEqual({
      delivered: 4,
      failed: [],
    });
    expect(calls.map((entries) => entries.length)).toEqual([3, 1]);
  });
});

describe("a record as a PutEvents entry", () => {
  const options = {
    eventBusName: "arn:aws:events:us-east-1:123456789012:event-bus/audit",
    source: "trailrouter",
    detailType: "AWS API Call via CloudTrail",
    resources: [],
    format: "record" as const,
  };

  it("carries source, detail-type, the record as detail, eventTime as time, and the bus", () => {
    const record = trailRecord(1);
    const { entry } = encodeEntry(record, options);
    expect(entry).toEqual({
      EventBusName: options.eventBusName,
      Source: "trailrouter",
      DetailType: "AWS API Call via CloudTrail",
      Detail: JSON.stringify(record),
      Time: new Date("2024-05-01T12:00:00Z"),
    });
  });

  it("is counted as EventBridge counts it: 14 for the time, UTF-8 bytes of the rest, not the bus", () => {
    const record = trailRecord(1, { userName: "zoë-ß-日本" });
    const withResources = { ...options, resources: ["userName"] };
    const { entry, bytes } = encodeEntry(record, withResources);
    const utf8 = (text: string) => new TextEncoder().encode(text).length;
    const expected =
      14 +
      utf8("trailrouter") +
      utf8("AWS API Call via CloudTrail") +
      utf8(JSON.stringify(record)) +
      utf8("zoë-ß-日本");
    expect(bytes).toBe(expected);
    expect(putEventsEntrySize(entry)).toBe(expected);
    expect(utf8("zoë-ß-日本")).toBeGreaterThan("zoë-ß-日本".length);
  });

  it("leaves Time out, and does not count it, when the record has no valid eventTime", () => {
    for (const eventTime of [undefined, "yesterday", 1714564800]) {
      const record = trailRecord(1, { eventTime: eventTime as string | undefined });
      const { entry, bytes } = encodeEntry(record, options);
      expect(entry).not.toHaveProperty("Time");
      expect(bytes).toBe(putEventsEntrySize({ ...entry, Time: undefined }));
      expect(bytes).toBe(
        Buffer.byteLength("trailrouter") +
          Buffer.byteLength("AWS API Call via CloudTrail") +
          Buffer.byteLength(entry.Detail ?? ""),
      );
    }
  });

  it("escapes U+FFFE and U+FFFF in the Detail, which parses back to the record, counted as sent", () => {
    const record = trailRecord(1, { userAgent: "aws-cli/2\ufffe \uffff🦆" });
    for (const format of ["record", "eventbridge"] as const) {
      const { entry, bytes } = encodeEntry(record, { ...options, format });
      expect(entry.Detail).not.toMatch(/[\ufffe\uffff]/);
      expect(entry.Detail).toContain('"aws-cli/2\\ufffe \\uffff🦆"');
      expect(JSON.parse(entry.Detail ?? "null")).toEqual(
        format === "record" ? record : toEventBridgeEvent(record),
      );
      expect(bytes).toBe(putEventsEntrySize(entry));
    }
  });

  it("derives the detail-type from the record's eventType when detailType is auto", () => {
    const detailType = (fields: Partial<TrailRecord>) =>
      encodeEntry(trailRecord(1, fields), { ...options, detailType: "auto" }).entry.DetailType;
    expect(detailType({ eventType: "AwsApiCall" })).toBe("AWS API Call via CloudTrail");
    expect(detailType({ eventType: "AwsConsoleSignIn" })).toBe("AWS Console Sign In via CloudTrail");
    expect(detailType({ eventType: "AwsServiceEvent" })).toBe("AWS Service Event via CloudTrail");
    expect(detailType({ eventCategory: "Insight" })).toBe("AWS Insight via CloudTrail");
  });

  it("takes resources from dotted paths, through arrays, strings only, each once", () => {
    const record = trailRecord(1, {
      resources: [{ ARN: "arn:aws:ec2:eu-west-1:1:instance/i-1" }, { ARN: "" }, { accountId: "1" }],
      responseElements: {
        instancesSet: { items: [{ instanceId: "i-1" }, { instanceId: "i-2" }, { instanceId: 3 }] },
      },
      userIdentity: { arn: "arn:aws:ec2:eu-west-1:1:instance/i-1" },
    });
    expect(
      resourceValues(record, [
        "resources.ARN",
        "responseElements.instancesSet.items.instanceId",
        "userIdentity.arn",
        "requestParameters.missing",
      ]),
    ).toEqual(["arn:aws:ec2:eu-west-1:1:instance/i-1", "i-1", "i-2"]);
    expect(encodeEntry(record, { ...options, resources: ["nothing.here"] }).entry).not.toHaveProperty(
      "Resources",
    );
  });
});

describe("a record as a PutEvents entry, against the sink's maxRecordBytes", () => {
  /** Any code point, multi-byte ones and the units JSON escapes or a queue target refuses among them. */
  const text = fc.string({
    unit: fc.oneof(
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
      fc.constantFrom("é", "日", "🦆", "\ufffe", "\uffff", "\u0000", "\ud800", "\udfff", '"', "\\"),
    ),
  });
  const record: fc.Arbitrary<TrailRecord> = fc
    .tuple(
      fc.record(
        { eventID: text, eventTime: text, eventType: text, eventSource: text, userAgent: text },
        { requiredKeys: [] },
      ),
      fc.dictionary(text, fc.jsonValue({ stringUnit: "binary", maxDepth: 3 }), { maxKeys: 5 }),
    )
    .map(([fields, more]) => ({ ...more, ...fields }));
  const options = {
    eventBusName: "default",
    source: "trailrouter",
    detailType: "auto",
    resources: ["userAgent"],
  };
  const utf8 = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

  it.each(["record", "eventbridge"] as const)(
    "format %s: the Detail holds the record's JSON text, so the entry is at least as long",
    (format) => {
      fc.assert(
        fc.property(record, (generated) => {
          const { entry, bytes } = encodeEntry(generated, { ...options, format });
          expect(entry.Detail).toContain(wireJson(generated));
          expect(bytes).toBeGreaterThanOrEqual(utf8(generated));
          expect(jsonBytesAtLeast(generated, Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(bytes);
        }),
        { numRuns: 300 },
      );
    },
  );

  it.each([
    ["ASCII", "aws-cli/2.15"],
    ["two-byte characters", "zoë-ß-é".repeat(50)],
    ["three-byte characters", "日本語".repeat(50)],
    ["characters above U+FFFF", "🦆".repeat(50)],
    ["U+FFFE and U+FFFF", "\ufffe\uffff".repeat(50)],
  ])("with %s: at least the UTF-8 length of JSON.stringify(record)", (_label, userAgent) => {
    const generated = trailRecord(1, { userAgent });
    for (const format of ["record", "eventbridge"] as const) {
      expect(encodeEntry(generated, { ...options, format }).bytes).toBeGreaterThanOrEqual(utf8(generated));
    }
  });
});
