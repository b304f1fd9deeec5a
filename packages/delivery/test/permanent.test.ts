import type { Clock, DeliveryError, DeliveryResult, TrailRecord } from "@trailrouter/core";
import {
  type BatchSender,
  type BatchSendResult,
  batchingSink,
  CoalescingDelivery,
  deliverInBatches,
  type EntryFailure,
} from "@trailrouter/delivery";
import { pino } from "pino";
import { describe, expect, it } from "vitest";

/** A clock whose sleeps return at once and move time forward. */
function instantClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

/** A sender of event ids; `respond` decides each request's outcome. */
function fakeSender(
  respond: (entries: readonly string[], call: number) => BatchSendResult,
  limits: Partial<Pick<BatchSender<string>, "maxEntries" | "maxBatchBytes" | "maxEntryBytes">> = {},
) {
  const calls: string[][] = [];
  const sender: BatchSender<string> = {
    maxEntries: 10,
    maxBatchBytes: 1000,
    maxEntryBytes: 1000,
    ...limits,
    encode: (record) => {
      if (record.eventID === "not-encodable") throw new TypeError("Do not know how to serialize a BigInt");
      return { entry: String(record.eventID), bytes: Number(record.size ?? 10) };
    },
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

const records = (...ids: string[]): TrailRecord[] => ids.map((eventID) => ({ eventID }));

/** Each failure as [eventID, code, permanent]. */
const outcomes = (result: DeliveryResult) =>
  result.failed.map((f) => [f.record.eventID, (f.error as DeliveryError).code, f.permanent]);

const engines = {
  deliverInBatches: (batch: readonly TrailRecord[], sender: BatchSender<string>) =>
    deliverInBatches(batch, sender, { sink: "out", clock: instantClock(), retry: { attempts: 3 } }),
  "deliverInBatches, ordered": (batch: readonly TrailRecord[], sender: BatchSender<string>) =>
    deliverInBatches(batch, sender, {
      sink: "out",
      clock: instantClock(),
      retry: { attempts: 3 },
      ordered: true,
    }),
  CoalescingDelivery: async (batch: readonly TrailRecord[], sender: BatchSender<string>) => {
    const delivery = new CoalescingDelivery(sender, {
      sink: "out",
      clock: instantClock(),
      retry: { attempts: 3 },
    });
    const result = await delivery.deliver(batch);
    await delivery.close();
    return result;
  },
};

describe.each(Object.entries(engines))("permanent failures, %s", (_engine, deliver) => {
  it("makes RecordTooLarge and RecordNotEncodable permanent", async () => {
    const { sender, calls } = fakeSender(() => ({ failed: [] }));
    const result = await deliver(
      [{ eventID: "huge", size: 1001 }, { eventID: "not-encodable" }, { eventID: "ok" }],
      sender,
    );
    expect(calls).toEqual([["ok"]]);
    expect(outcomes(result)).toEqual([
      ["huge", "RecordTooLarge", true],
      ["not-encodable", "RecordNotEncodable", true],
    ]);
  });

  it("carries a permanent entry failure, sends it once, and keeps a non-permanent refusal transient", async () => {
    const { sender, calls } = fakeSender((entries) => ({
      failed: [
        ...failAt(entries, ["refused"], {
          code: "InvalidMessageContents",
          message: "Invalid characters found",
          retryable: false,
          permanent: true,
        }),
        ...failAt(entries, ["denied"], { code: "KMS.AccessDenied", message: "denied", retryable: false }),
      ],
    }));
    const result = await deliver(records("a", "refused", "denied", "b"), sender);
    expect(calls).toEqual([["a", "refused", "denied", "b"]]);
    expect(outcomes(result)).toEqual([
      ["refused", "InvalidMessageContents", true],
      ["denied", "KMS.AccessDenied", false],
    ]);
    expect(result.failed[0]?.error).toMatchObject({ context: { attempts: 1, retryable: false } });
  });

  it("never retries an entry failure marked permanent, even one also said to be retryable", async () => {
    const { sender, calls } = fakeSender((entries) => ({
      failed: failAt(entries, ["refused"], {
        code: "MalformedDetail",
        message: "bad JSON",
        retryable: true,
        permanent: true,
      }),
    }));
    const result = await deliver(records("refused", "b"), sender);
    expect(calls).toEqual([["refused", "b"]]);
    expect(outcomes(result)).toEqual([["refused", "MalformedDetail", true]]);
  });

  it("does not make permanent a retryable failure whose attempts ran out", async () => {
    const { sender, calls } = fakeSender((entries) => ({
      failed: failAt(entries, ["slow"], {
        code: "ThrottlingException",
        message: "slow down",
        retryable: true,
      }),
    }));
    const result = await deliver(records("slow"), sender);
    expect(calls).toHaveLength(3);
    expect(outcomes(result)).toEqual([["slow", "ThrottlingException", false]]);
  });

  it("never makes a failed request permanent, retryable or not", async () => {
    const missingQueue = Object.assign(new Error("The specified queue does not exist."), {
      name: "QueueDoesNotExist",
      $metadata: { httpStatusCode: 400 },
    });
    const outage = Object.assign(new Error("unavailable"), {
      name: "ServiceUnavailable",
      $metadata: { httpStatusCode: 503 },
    });
    for (const thrown of [missingQueue, outage]) {
      const { sender } = fakeSender(() => {
        throw thrown;
      });
      const result = await deliver(records("a", "b"), sender);
      expect(outcomes(result)).toEqual([
        ["a", thrown.name, false],
        ["b", thrown.name, false],
      ]);
    }
  });

  it("does not make InvalidSendResult permanent", async () => {
    const { sender } = fakeSender(() => ({
      failed: [{ index: 7, code: "X", message: "x", retryable: false, permanent: true }],
    }));
    const result = await deliver(records("a"), sender);
    expect(outcomes(result)).toEqual([["a", "InvalidSendResult", false]]);
  });
});

describe("permanent failures, the ordered path's held-back entries", () => {
  it("reports NotSent as not permanent, and a permanent refusal holds nothing back", async () => {
    const { sender, calls } = fakeSender(
      (entries) => ({
        failed: [
          ...failAt(entries, ["refused"], {
            code: "InvalidParameterValue",
            message: "too long",
            retryable: false,
            permanent: true,
          }),
          ...failAt(entries, ["slow"], { code: "Throttling", message: "slow down", retryable: true }),
        ],
      }),
      { maxEntries: 2 },
    );
    const result = await deliverInBatches(records("refused", "a", "slow", "b", "c"), sender, {
      sink: "out",
      clock: instantClock(),
      ordered: true,
      retry: { attempts: 2 },
    });
    expect(calls).toEqual([
      ["refused", "a"],
      ["slow", "b"],
      ["slow", "c"],
    ]);
    expect(outcomes(result)).toEqual([
      ["refused", "InvalidParameterValue", true],
      ["slow", "Throttling", false],
    ]);
  });

  it("reports an entry held back when the retries ran out as NotSent, not permanent", async () => {
    const { sender } = fakeSender(
      (entries) => ({
        failed: failAt(entries, ["slow"], { code: "Throttling", message: "slow down", retryable: true }),
      }),
      { maxEntries: 1 },
    );
    const result = await deliverInBatches(records("slow", "later"), sender, {
      sink: "out",
      clock: instantClock(),
      ordered: true,
      retry: { attempts: 2 },
    });
    expect(outcomes(result)).toEqual([
      ["slow", "Throttling", false],
      ["later", "NotSent", false],
    ]);
  });
});

describe("permanent failures, a closed CoalescingDelivery", () => {
  it("reports SinkClosed as not permanent", async () => {
    const { sender } = fakeSender(() => ({ failed: [] }));
    const delivery = new CoalescingDelivery(sender, { sink: "out" });
    await delivery.close();
    expect(outcomes(await delivery.deliver(records("late")))).toEqual([["late", "SinkClosed", false]]);
  });
});

describe("batchingSink.maxRecordBytes", () => {
  const context = { name: "out", pipeline: "p", clock: instantClock(), logger: pino({ level: "silent" }) };

  it.each([
    [{ maxEntryBytes: 1000, maxBatchBytes: 4000 }, 1000],
    [{ maxEntryBytes: 4000, maxBatchBytes: 1000 }, 1000],
  ])("is the smaller of the entry and the request limit (%o)", async (limits, expected) => {
    for (const ordered of [false, true]) {
      const { sender } = fakeSender(() => ({ failed: [] }), limits);
      const sink = batchingSink(sender, context, { ordered, close() {} });
      expect(sink.maxRecordBytes).toBe(expected);
      await sink.close();
    }
  });
});
