/**
 * `trailrouter test-pattern` as a user runs it: a separate process, after `pnpm build`.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loadSampleRecords } from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../bin/trailrouter.js", import.meta.url));

async function trailrouter(args: string[]) {
  if (!existsSync(new URL("../dist/main.js", import.meta.url))) {
    throw new Error("packages/cli is not built: run `pnpm build` (pnpm test does)");
  }
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const testPattern = (pattern: string, event: string) =>
  trailrouter(["test-pattern", "--pattern", pattern, "--event", event]);

describe.concurrent("trailrouter test-pattern", () => {
  let directory: string;
  const record = loadSampleRecords().find((r) => r.eventName === "ConsoleLogin")!;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "test-pattern-"));
    await writeFile(path.join(directory, "record.json"), JSON.stringify(record, null, 2));
    await writeFile(
      path.join(directory, "no-mfa.json"),
      JSON.stringify({ eventName: ["ConsoleLogin"], additionalEventData: { MFAUsed: ["No"] } }),
    );
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("prints true for a matching event, from inline JSON, exit 0", async () => {
    const result = await testPattern(
      '{"eventSource": ["iam.amazonaws.com"], "eventName": [{"prefix": "Create"}]}',
      '{"eventSource": "iam.amazonaws.com", "eventName": "CreateUser"}',
    );
    expect(result).toEqual({ code: 0, stdout: "true\n", stderr: "" });
  });

  it("prints false for an event that does not match, exit 0", async () => {
    const result = await testPattern(
      '{"eventName": [{"anything-but": ["CreateUser"]}]}',
      '{"eventName": "CreateUser"}',
    );
    expect(result).toEqual({ code: 0, stdout: "false\n", stderr: "" });
  });

  it("reads the pattern and the event from files: a real CloudTrail record", async () => {
    const matching = await testPattern(
      path.join(directory, "no-mfa.json"),
      path.join(directory, "record.json"),
    );
    expect(matching).toEqual({ code: 0, stdout: "true\n", stderr: "" });
  });

  it("reports an invalid pattern with the path of the error, exit 2", async () => {
    const result = await testPattern('{"detail": {"eventName": [{"prefix": 5}]}}', '{"detail": {}}');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "trailrouter: invalid event pattern: detail.eventName[0].prefix: prefix match pattern must be a string\n",
    );
  });

  it("reports a pattern nested 5,000 levels deep as invalid, exit 2, no stack overflow", async () => {
    const deep = `${'{"a":'.repeat(5000)}["x"]${"}".repeat(5000)}`;
    await writeFile(path.join(directory, "deep.json"), deep);
    const result = await testPattern(path.join(directory, "deep.json"), '{"a": {}}');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^trailrouter: invalid event pattern: (a\.){99}a: Event pattern is nested more than 100 levels deep\n$/,
    );
  });

  it("reports JSON that does not parse and files that cannot be read, exit 2, no stack trace", async () => {
    const inline = await testPattern('{"eventName": ["x"]', "{}");
    expect(inline.code).toBe(2);
    expect(inline.stderr).toMatch(/^trailrouter: --pattern: inline value is not valid JSON/);
    const missing = await testPattern(path.join(directory, "missing.json"), "{}");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^trailrouter: --pattern: cannot read .*missing\.json/);
    for (const result of [inline, missing]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
