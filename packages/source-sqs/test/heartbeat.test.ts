/** The heartbeat's own timing rules (pure logic: a fake `extend`, real timers, short intervals). */
import { describe, expect, it } from "vitest";
import { Heartbeat } from "../src/heartbeat.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Heartbeat", () => {
  it("extends every half timeout, and never queues a beat behind one still waiting", async () => {
    let calls = 0;
    let release: () => void = () => {};
    const heartbeat = new Heartbeat(
      0.1,
      () => {
        calls += 1;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      () => {},
    );
    await sleep(260); // about five ticks, the first beat still unanswered
    expect(calls).toBe(1);
    release();
    await sleep(300);
    expect(calls).toBeGreaterThanOrEqual(2);
    release();
    await heartbeat.stop();
  });

  it("waits for a beat in flight when stopped, but no longer than maxWaitMs", async () => {
    const heartbeat = new Heartbeat(
      0.1,
      () => new Promise<void>(() => {}),
      () => {},
    );
    await sleep(70); // one beat sent, never answered
    const started = Date.now();
    await heartbeat.stop(100);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(1_000);
  });

  it("reports a failed beat and tries again at the next one", async () => {
    const failures: number[] = [];
    let calls = 0;
    const heartbeat = new Heartbeat(
      0.1,
      async () => {
        calls += 1;
        if (calls === 1) throw new Error("throttled");
      },
      (_error, beat) => failures.push(beat),
    );
    await sleep(400);
    await heartbeat.stop();
    expect(failures).toEqual([1]);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
