/**
 * docs/PLUGINS.md runs: its blocks tagged with a file name (```ts file=src/index.ts) are written
 * over a package made by `trailrouter new-plugin`, type-checked with the workspace's tsc, their
 * tests run with vitest, the plugin built, and the doc's pipeline file validated with it.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { newPluginCommand } from "../src/commands/new-plugin.js";
import {
  BIN,
  docFiles,
  type FileBlock,
  fencedBlocks,
  linkWorkspace,
  PLUGINS_MD,
  run,
  tempDir,
  trailrouter,
} from "./plugin-package.js";
import { textSink } from "./support.js";

describe("docs/PLUGINS.md", () => {
  let files: Map<string, FileBlock>;
  let dir: string;

  beforeAll(async () => {
    files = await docFiles();
    dir = path.join(await tempDir("plugins-doc"), "webhook");
    const out = textSink();
    const err = textSink();
    expect(await newPluginCommand("sink", "webhook", { dir }, { out: out.stream, err: err.stream })).toBe(0);
    await linkWorkspace(dir);
    for (const [file, block] of files) await writeFile(path.join(dir, file), block.text);
  });

  it("tags every TypeScript block with the file it is, and has the webhook's source, test and pipeline file", async () => {
    const untagged = fencedBlocks(await readFile(PLUGINS_MD, "utf8")).filter(
      (b) => (b.lang === "ts" || b.lang === "typescript") && b.file === undefined,
    );
    expect(untagged.map((b) => `line ${b.line}`)).toEqual([]);
    expect([...files.keys()]).toEqual(
      expect.arrayContaining(["src/index.ts", "test/webhook.test.ts", "pipeline.yaml"]),
    );
  });

  it("type-checks (src and test, with the workspace's tsc and the built packages' types)", async () => {
    const typecheck = await run(BIN.tsc, [], dir);
    expect(typecheck.stdout + typecheck.stderr).toBe("");
    expect(typecheck.code).toBe(0);
  });

  it("has tests that pass", async () => {
    const test = await run(BIN.vitest, ["run"], dir);
    expect(test.code, test.stdout + test.stderr).toBe(0);
    const tests = [...files.values()]
      .filter((b) => b.file.startsWith("test/"))
      .reduce((n, b) => n + (b.text.match(/^\s*it\(/gm)?.length ?? 0), 0);
    expect(test.stdout).toMatch(new RegExp(`Tests\\s+${tests} passed`));
  });

  it("builds, and its pipeline file validates with the plugin loaded from ./dist", async () => {
    const build = await run(BIN.tsc, ["-p", "tsconfig.build.json"], dir);
    expect(build.stdout + build.stderr).toBe("");
    const validate = await trailrouter(["validate", "--config", "pipeline.yaml"], dir, {
      TRAIL_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/111122223333/CloudTrail",
      WEBHOOK_URL: "https://hooks.example.com/trail",
      WEBHOOK_TOKEN: "t0ken",
    });
    expect(validate.stderr).toBe("");
    expect(validate.stdout).toMatch(
      /pipeline\.yaml: valid, 1 pipeline\(s\)\n {2}users: source sqs, 1 route\(s\), sinks hook \(webhook\)/,
    );
  });
});
