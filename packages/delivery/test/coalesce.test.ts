import type { Clock, TrailRecord } from "@trailrouter/core";
import {
  type BatchSender,
  type BatchSendResult,
  batchingSink,
  CoalescingDelivery,
  type EntryFailure,
} from "@trailrouter/delivery";
import { pino } from "pino";
import { describe, expect, it } from "vitest";

const recordsOf = (prefix: string, count: number, size = 10): TrailRecord[] =>
  Array.from({ length: count }, (_, i) => ({ eventID: `${prefix}${i}`, size }));
const idsOf = (records: readonly TrailRecord[]) => records.map((record) => record.eventID);

/**
 * A clock whose sleeps wait until `wake()`: lingers and backoffs end when the test says. Time moves
 * by each sleep's length when it is woken.
 */
function manualClock(): Clock & { sleeps: number[]; wake(): Promise<void> } {
  let now = 0;
  const sleeps: number[] = [];
  let waiting: { ms: number; resolve: () => void }[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        sleeps.push(ms);
        if (signal?.aborted) return resolve();
        waiting.push({ ms, resolve });
        signal?.addEventListener("abort", () => resolve(), { once: true });
      }),
    async wake() {
      const woken = waiting;
      waiting = [];
      for (const { ms, resolve } of woken) {
        now += ms;
        resolve();
      }
      // Once for the woken callbacks, once for the linger they may start.
      await settle();
      await settle();
    },
  };
}

/** Lets pending promise callbacks and a turn of the event loop run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A sender of event ids; `respond` decides each request's outcome (all accepted by default). */
function fakeSender(
  respond: (entries: readonly string[], call: number) => Promise<BatchSendResult> | BatchSendResult = () => ({
    failed: [],
  }),
) {
  const calls: string[][] = [];
  const sender: BatchSender<string> = {
    maxEntries: 10,
    maxBatchBytes: 1000,
    maxEntryBytes: 1000,
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
): EntryFailure[] =>
  ids.filter((id) => entries.includes(id)).map((id) => ({ index: entries.indexOf(id), ...failure }));

describe("CoalescingDelivery", () => {
  it("sends the records of calls made in the same turn together, and resolves each call with its own result", async () => {
    const { sender, calls } = fakeSender();
    const delivery = new CoalescingDelivery(sender, { sink: "out" });
    const results = await Promise.all([
      delivery.deliver(recordsOf("a", 4)),
      delivery.deliver(recordsOf("b", 3)),
      delivery.deliver(recordsOf("c", 5)),
    ]);
    expect(calls).toEqual([
      [...idsOf(recordsOf("a", 4)), ...idsOf(recordsOf("b", 3)), "c0", "c1", "c2"],
      ["c3", "c4"],
    ]);
    expect(results).toEqual([
      { delivered: 4, failed: [] },
      { delivered: 3, failed: [] },
      { delivered: 5, failed: [] },
    ]);
  });

  it("reports a failed entry to its own call only", async () => {
    const { sender, calls } = fakeSender((entries) => ({
      failed: failAt(entries, ["b1"], { code: "InvalidParameterValue", message: "bad", retryable: false }),
    }));
    const delivery = new CoalescingDelivery(sender, { sink: "out", pipeline: "p" });
    const [a, b] = await Promise.all([
      delivery.deliver(recordsOf("a", 3)),
      delivery.deliver(recordsOf("b", 3)),
    ]);
    expect(calls).toHaveLength(1);
    expect(a).toEqual({ delivered: 3, failed: [] });
    expect(b.delivered).toBe(2);
    expect(b.failed.map((f) => f.record.eventID)).toEqual(["b1"]);
    expect(b.failed[0]?.error).toMatchObject({
      code: "InvalidParameterValue",
      stage: "deliver",
      context: { sink: "out", pipeline: "p", eventID: "b1", attempts: 1, retryable: false },
    });
  });

  it("reports records too large or not encodable at once, without holding the call's other records", async () => {
    const { sender, calls } = fakeSender();
    const delivery = new CoalescingDelivery(sender, { sink: "out" });
    const result = await delivery.deliver([{ eventID: "huge", size: 2000 }, ...recordsOf("a", 2)]);
    expect(calls).toEqual([["a0", "a1"]]);
    expect(result.delivered).toBe(2);
    expect(result.failed[0]?.error).toMatchObject({ code: "RecordTooLarge", context: { eventID: "huge" } });
    expect(await delivery.deliver([{ eventID: "huge", size: 2000 }])).toMatchObject({ delivered: 0 });
  });

  it("retries a call's failed entries after a backoff, beside newer entries, and resolves each call when its entries are done", async () => {
    const clock = manualClock();
    const { sender, calls } = fakeSender((entries, call) => ({
      failed:
        call === 1
          ? failAt(entries, ["a1"], { code: "InternalError", message: "busy", retryable: true })
          : [],
    }));
    const delivery = new CoalescingDelivery(sender, { sink: "out", clock, random: () => 0.5 });
    let aDone = false;
    const a = delivery.deliver(recordsOf("a", 2)).then((result) => {
      aDone = true;
      return result;
    });
    await settle();
    expect(calls).toEqual([["a0", "a1"]]);
    expect(clock.sleeps).toEqual([50]);
    expect(aDone).toBe(false);

    // A call made during the backoff goes out at once; the retry waits for the backoff.
    const b = delivery.deliver(recordsOf("b", 2));
    await settle();
    expect(calls).toEqual([
      ["a0", "a1"],
      ["b0", "b1"],
    ]);
    expect(await b).toEqual({ delivered: 2, failed: [] });
    await clock.wake();
    expect(calls[2]).toEqual(["a1"]);
    expect(await a).toEqual({ delivered: 2, failed: [] });
  });

  it("gives up on an entry after its attempts, and reports it with the number of sends", async () => {
    const clock = manualClock();
    const { sender, calls } = fakeSender((entries) => ({
      failed: failAt(entries, ["a0"], { code: "ThrottlingException", message: "slow down", retryable: true }),
    }));
    const delivery = new CoalescingDelivery(sender, {
      sink: "out",
      clock,
      random: () => 0.5,
      retry: { attempts: 3, baseDelayMs: 100 },
    });
    const result = delivery.deliver(recordsOf("a", 2));
    await settle();
    await clock.wake();
    await clock.wake();
    expect(calls).toEqual([["a0", "a1"], ["a0"], ["a0"]]);
    expect(clock.sleeps).toEqual([50, 100]);
    const { delivered, failed } = await result;
    expect(delivered).toBe(1);
    expect(failed[0]?.error).toMatchObject({
      code: "ThrottlingException",
      context: { eventID: "a0", attempts: 3, retryable: true },
    });
  });

  it("holds a request that is not full until the linger ends, and sends a full one at once", async () => {
    const clock = manualClock();
    const { sender, calls } = fakeSender();
    const delivery = new CoalescingDelivery(sender, { sink: "out", clock, lingerMs: 20 });
    const a = delivery.deliver(recordsOf("a", 3));
    await settle();
    expect(calls).toEqual([]);
    expect(clock.sleeps).toEqual([20]);

    const b = delivery.deliver(recordsOf("b", 9));
    await settle();
    expect(calls).toEqual([[...idsOf(recordsOf("a", 3)), ...idsOf(recordsOf("b", 7))]]);
    expect(await a).toEqual({ delivered: 3, failed: [] });

    await clock.wake();
    expect(calls[1]).toEqual(["b7", "b8"]);
    expect(await b).toEqual({ delivered: 9, failed: [] });
  });

  it("keeps at most maxRequestsInFlight requests in flight; what waits meanwhile goes out in full requests", async () => {
    let inFlight = 0;
    let peak = 0;
    const { sender, calls } = fakeSender(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { failed: [] };
    });
    const delivery = new CoalescingDelivery(sender, { sink: "out", maxRequestsInFlight: 2 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, caller) => delivery.deliver(recordsOf(`c${caller}-`, 3))),
    );
    expect(peak).toBe(2);
    expect(calls.flat()).toHaveLength(60);
    expect(calls.map((call) => call.length)).toEqual([10, 10, 10, 10, 10, 10]);
    expect(results.every((result) => result.delivered === 3 && result.failed.length === 0)).toBe(true);
  });

  it("on close, fails what waits (queued or for a retry), lets the requests in flight finish, then refuses new records", async () => {
    const clock = manualClock();
    let answer: (() => void) | undefined;
    const { sender, calls } = fakeSender(async (entries, call) => {
      if (call === 2) await new Promise<void>((resolve) => (answer = resolve));
      return {
        failed: failAt(entries, ["a0"], { code: "InternalError", message: "busy", retryable: true }),
      };
    });
    const delivery = new CoalescingDelivery(sender, { sink: "out", clock, lingerMs: 1000, random: () => 0 });
    const a = delivery.deliver(recordsOf("a", 10));
    await settle();
    const b = delivery.deliver(recordsOf("b", 10));
    const c = delivery.deliver(recordsOf("c", 2));
    await settle();
    expect(calls.map((call) => call[0])).toEqual(["a0", "b0"]);

    await delivery.close();
    expect(await c).toMatchObject({ delivered: 0, failed: [{ error: { code: "SinkClosed" } }, {}] });
    const closedA = await a;
    expect(closedA.delivered).toBe(9);
    expect(closedA.failed[0]?.error).toMatchObject({ code: "InternalError", context: { eventID: "a0" } });
    answer?.();
    expect(await b).toEqual({ delivered: 10, failed: [] });

    const late = await delivery.deliver(recordsOf("d", 1));
    expect(late.delivered).toBe(0);
    expect(late.failed[0]?.error).toMatchObject({ code: "SinkClosed", context: { eventID: "d0" } });
    expect(calls).toHaveLength(2);
  });
});

describe("batchingSink", () => {
  const context = { name: "out", pipeline: "p", clock: manualClock(), logger: pino({ level: "silent" }) };

  it("shares requests between the deliver calls of a standard sink", async () => {
    const { sender, calls } = fakeSender();
    const sink = batchingSink(sender, context, { close() {} });
    await Promise.all([sink.deliver(recordsOf("a", 2)), sink.deliver(recordsOf("b", 2))]);
    expect(calls).toEqual([["a0", "a1", "b0", "b1"]]);
    await sink.close();
  });

  it("delivers each call of an ordered (FIFO) sink on its own, so one call's retry never holds another's records", async () => {
    const { sender, calls } = fakeSender();
    let closed = false;
    const sink = batchingSink(sender, context, {
      ordered: true,
      close() {
        closed = true;
      },
    });
    await Promise.all([sink.deliver(recordsOf("a", 2)), sink.deliver(recordsOf("b", 2))]);
    expect(calls).toEqual([
      ["a0", "a1"],
      ["b0", "b1"],
    ]);
    await sink.close();
    expect(closed).toBe(true);
  });
});
