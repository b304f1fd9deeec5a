/**
 * The careless (and the hostile) user: pipeline files and inputs that `validate` used to accept
 * and that then lost, flooded or blocked data. Each runs the built `trailrouter` command in a
 * child process against fauxqs, as a user would, and checks it is refused when the file loads
 * (exit 2, with the path) or contained at run time.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { TrailRecord } from "@trailrouter/core";
import {
  cloudTrailKey,
  cloudTrailNotification,
  drainQueue,
  eventBridgeObjectCreated,
  type FaultProxy,
  type LocalAws,
  putLogFile,
  queueDepth,
  startFaultProxy,
  startLocalAws,
} from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../bin/trailrouter.js", import.meta.url));
const BUCKET = "careless-trail";
const ACCOUNT = "111122223333";

let aws: LocalAws;
let dir: string;
let counter = 0;

beforeAll(async () => {
  if (!existsSync(new URL("../dist/main.js", import.meta.url))) {
    throw new Error("packages/cli is not built: run `pnpm build` (pnpm test does)");
  }
  aws = await startLocalAws();
  aws.server.createBucket(BUCKET);
  dir = await mkdtemp(path.join(tmpdir(), "trailrouter-careless-"));
});

afterAll(async () => {
  await aws?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const CREDENTIALS = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" };

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `trailrouter ARGS` in a child process; `stop` SIGTERMs it (a daemon) after that many ms. */
function trailrouter(
  args: string[],
  options: { env?: Record<string, string | undefined>; stopAfterMs?: number; timeoutMs?: number } = {},
): Promise<Finished> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    LOG_LEVEL: "info",
    ...CREDENTIALS,
    ...options.env,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const stop =
    options.stopAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill("SIGTERM"), options.stopAfterMs);
  const kill = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(stop);
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    }),
  );
}

const validate = (config: string) => trailrouter(["validate", "--config", config]);
const runOnce = (config: string, env?: Record<string, string | undefined>) =>
  trailrouter(["run", "--once", "--config", config], { env });

/** Writes a JSON pipeline file and returns its path. */
async function pipelineFile(file: Record<string, unknown>, name = `file-${++counter}`): Promise<string> {
  const config = path.join(dir, `${name}.json`);
  await writeFile(config, JSON.stringify(file));
  return config;
}

async function newQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const { QueueUrl } = await aws.sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-${++counter}`, Attributes: attributes }),
  );
  return QueueUrl!;
}

/** One pipeline reading `queueUrl`, every IAM record to the sink `users` (an SQS queue). */
function onePipeline(
  queueUrl: string,
  usersUrl: string,
  changes: {
    source?: Record<string, unknown>;
    pipeline?: Record<string, unknown>;
    sinks?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  return {
    aws: { endpoint: aws.endpoint, region: aws.region },
    pipelines: [
      {
        name: "careless",
        source: { type: "sqs", queueUrl, waitTimeSeconds: 1, redeliveryDelaySeconds: 0, ...changes.source },
        routes: [
          {
            name: "users",
            match: { type: "event-pattern", pattern: { eventSource: ["iam.amazonaws.com"] } },
            to: ["users"],
          },
        ],
        sinks: { users: { type: "sqs", queueUrl: usersUrl }, ...changes.sinks },
        ...changes.pipeline,
      },
    ],
  };
}

const iamRecord = (eventID: string, extra: Record<string, unknown> = {}): TrailRecord => ({
  eventVersion: "1.09",
  eventID,
  eventName: "CreateUser",
  eventSource: "iam.amazonaws.com",
  eventTime: "2026-12-04T12:00:00Z",
  awsRegion: "us-east-1",
  recipientAccountId: ACCOUNT,
  ...extra,
});

/** Puts a log file of `records` under a CloudTrail key (or `key`) and announces it on `queueUrl`. */
async function announce(queueUrl: string, records: TrailRecord[], key?: string): Promise<string> {
  const logKey =
    key ??
    cloudTrailKey({ accountId: ACCOUNT, region: "us-east-1", time: "2026-12-04T12:05:00Z", kind: "log" });
  await putLogFile(aws, BUCKET, logKey, records);
  await aws.sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: cloudTrailNotification(BUCKET, [logKey]) }),
  );
  return logKey;
}

const eventIds = async (queueUrl: string) =>
  (await drainQueue(aws, queueUrl)).map((m) => (m.body as TrailRecord).eventID).sort();

describe("1. two pipelines of one file on one queue", () => {
  it("is refused when the file loads, naming both pipelines; run leaves the queue untouched", async () => {
    const queueUrl = await newQueue("shared");
    const usersUrl = await newQueue("users");
    const file = onePipeline(queueUrl, usersUrl);
    const [first] = file.pipelines as Record<string, unknown>[];
    // The same queue written another way: the trailing slash does not make it another queue.
    file.pipelines = [first, { ...first, name: "second", source: { type: "sqs", queueUrl: `${queueUrl}/` } }];
    await announce(queueUrl, [iamRecord("shared-1")]);
    const config = await pipelineFile(file);

    const checked = await validate(config);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain(
      'pipelines[1].source.queueUrl: pipeline "second" reads the same queue as pipeline "careless"',
    );
    expect((await runOnce(config)).code).toBe(2);
    expect(await queueDepth(aws, queueUrl)).toMatchObject({ visible: 1 });
  });
});

describe("2. a visibility timeout too short for the heartbeat", () => {
  it("is refused in the file", async () => {
    const config = await pipelineFile(
      onePipeline(await newQueue("vt-file"), await newQueue("users"), { source: { visibilityTimeout: 0 } }),
    );
    const checked = await validate(config);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toMatch(/pipelines\[0\]\.source\.visibilityTimeout: must be >= 2/);
  });

  it("is refused when the queue's own attribute is read at start: exit 1, nothing received", async () => {
    const queueUrl = await newQueue("vt-queue", { VisibilityTimeout: "0" });
    await announce(queueUrl, [iamRecord("vt-1")]);
    const config = await pipelineFile(onePipeline(queueUrl, await newQueue("users")));
    const run = await trailrouter(["run", "--config", config], { timeoutMs: 15_000 });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain("VisibilityTimeoutTooShort");
    expect(await queueDepth(aws, queueUrl)).toMatchObject({ visible: 1, inFlight: 0 });
  });
});

describe("3. waitTimeSeconds 0 on an idle queue", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: aws.endpoint });
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it("backs off: an idle daemon makes a couple of receives a second, not hundreds", async () => {
    const queueUrl = await newQueue("idle");
    const file = onePipeline(queueUrl, await newQueue("users"), { source: { waitTimeSeconds: 0 } });
    file.aws = { endpoint: proxy.endpoint, region: aws.region };
    const config = await pipelineFile(file);
    const before = proxy.requests.length;
    const run = await trailrouter(["run", "--config", config], { stopAfterMs: 5_000 });
    expect(run.code, run.stderr).toBe(0);
    const receives = proxy.requests
      .slice(before)
      .filter((r) => r.target === "AmazonSQS.ReceiveMessage" || r.body.includes("ReceiveMessage")).length;
    // Start-up takes about a second of the five; at most two a second after the backoff grew.
    expect(receives).toBeGreaterThan(0);
    expect(receives).toBeLessThanOrEqual(12);
  });
});

describe("4. a record with characters SQS refuses (U+FFFE, U+FFFF)", () => {
  // fauxqs refuses them as SQS documents (and also refuses characters above U+FFFF, which SQS
  // accepts: docs/COMPATIBILITY.md, "Characters above U+FFFF").
  it("is delivered, its value intact, and the file's message deleted", async () => {
    const queueUrl = await newQueue("nonchar");
    const usersUrl = await newQueue("users");
    const userAgent = "aws-cli/2.0 \uffff\ufffe hostile";
    await announce(queueUrl, [iamRecord("nonchar-1", { userAgent }), iamRecord("nonchar-2")]);
    const run = await runOnce(await pipelineFile(onePipeline(queueUrl, usersUrl)));
    expect(run.code, run.stderr).toBe(0);
    const delivered = await drainQueue(aws, usersUrl);
    expect(delivered.map((m) => (m.body as TrailRecord).eventID).sort()).toEqual(["nonchar-1", "nonchar-2"]);
    expect(delivered.find((m) => (m.body as TrailRecord).eventID === "nonchar-1")!.body).toMatchObject({
      userAgent,
    });
    expect(await queueDepth(aws, queueUrl)).toMatchObject({ visible: 0, inFlight: 0 });
  });
});

describe("5. a record that can never be delivered", () => {
  const big = () => iamRecord("big-1", { requestParameters: { policy: "x".repeat(4_000) } });

  it("goes to the recordDeadLetter sink, wrapped; the rest of the file is delivered and the message deleted", async () => {
    const queueUrl = await newQueue("poison-record");
    const usersUrl = await newQueue("users");
    const rejectedUrl = await newQueue("rejected");
    const key = await announce(queueUrl, [iamRecord("small-1"), big(), iamRecord("small-2")]);
    const file = onePipeline(queueUrl, usersUrl, {
      sinks: {
        users: { type: "sqs", queueUrl: usersUrl, maxMessageBytes: 2048 },
        rejected: { type: "sqs", queueUrl: rejectedUrl },
      },
      pipeline: { recordDeadLetter: { sink: "rejected" } },
    });
    const run = await runOnce(await pipelineFile(file));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("sink users");
    expect(run.stdout).toMatch(/1 refused for good, dead-lettered/);
    expect(await eventIds(usersUrl)).toEqual(["small-1", "small-2"]);
    const letters = (await drainQueue(aws, rejectedUrl)).map((m) => m.body as Record<string, unknown>);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      trailrouterRecordDeadLetter: 1,
      pipeline: "careless",
      sink: "users",
      routes: ["users"],
      bucket: BUCKET,
      key,
      error: { code: "RecordTooLarge" },
      recordSummary: { eventID: "big-1", eventName: "CreateUser" },
    });
    expect(await queueDepth(aws, queueUrl)).toMatchObject({ visible: 0, inFlight: 0 });
    // Never silent: the dead letter is logged.
    expect(run.stderr).toContain('refused for good, delivered to the recordDeadLetter sink \\"rejected\\"');
  });

  it("keeps its message in the queue when no recordDeadLetter is configured", async () => {
    const queueUrl = await newQueue("poison-kept");
    const usersUrl = await newQueue("users");
    await announce(queueUrl, [iamRecord("small-3"), big()]);
    const file = onePipeline(queueUrl, usersUrl, {
      sinks: { users: { type: "sqs", queueUrl: usersUrl, maxMessageBytes: 2048 } },
    });
    const run = await runOnce(await pipelineFile(file));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("FAILED: some envelopes were given back");
    expect(await queueDepth(aws, queueUrl)).toMatchObject({ visible: 1 });
  });
});

describe("7. a notification that lists one key 50 times", () => {
  it("fetches the object once and delivers its records once", async () => {
    const queueUrl = await newQueue("repeated");
    const usersUrl = await newQueue("users");
    const key = cloudTrailKey({
      accountId: ACCOUNT,
      region: "us-east-1",
      time: "2026-12-04T12:05:00Z",
      kind: "log",
    });
    await putLogFile(aws, BUCKET, key, [iamRecord("rep-1"), iamRecord("rep-2")]);
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: cloudTrailNotification(BUCKET, Array(50).fill(key)),
      }),
    );
    const run = await runOnce(await pipelineFile(onePipeline(queueUrl, usersUrl)));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1 decoded, skipped: duplicate 49/);
    expect(await eventIds(usersUrl)).toEqual(["rep-1", "rep-2"]);
  });
});

describe("8. a log file whose key prefix holds a digest folder", () => {
  it("is read as the log it is, not skipped as a digest", async () => {
    const queueUrl = await newQueue("prefix");
    const usersUrl = await newQueue("users");
    const logKey = cloudTrailKey({
      accountId: ACCOUNT,
      region: "us-east-1",
      time: "2026-12-04T12:05:00Z",
      kind: "log",
      prefix: `AWSLogs/${ACCOUNT}/CloudTrail-Digest/us-east-1/archive`,
    });
    await announce(queueUrl, [iamRecord("prefixed-1")], logKey);
    const run = await runOnce(await pipelineFile(onePipeline(queueUrl, usersUrl)));
    expect(run.code, run.stderr).toBe(0);
    expect(await eventIds(usersUrl)).toEqual(["prefixed-1"]);
  });
});

describe("9. EventBridge Object Created keys with + and %", () => {
  // Assumed, not checked against AWS (docs/COMPATIBILITY.md, "Keys in S3 event notifications and
  // EventBridge events"): whether EventBridge URL-encodes the key. Both spellings must work.
  it("reads each object, whether the key came encoded or as written", async () => {
    const queueUrl = await newQueue("eventbridge-keys");
    const usersUrl = await newQueue("users");
    // Written as they are (a literal + and %), and encoded (a space sent as +).
    const objects = [
      ["logs/plus+sign.json.gz", "logs/plus+sign.json.gz"],
      ["logs/pct%20lit.json.gz", "logs/pct%20lit.json.gz"],
      ["logs/100%.json.gz", "logs/100%.json.gz"],
      ["logs/a b.json.gz", "logs/a+b.json.gz"],
    ] as const;
    for (const [index, [key, announced]] of objects.entries()) {
      await putLogFile(aws, BUCKET, key, [iamRecord(`eb-key-${index}`)]);
      await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: eventBridgeObjectCreated(BUCKET, announced),
        }),
      );
    }
    const run = await runOnce(await pipelineFile(onePipeline(queueUrl, usersUrl)));
    expect(run.code, run.stderr).toBe(0);
    expect(await eventIds(usersUrl)).toEqual(["eb-key-0", "eb-key-1", "eb-key-2", "eb-key-3"]);
  });
});

describe("10. exit codes and messages", () => {
  it("refuses a file nested 5,000 levels deep: exit 2, its path, no stack overflow", async () => {
    const config = path.join(dir, "deep.json");
    await writeFile(config, `{"pipelines": [], "deep": ${'{"a":'.repeat(5000)}{}${"}".repeat(5000)}}`);
    const checked = await validate(config);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain("nested more than 128 levels deep");
    expect(checked.stderr).not.toMatch(/call stack/i);
  });

  it("a daemon whose source queue does not exist: an error, exit 1, at once", async () => {
    const missing = `${aws.endpoint}/000000000000/no-such-queue-${++counter}`;
    const config = await pipelineFile(onePipeline(missing, await newQueue("users")));
    const started = Date.now();
    const run = await trailrouter(["run", "--config", config], { timeoutMs: 20_000 });
    expect(run.code, run.stderr).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.stderr).toMatch(/"level":50/);
    expect(run.stderr).toMatch(/NonExistentQueue|QueueDoesNotExist/);
  });

  it("a daemon stopped while its queue cannot be reached: exit 1, not 0", async () => {
    const unreachable = onePipeline(await newQueue("unreachable"), await newQueue("users"));
    // A loopback port nobody listens on: connections are refused, which the source retries.
    unreachable.aws = { endpoint: "http://127.0.0.1:9", region: aws.region, maxAttempts: 1 };
    const run = await trailrouter(["run", "--config", await pipelineFile(unreachable)], {
      stopAfterMs: 3_000,
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain("receiving from the queue failed; retrying with backoff");
  });

  it("--once without credentials says the queue could not be read, not that envelopes were given back", async () => {
    const config = await pipelineFile(onePipeline(await newQueue("no-credentials"), await newQueue("users")));
    const run = await runOnce(config, {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: path.join(dir, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "no-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("FAILED: a source queue could not be read");
    expect(run.stdout).not.toContain("some envelopes were given back");
    expect(run.stdout).toContain("receive/CredentialsProviderError");
  });

  describe("plugins a careless author wrote", () => {
    const sinkModule = (type: string, schema: string, create: string) =>
      `export default { kind: "sink", type: ${JSON.stringify(type)}, schema: ${schema}, create: ${create} };\n`;
    const workingCreate =
      "() => ({ deliver: async (r) => ({ delivered: r.length, failed: [] }), close: async () => {} })";
    const plainSchema = '{ type: "object", properties: {} }';

    async function withPlugin(module: string, type: string, plugin = `./plugin-${++counter}.mjs`) {
      if (plugin.startsWith("./")) await writeFile(path.join(dir, plugin), module);
      const file = onePipeline(await newQueue("plugin"), await newQueue("users"), {
        sinks: { hook: { type } },
      });
      file.plugins = [plugin];
      const pipeline = (file.pipelines as { routes: { to: string[] }[] }[])[0]!;
      pipeline.routes[0]!.to.push("hook");
      return pipelineFile(file);
    }

    it.each([
      [
        "a schema with required: 5",
        sinkModule("bad", '{ type: "object", properties: {}, required: 5 }', workingCreate),
        "bad",
        /plugins\[0\]: .*schema\.required must be an array of option names/,
      ],
      [
        "the type __proto__",
        sinkModule("__proto__", plainSchema, workingCreate),
        "__proto__",
        /plugins\[0\]: .*type "__proto__" must start with a letter/,
      ],
      [
        "an option type ajv refuses",
        sinkModule("bad", '{ type: "object", properties: { n: { type: "integr" } } }', workingCreate),
        "bad",
        /plugins\[0\]: the sink plugin "bad" of ".*" has an invalid schema/,
      ],
    ])("refuses %s at its plugins entry: exit 2", async (_what, module, type, message) => {
      const checked = await validate(await withPlugin(module, type));
      expect(checked.code, checked.stderr).toBe(2);
      expect(checked.stderr).toMatch(message);
      expect(checked.stderr).not.toMatch(/\n\s+at /);
    });

    it("says node:fs is a Node.js built-in, not a missing file: exit 2", async () => {
      const checked = await validate(await withPlugin("", "bad", "node:fs"));
      expect(checked.code).toBe(2);
      expect(checked.stderr).toContain(
        'plugins[0]: "node:fs" is a Node.js built-in module, not a plugin module',
      );
    });

    it.each([
      ["returns a number", "() => 42", /create\(\) returned number 42, not a sink/],
      ["throws", '() => { throw new Error("no endpoint configured"); }', /: no endpoint configured/],
    ])("names the plugin whose create() %s: exit 2", async (_what, create, message) => {
      const config = await withPlugin(sinkModule("odd", plainSchema, create), "odd");
      expect((await validate(config)).code).toBe(0);
      const run = await runOnce(config);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/trailrouter: cannot create sink "hook" \(odd\) of pipeline "careless"/);
      expect(run.stderr).toMatch(message);
    });
  });
});

describe("11. contradictions in one file", () => {
  it("refuses a sink that writes to the source queue", async () => {
    const queueUrl = await newQueue("loop");
    const config = await pipelineFile(onePipeline(queueUrl, queueUrl));
    const checked = await validate(config);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toMatch(
      /pipelines\[0\]\.source\.queueUrl: sink "users" of pipeline "careless" \(pipelines\[0\]\.sinks\.users\) writes to this source queue/,
    );
  });

  it("refuses maxRedeliveryDelaySeconds below redeliveryDelaySeconds", async () => {
    const config = await pipelineFile(
      onePipeline(await newQueue("delays"), await newQueue("users"), {
        source: { redeliveryDelaySeconds: 60, maxRedeliveryDelaySeconds: 30 },
      }),
    );
    const checked = await validate(config);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain("pipelines[0].source.maxRedeliveryDelaySeconds");
  });
});
