/**
 * `pnpm bench`: every bench, one after the other, each in its own process so that one's heap
 * does not weigh on the next. Exits non-zero when any bench missed its target.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The SDK's notice that its 2027 releases need Node 22 would interleave with the tables.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const BENCHES = [
  "matching.js",
  "decode.js",
  "decode-memory.js",
  "pipeline-memory.js",
  "huge-record.js",
  "e2e.js",
];

let exitCode = 0;
for (const bench of BENCHES) {
  console.log(`\n## ${bench.replace(/\.js$/, "")}\n`);
  const script = fileURLToPath(new URL(bench, import.meta.url));
  const { status } = spawnSync(process.execPath, [script], { stdio: "inherit" });
  exitCode = Math.max(exitCode, status ?? 1);
}
process.exitCode = exitCode;
