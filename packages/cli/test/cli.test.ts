/**
 * The `trailrouter` command as a user runs it: a separate process, from the repository root,
 * after `pnpm build`.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TrailRecord } from "@trailrouter/core";
import {
  cloudTrailKey,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  generateTraffic,
  type LocalAws,
  queueDepth,
  startLocalAws,
} from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/trailrouter.js", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

async function trailrouter(args: string[], env: Record<string, string | undefined> = {}) {
  if (!existsSync(new URL("../dist/main.js", import.meta.url))) {
    throw new Error("packages/cli is not built: run `pnpm build` (pnpm test does)");
  }
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: "info", ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("trailrouter validate", () => {
  it("names every problem of a bad file with its path, exit 2, no stack trace", async () => {
    const { code, stderr, stdout } = await trailrouter(
      ["validate", "--config", `${FIXTURES}bad-pipeline.yaml`],
      {
        TRAIL_QUEUE_URL: undefined,
      },
    );
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).not.toMatch(/\n\s+at /);
    for (const expected of [
      /aws: unknown option "endpiont" \(did you mean "endpoint"\?\)/,
      /pipelines\[0\]\.source\.queueUrl: .*set TRAIL_QUEUE_URL/,
      /pipelines\[0\]\.source\.waitTimeSeconds: .*20/,
      /pipelines\[0\]\.source\.maxMessages: .*1/,
      /pipelines\[0\]\.routes\[0\]\.match\.pattern\.eventName: /,
      /pipelines\[0\]\.routes\[1\]\.match\.pattern\.eventName: Empty arrays are not allowed/,
      /pipelines\[0\]\.routes\[1\]\.to\[0\]: no sink named "userz"/,
      /pipelines\[0\]\.routes\[2\]\.name: .*users/,
      /pipelines\[0\]\.sinks\.instances: unknown option "queueUrll" \(did you mean "queueUrl"\?\)/,
      /pipelines\[0\]\.sinks\.instances: missing required option "queueUrl"/,
      /pipelines\[0\]\.sinks\.users(\.type)?: unknown sink type "kafka"/,
    ]) {
      expect(stderr).toMatch(expected);
    }
  });

  it("accepts a good YAML file and a good JSON file, exit 0", async () => {
    const yaml = await trailrouter(["validate", "--config", "examples/cmdb/pipeline.yaml"], {
      TRAIL_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/111122223333/CloudTrail",
      INSTANCES_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/111122223333/Instances",
      USERS_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/111122223333/Users",
    });
    expect(yaml.stderr).toBe("");
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toMatch(/valid, 1 pipeline/);
    const json = await trailrouter(["validate", "--config", `${FIXTURES}good-pipeline.json`]);
    expect(json.code).toBe(0);
    expect(json.stdout).toMatch(/cmdb: source sqs, 2 route\(s\), sinks instances \(sqs\), users \(sqs\)/);
  });

  it("reports a missing file as a configuration problem, exit 2", async () => {
    const { code, stderr } = await trailrouter(["validate", "--config", "no/such/pipeline.yaml"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no\/such\/pipeline\.yaml/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe("trailrouter run --once", () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(async () => {
    await aws.stop();
  });

  it("routes the CMDB example against a local emulator and leaves the notification queue empty", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "cli-trail",
      topicName: "CloudTrail",
      queueName: "CloudTrail",
      sinkQueues: ["Instances", "Users"],
    });
    const files = [0, 1, 2].map((i) => {
      const time = Date.UTC(2026, 10, 26, 9, i * 5);
      return {
        key: cloudTrailKey({ accountId: "111122223333", region: "us-east-1", time, kind: "log" }),
        records: generateTraffic({
          seed: 40 + i,
          count: 400,
          accountIds: ["111122223333"],
          regions: ["us-east-1"],
          start: time,
          sampleShare: 0.3,
        }),
      };
    });
    await deliverLogFiles(aws, world, files, { keysPerNotification: 2 });

    const { code, stdout, stderr } = await trailrouter(
      ["run", "--config", "examples/cmdb/pipeline.yaml", "--once"],
      {
        AWS_ENDPOINT_URL: aws.endpoint,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        TRAIL_QUEUE_URL: world.queueUrl,
        INSTANCES_QUEUE_URL: world.sinkQueueUrls.Instances,
        USERS_QUEUE_URL: world.sinkQueueUrls.Users,
      },
    );
    expect(code, stderr).toBe(0);
    // Logs are JSON lines on stderr when it is not a terminal.
    const logs = stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);

    const records = files.flatMap((f) => f.records);
    const expected = (names: string[]) => records.filter((r) => names.includes(r.eventName!)).length;
    const instances = await drainQueue(aws, world.sinkQueueUrls.Instances!);
    const users = await drainQueue(aws, world.sinkQueueUrls.Users!);
    expect(instances.length).toBe(
      expected(["RunInstances", "ModifyInstanceAttribute", "TerminateInstances"]),
    );
    expect(users.length).toBe(expected(["CreateUser", "DeleteUser"]));
    expect(instances[0]!.attributes).toMatchObject({
      eventName: (instances[0]!.body as TrailRecord).eventName,
      eventSource: "ec2.amazonaws.com",
    });
    expect(stdout).toMatch(new RegExp(`route instances\\s*│\\s*${instances.length} routed`));
    expect(stdout).toMatch(new RegExp(`route users\\s*│\\s*${users.length} routed`));
    expect(await queueDepth(aws, world.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});
