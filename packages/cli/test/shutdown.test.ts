/**
 * Graceful shutdown of `trailrouter run`, as an orchestrator does it: the built command in a child
 * process, SIGTERM while a sink is still delivering, against fauxqs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  cloudTrailKey,
  cloudTrailNotification,
  type LocalAws,
  putLogFile,
  queueDepth,
  startLocalAws,
} from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../bin/trailrouter.js", import.meta.url));
const BUCKET = "shutdown-trail";

/**
 * A sink that marks when a delivery starts, waits `delayMs`, then appends the event ids it
 * delivered to `deliveredFile`. With `hangOnClose`, its close() never returns and keeps the
 * process busy, like a client stuck on a dead connection.
 */
const SLOW_SINK_MODULE = `
import { appendFileSync, writeFileSync } from "node:fs";
export default {
  kind: "sink",
  type: "slow-file",
  schema: {
    type: "object",
    properties: {
      startedFile: { type: "string" },
      deliveredFile: { type: "string" },
      delayMs: { type: "integer" },
      hangOnClose: { type: "boolean" },
    },
    required: ["startedFile", "deliveredFile", "delayMs"],
  },
  create: (config) => ({
    async deliver(records) {
      writeFileSync(config.startedFile, "started");
      await new Promise((resolve) => setTimeout(resolve, config.delayMs));
      for (const record of records) appendFileSync(config.deliveredFile, record.eventID + "\\n");
      return { delivered: records.length, failed: [] };
    },
    close() {
      if (!config.hangOnClose) return Promise.resolve();
      setInterval(() => {}, 1_000);
      return new Promise(() => {});
    },
  }),
};
`;

let aws: LocalAws;
let dir: string;

beforeAll(async () => {
  if (!existsSync(new URL("../dist/main.js", import.meta.url))) {
    throw new Error("packages/cli is not built: run `pnpm build` (pnpm test does)");
  }
  aws = await startLocalAws();
  aws.server.createBucket(BUCKET);
  dir = await mkdtemp(path.join(tmpdir(), "trailrouter-shutdown-"));
  await writeFile(path.join(dir, "slow-sink.mjs"), SLOW_SINK_MODULE);
});

afterAll(async () => {
  await aws?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Scenario {
  readonly name: string;
  readonly messages: number;
  readonly delayMs: number;
  readonly shutdownTimeoutSeconds: number;
  /** Of the source; 120 s unless a test needs killed work to reappear soon. */
  readonly visibilityTimeout?: number;
  readonly hangOnClose?: boolean;
}

/** A source queue holding `messages` notifications (one log file of 2 records each) and a pipeline file. */
async function prepare(scenario: Scenario) {
  const queueUrl = aws.server.createQueue(`${scenario.name}-trail`).queueUrl;
  const eventIds: string[] = [];
  for (let i = 0; i < scenario.messages; i++) {
    const key = cloudTrailKey({
      accountId: "111122223333",
      region: "us-east-1",
      time: "2026-11-26T12:05:00Z",
      kind: "log",
    });
    const records = [0, 1].map((n) => ({
      eventID: `${scenario.name}-${i}-${n}`,
      eventName: "RunInstances",
      eventSource: "ec2.amazonaws.com",
    }));
    eventIds.push(...records.map((r) => r.eventID));
    await putLogFile(aws, BUCKET, key, records);
    await aws.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: cloudTrailNotification(BUCKET, [key]) }),
    );
  }
  const startedFile = path.join(dir, `${scenario.name}.started`);
  const deliveredFile = path.join(dir, `${scenario.name}.delivered`);
  const config = path.join(dir, `${scenario.name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      aws: { endpoint: aws.endpoint, region: aws.region },
      plugins: ["./slow-sink.mjs"],
      shutdownTimeoutSeconds: scenario.shutdownTimeoutSeconds,
      pipelines: [
        {
          name: scenario.name,
          source: {
            type: "sqs",
            queueUrl,
            waitTimeSeconds: 1,
            visibilityTimeout: scenario.visibilityTimeout ?? 120,
            concurrency: 1,
            maxMessages: 1,
          },
          routes: [
            {
              name: "all",
              match: { type: "event-pattern", pattern: { eventName: ["RunInstances"] } },
              to: ["slow"],
            },
          ],
          sinks: {
            slow: {
              type: "slow-file",
              startedFile,
              deliveredFile,
              delayMs: scenario.delayMs,
              hangOnClose: scenario.hangOnClose ?? false,
            },
          },
        },
      ],
    }),
  );
  return { queueUrl, config, startedFile, deliveredFile, eventIds };
}

function startRun(config: string, extraArgs: string[] = []) {
  const child = spawn(process.execPath, [BIN, "run", "--config", config, ...extraArgs], {
    env: { ...process.env, LOG_LEVEL: "info", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function waitForFile(file: string, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (child.exitCode !== null) throw new Error(`trailrouter exited (${child.exitCode}) before delivering`);
    if (Date.now() > until) throw new Error(`no delivery started within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the scenario, sends SIGTERM once its first delivery started, and waits for the exit. */
async function terminateWhileDelivering(scenario: { config: string; startedFile: string }) {
  const run = startRun(scenario.config);
  await waitForFile(scenario.startedFile, run.child);
  const signalledAt = Date.now();
  run.child.kill("SIGTERM");
  const code = await run.exited;
  return { run, code, signalledAt };
}

async function delivered(file: string): Promise<string[]> {
  return existsSync(file) ? (await readFile(file, "utf8")).split("\n").filter(Boolean) : [];
}

describe("trailrouter run: SIGTERM", () => {
  it("lets the envelope in flight finish within shutdownTimeoutSeconds, gives back the rest, exits 0", async () => {
    const scenario = await prepare({
      name: "finish",
      messages: 2,
      delayMs: 1_500,
      shutdownTimeoutSeconds: 20,
    });
    const { run, code, signalledAt } = await terminateWhileDelivering(scenario);

    expect(code, run.stderr()).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    // The first message finished and was deleted; the second was never started and is still there,
    // visible now: nothing lost, nothing left hidden.
    const sent = await delivered(scenario.deliveredFile);
    expect(sent).toHaveLength(2);
    expect(scenario.eventIds).toEqual(expect.arrayContaining(sent));
    expect(await queueDepth(aws, scenario.queueUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it("gives back at once what is unfinished at the deadline, never deletes it, and exits 0", async () => {
    const scenario = await prepare({
      name: "deadline",
      messages: 1,
      delayMs: 60_000,
      shutdownTimeoutSeconds: 1,
    });
    const { run, code, signalledAt } = await terminateWhileDelivering(scenario);

    expect(code, run.stderr()).toBe(0);
    // The deadline (1 s) plus closing, far below the sink's 60 s and the 120 s visibility timeout.
    expect(Date.now() - signalledAt).toBeLessThan(6_000);
    expect(await delivered(scenario.deliveredFile)).toEqual([]);
    // Visible again right away, not after the visibility timeout.
    expect(await queueDepth(aws, scenario.queueUrl)).toEqual({ visible: 1, inFlight: 0 });
    expect(run.stderr()).toMatch(/shutdown deadline passed with 1 envelope\(s\) unfinished/);
  });

  it("exits though a sink's close() hangs: unfinished work given back, the hung close logged", async () => {
    const scenario = await prepare({
      name: "hung-close",
      messages: 1,
      delayMs: 60_000,
      shutdownTimeoutSeconds: 1,
      hangOnClose: true,
    });
    const { run, code, signalledAt } = await terminateWhileDelivering(scenario);

    expect(code, run.stderr()).toBe(0);
    // The deadline (1 s), the close grace (3 s) and the exit backstop (1 s), far below the hung
    // close's forever.
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(await delivered(scenario.deliveredFile)).toEqual([]);
    expect(await queueDepth(aws, scenario.queueUrl)).toEqual({ visible: 1, inFlight: 0 });
    expect(run.stderr()).toMatch(/1 plugin\(s\) did not close within \d+ ms/);
    expect(run.stderr()).toMatch(/"unclosed":\[\{"plugin":"sink:slow-file","name":"slow"\}\]/);
  });

  it("exits 130 at once on a second signal, deleting nothing", async () => {
    const scenario = await prepare({
      name: "twice",
      messages: 1,
      delayMs: 60_000,
      shutdownTimeoutSeconds: 60,
    });
    const run = startRun(scenario.config);
    await waitForFile(scenario.startedFile, run.child);
    run.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    run.child.kill("SIGTERM");
    const code = await run.exited;

    expect(code).toBe(130);
    expect(Date.now() - signalledAt).toBeLessThan(2_000);
    expect(await delivered(scenario.deliveredFile)).toEqual([]);
    // Still in the queue (hidden until its visibility timeout ends), not deleted.
    expect(await queueDepth(aws, scenario.queueUrl)).toEqual({ visible: 0, inFlight: 1 });
  });
});

describe("trailrouter run --once", () => {
  it("exits when done though a sink's close() hangs, the message deleted and the hung close logged", async () => {
    const scenario = await prepare({
      name: "once-hung-close",
      messages: 1,
      delayMs: 0,
      shutdownTimeoutSeconds: 30,
      hangOnClose: true,
    });
    const run = startRun(scenario.config, ["--once"]);
    const code = await run.exited;

    expect(code, run.stderr()).toBe(0);
    expect(new Set(await delivered(scenario.deliveredFile))).toEqual(new Set(scenario.eventIds));
    expect(await queueDepth(aws, scenario.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(run.stderr()).toMatch(/1 plugin\(s\) did not close within \d+ ms/);
  });
});

describe("trailrouter run: SIGKILL", () => {
  it("loses nothing when killed mid-batch: a restart receives the message again and finishes", async () => {
    const scenario = await prepare({
      name: "sigkill",
      messages: 3,
      delayMs: 1_000,
      shutdownTimeoutSeconds: 30,
      visibilityTimeout: 2,
    });
    const run = startRun(scenario.config);
    await waitForFile(scenario.startedFile, run.child);
    run.child.kill("SIGKILL");
    await run.exited;
    // Killed with no chance to clean up: still nothing was deleted before its records were delivered.
    const depth = await queueDepth(aws, scenario.queueUrl);
    expect(depth.visible + depth.inFlight).toBe(3);

    // The killed run's message reappears when its visibility timeout ends; a new run finishes all.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const restart = startRun(scenario.config, ["--once"]);
    expect(await restart.exited, restart.stderr()).toBe(0);
    expect(new Set(await delivered(scenario.deliveredFile))).toEqual(new Set(scenario.eventIds));
    expect(await queueDepth(aws, scenario.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});
