import { type Clock, DeliveryError } from "@trailrouter/core";
import {
  type BatchSender,
  type BatchSendResult,
  deliverInBatches,
  type EntryFailure,
} from "@trailrouter/delivery";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_REQUESTS_IN_FLIGHT } from "../src/batch.js";
import { backoffDelay, resolveRetrySettings } from "../src/retry.js";

interface TestRecord {
  eventID: string;
  size?: number;
}

const recordsOf = (count: number, size = 10): TestRecord[] =>
  Array.from({ length: count }, (_, i) => ({ eventID: `e${i}`, size }));

/** A clock whose sleeps return at once and move time forward. */
function instantClock(): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

/** A sender of event ids; `respond` decides each call's outcome (all accepted by default). */
function fakeSender(
  respond: (entries: readonly string[], call: number) => Promise<BatchSendResult> | BatchSendResult = () => ({
    failed: [],
  }),
  limits: Partial<Pick<BatchSender<string>, "maxEntries" | "maxBatchBytes" | "maxEntryBytes">> = {},
) {
  const calls: string[][] = [];
  const sender: BatchSender<string> = {
    maxEntries: 10,
    maxBatchBytes: 1000,
    maxEntryBytes: 1000,
    ...limits,
    encode: (record) => ({ entry: String(record.eventID), bytes: Number(record.size ?? 10) }),
    send: async (entries) => {
      calls.push([...entries]);
      return respond(entries, calls.length);
    },
  };
  return { sender, calls };
}

const failAt = (
  entries: readonly string[],
  ids: string[],
  failure: Omit<EntryFailure, "index">,
): EntryFailure[] => ids.map((id) => ({ index: entries.indexOf(id), ...failure }));

const sdkError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 400 }, ...extra });

describe("deliverInBatches", () => {
  it("splits records into requests of at most maxEntries", async () => {
    const { sender, calls } = fakeSender();
    const result = await deliverInBatches(recordsOf(25), sender, { sink: "out", clock: instantClock() });
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(calls.flat()).toEqual(recordsOf(25).map((r) => r.eventID));
    expect(result).toEqual({ delivered: 25, failed: [] });
  });

  it("splits records into requests of at most maxBatchBytes", async () => {
    const { sender, calls } = fakeSender(undefined, { maxBatchBytes: 1000 });
    const sizes = [400, 400, 400, 600, 300, 100, 1000];
    const records = sizes.map((size, i) => ({ eventID: `e${i}`, size }));
    const result = await deliverInBatches(records, sender, { sink: "out", clock: instantClock() });
    expect(calls).toEqual([["e0", "e1"], ["e2", "e3"], ["e4", "e5"], ["e6"]]);
    expect(result.delivered).toBe(7);
  });

  it("reports an oversize record as RecordTooLarge, never sends it, and delivers the others", async () => {
    const { sender, calls } = fakeSender(undefined, { maxEntryBytes: 500 });
    const records = [
      { eventID: "small-1", size: 100 },
      { eventID: "huge", size: 501 },
      { eventID: "small-2", size: 500 },
    ];
    const result = await deliverInBatches(records, sender, {
      sink: "out",
      pipeline: "p",
      clock: instantClock(),
    });
    expect(calls.flat()).toEqual(["small-1", "small-2"]);
    expect(result.delivered).toBe(2);
    expect(result.failed).toHaveLength(1);
    const [failure] = result.failed;
    expect(failure?.record).toBe(records[1]);
    expect(failure?.error).toBeInstanceOf(DeliveryError);
    expect(failure?.error).toMatchObject({
      code: "RecordTooLarge",
      stage: "deliver",
      context: { sink: "out", pipeline: "p", eventID: "huge", bytes: 501, limit: 500 },
    });
  });

  it("treats an entry larger than a whole request as too large", async () => {
    const { sender, calls } = fakeSender(undefined, { maxEntryBytes: 2000, maxBatchBytes: 1000 });
    const result = await deliverInBatches([{ eventID: "big", size: 1500 }], sender, {
      sink: "out",
      clock: instantClock(),
    });
    expect(calls).toEqual([]);
    expect(result.failed[0]?.error).toMatchObject({ code: "RecordTooLarge", context: { limit: 1000 } });
  });

  it("reports a record the sender cannot encode, and delivers the others", async () => {
    const { sender, calls } = fakeSender();
    const encode = sender.encode;
    sender.encode = (record) => {
      if (record.eventID === "bad") throw new TypeError("cannot serialise");
      return encode(record);
    };
    const result = await deliverInBatches([{ eventID: "bad" }, { eventID: "good" }], sender, {
      sink: "out",
      clock: instantClock(),
    });
    expect(calls).toEqual([["good"]]);
    expect(result.failed[0]?.error).toMatchObject({
      code: "RecordNotEncodable",
      context: { eventID: "bad" },
    });
  });

  it("retries only the entries that failed with a retryable error", async () => {
    const clock = instantClock();
    const { sender, calls } = fakeSender((entries, call) => ({
      failed:
        call === 1
          ? failAt(entries, ["e2", "e7"], { code: "InternalError", message: "try again", retryable: true })
          : [],
    }));
    const result = await deliverInBatches(recordsOf(10), sender, { sink: "out", clock, random: () => 0.5 });
    expect(calls).toEqual([recordsOf(10).map((r) => r.eventID), ["e2", "e7"]]);
    expect(result).toEqual({ delivered: 10, failed: [] });
    expect(clock.sleeps).toEqual([50]);
  });

  it("reports a non-retryable failure at once with the service's code", async () => {
    const clock = instantClock();
    const { sender, calls } = fakeSender((entries) => ({
      failed: failAt(entries, ["e1"], {
        code: "InvalidParameterValue",
        message: "too long",
        retryable: false,
      }),
    }));
    const result = await deliverInBatches(recordsOf(3), sender, { sink: "out", clock });
    expect(calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(result.delivered).toBe(2);
    expect(result.failed.map((f) => f.record.eventID)).toEqual(["e1"]);
    expect(result.failed[0]?.error).toMatchObject({
      code: "InvalidParameterValue",
      context: { sink: "out", eventID: "e1", attempts: 1, retryable: false },
    });
    expect(result.failed[0]?.error.message).toContain("too long");
  });

  it("gives up on a retryable failure after the configured attempts, backing off with full jitter", async () => {
    const clock = instantClock();
    const { sender, calls } = fakeSender((entries) => ({
      failed: failAt(entries, ["e0"], { code: "ThrottlingException", message: "slow down", retryable: true }),
    }));
    const result = await deliverInBatches(recordsOf(2), sender, {
      sink: "out",
      clock,
      random: () => 0.5,
      retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 },
    });
    expect(calls).toEqual([["e0", "e1"], ["e0"], ["e0"], ["e0"]]);
    expect(clock.sleeps).toEqual([50, 100, 150]);
    expect(result.delivered).toBe(1);
    expect(result.failed[0]?.error).toMatchObject({
      code: "ThrottlingException",
      context: { eventID: "e0", attempts: 4, retryable: true },
    });
    expect(result.failed[0]?.error.message).toMatch(/still failing after 4 attempts/);
  });

  it("stops retrying once the time budget is spent", async () => {
    const clock = instantClock();
    const { sender, calls } = fakeSender((entries) => {
      clock.advance(1000);
      return { failed: failAt(entries, ["e0"], { code: "InternalError", message: "busy", retryable: true }) };
    });
    const result = await deliverInBatches(recordsOf(1), sender, {
      sink: "out",
      clock,
      random: () => 0,
      retry: { attempts: 10, maxElapsedMs: 2500 },
    });
    expect(calls).toHaveLength(3);
    expect(result.failed[0]?.error).toMatchObject({ code: "InternalError", context: { attempts: 3 } });
  });

  it("retries a whole request when send throws a retryable error", async () => {
    const { sender, calls } = fakeSender((_entries, call) => {
      if (call === 1) throw sdkError("ThrottlingException");
      return { failed: [] };
    });
    const result = await deliverInBatches(recordsOf(3), sender, { sink: "out", clock: instantClock() });
    expect(calls).toEqual([
      ["e0", "e1", "e2"],
      ["e0", "e1", "e2"],
    ]);
    expect(result).toEqual({ delivered: 3, failed: [] });
  });

  it("fails every entry of a request when send throws a non-retryable error", async () => {
    const thrown = sdkError("QueueDoesNotExist");
    const { sender, calls } = fakeSender((entries) => {
      if (entries.includes("e0")) throw thrown;
      return { failed: [] };
    });
    const result = await deliverInBatches(recordsOf(12), sender, { sink: "out", clock: instantClock() });
    expect(calls.map((c) => c.length)).toEqual([10, 2]);
    expect(result.delivered).toBe(2);
    expect(result.failed.map((f) => f.record.eventID)).toEqual(recordsOf(10).map((r) => r.eventID));
    for (const { error } of result.failed) {
      expect(error).toMatchObject({ code: "QueueDoesNotExist", context: { sink: "out", retryable: false } });
      expect(error.cause).toBe(thrown);
    }
  });

  it("keeps at most maxRequestsInFlight requests in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const { sender, calls } = fakeSender(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { failed: [] };
    });
    const limited = await deliverInBatches(recordsOf(100), sender, { sink: "out", maxRequestsInFlight: 3 });
    expect(calls).toHaveLength(10);
    expect(peak).toBe(3);
    expect(limited.delivered).toBe(100);

    peak = 0;
    await deliverInBatches(recordsOf(100), sender, { sink: "out" });
    expect(peak).toBe(DEFAULT_MAX_REQUESTS_IN_FLIGHT);
  });

  it("fails every entry of a request whose result names an entry outside it, and finishes the rest", async () => {
    const { sender, calls } = fakeSender(
      (_entries, call) =>
        call === 1 ? { failed: [{ index: 5, code: "X", message: "x", retryable: false }] } : { failed: [] },
      { maxEntries: 2 },
    );
    const result = await deliverInBatches(recordsOf(4), sender, { sink: "out", clock: instantClock() });
    expect(calls).toHaveLength(2);
    expect(result.delivered).toBe(2);
    expect(result.failed.map((f) => [f.record.eventID, (f.error as DeliveryError).code])).toEqual([
      ["e0", "InvalidSendResult"],
      ["e1", "InvalidSendResult"],
    ]);
  });
});

describe("backoffDelay", () => {
  const settings = resolveRetrySettings({ baseDelayMs: 100, maxDelayMs: 1000 });

  it("draws from [0, base·2^(retry−1)), capped at maxDelayMs", () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, settings, () => 0.999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, settings, () => 0)).toBe(0);
  });

  it("uses the defaults for settings left out", () => {
    expect(resolveRetrySettings({ attempts: 2, baseDelayMs: undefined })).toEqual({
      attempts: 2,
      baseDelayMs: 100,
      maxDelayMs: 5000,
      maxElapsedMs: 30_000,
    });
  });
});

describe("deliverInBatches, ordered (FIFO)", () => {
  it("sends nothing after a request that must be retried, so no entry overtakes an earlier one", async () => {
    const transient = Object.assign(new Error("busy"), {
      name: "ServiceUnavailable",
      $metadata: { httpStatusCode: 503 },
    });
    const { sender, calls } = fakeSender(
      (_entries, call) => {
        if (call === 1) throw transient;
        return { failed: [] };
      },
      { maxEntries: 2 },
    );
    const result = await deliverInBatches(recordsOf(6), sender, {
      sink: "out",
      clock: instantClock(),
      ordered: true,
    });
    expect(calls).toEqual([
      ["e0", "e1"],
      ["e0", "e1"],
      ["e2", "e3"],
      ["e4", "e5"],
    ]);
    expect(result).toEqual({ delivered: 6, failed: [] });
  });

  it("reports the held-back entries as not sent when the retries run out", async () => {
    const { sender, calls } = fakeSender(
      (entries) => ({
        failed: failAt(entries, ["e1"], { code: "Throttling", message: "slow down", retryable: true }),
      }),
      { maxEntries: 2 },
    );
    const result = await deliverInBatches(recordsOf(4), sender, {
      sink: "out",
      clock: instantClock(),
      ordered: true,
      retry: { attempts: 2 },
    });
    expect(calls).toEqual([
      ["e0", "e1"],
      ["e1", "e2"],
    ]);
    // e2 went out beside e1 in the second request; e3 was held back behind it.
    expect(result.failed.map((f) => [f.record.eventID, (f.error as DeliveryError).code])).toEqual([
      ["e1", "Throttling"],
      ["e3", "NotSent"],
    ]);
    expect(result.delivered).toBe(2);
  });
});
