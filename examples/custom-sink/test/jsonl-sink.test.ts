/**
 * The custom sink loaded the way a user loads it: through `plugins:` in examples/custom-sink/pipeline.yaml,
 * run with `trailrouter run --once` against a local emulator; then the file is read back.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createDefaultRegistry, runCommand, validateCommand } from "@trailrouter/cli";
import {
  cloudTrailKey,
  createTrailWorld,
  deliverLogFiles,
  generateTraffic,
  type LocalAws,
  queueDepth,
  startLocalAws,
} from "@trailrouter/local-aws";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PIPELINE = fileURLToPath(new URL("../pipeline.yaml", import.meta.url));
const IAM_CHANGES = new Set([
  "CreateUser",
  "DeleteUser",
  "CreateAccessKey",
  "AttachUserPolicy",
  "PutUserPolicy",
]);

function collect() {
  let text = "";
  return {
    stream: new Writable({
      write(chunk, _e, done) {
        text += String(chunk);
        done();
      },
    }),
    text: () => text,
  };
}

describe("examples/custom-sink: a jsonl-file sink plugin in its own package", () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
    process.env.AWS_ENDPOINT_URL = aws.endpoint;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL;
    await aws.stop();
  });

  it("is loaded from the pipeline file's plugins list and receives exactly the routed records", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "audit-trail",
      topicName: "Trail",
      queueName: "Trail",
    });
    const files = [0, 1].map((i) => {
      const time = Date.UTC(2026, 10, 26, 10, i * 5);
      return {
        key: cloudTrailKey({ accountId: "111122223333", region: "us-east-1", time, kind: "log" }),
        records: generateTraffic({
          seed: 70 + i,
          count: 500,
          accountIds: ["111122223333"],
          regions: ["us-east-1"],
          start: time,
          sampleShare: 0.5,
        }),
      };
    });
    await deliverLogFiles(aws, world, files, { keysPerNotification: 2 });
    const expected = files
      .flatMap((f) => f.records)
      .filter((r) => r.eventSource === "iam.amazonaws.com" && IAM_CHANGES.has(r.eventName!));
    expect(expected.length).toBeGreaterThan(0);

    const auditFile = path.join(await mkdtemp(path.join(tmpdir(), "trailrouter-audit-")), "audit.jsonl");
    const out = collect();
    const err = collect();
    const code = await runCommand(PIPELINE, {
      once: true,
      registry: createDefaultRegistry(),
      logger: pino({ level: "silent" }),
      out: out.stream,
      err: err.stream,
      env: { ...process.env, TRAIL_QUEUE_URL: world.queueUrl, AUDIT_FILE: auditFile },
    });
    expect(err.text()).toBe("");
    expect(code).toBe(0);

    const lines = (await readFile(auditFile, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.eventID).sort()).toEqual(expected.map((r) => r.eventID).sort());
    // Only the fields the pipeline file asked for, under their dotted names.
    const first = expected.find((r) => r.eventID === lines[0]!.eventID)!;
    expect(lines[0]).toEqual({
      eventTime: first.eventTime,
      eventName: first.eventName,
      awsRegion: first.awsRegion,
      recipientAccountId: first.recipientAccountId,
      eventID: first.eventID,
      ...((first.userIdentity as { arn?: string }).arn
        ? { "userIdentity.arn": (first.userIdentity as { arn: string }).arn }
        : {}),
      ...((first.requestParameters as { userName?: string } | null)?.userName
        ? { "requestParameters.userName": (first.requestParameters as { userName: string }).userName }
        : {}),
    });
    expect(await queueDepth(aws, world.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("has its options checked by its own schema, with paths", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "trailrouter-audit-"));
    const text = (await readFile(PIPELINE, "utf8"))
      .replace("./dist/index.js", path.resolve(path.dirname(PIPELINE), "dist/index.js"))
      // biome-ignore lint/suspicious/noTemplateCurlyInString: pipeline-file interpolation, not JavaScript
      .replace("        path: ${AUDIT_FILE:-./iam-audit.jsonl}\n", "        pathh: ./x.jsonl\n");
    const file = path.join(dir, "pipeline.yaml");
    await writeFile(file, text);
    const out = collect();
    const err = collect();
    const code = await validateCommand(file, createDefaultRegistry(), { out: out.stream, err: err.stream });
    expect(code).toBe(2);
    expect(err.text()).toMatch(
      /pipelines\[0\]\.sinks\["audit-file"\]: unknown option "pathh" \(did you mean "path"\?\)/,
    );
    expect(err.text()).toMatch(/pipelines\[0\]\.sinks\["audit-file"\]: missing required option "path"/);
  });
});
