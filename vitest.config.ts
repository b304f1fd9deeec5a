import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources of the workspace packages, not their build output.
    alias: {
      "@trailrouter/event-pattern": src("event-pattern"),
      "@trailrouter/core": src("core"),
      "@trailrouter/delivery": src("delivery"),
      "@trailrouter/decoder-cloudtrail": src("decoder-cloudtrail"),
      "@trailrouter/source-sqs": src("source-sqs"),
      "@trailrouter/sink-sqs": src("sink-sqs"),
      "@trailrouter/sink-sns": src("sink-sns"),
      "@trailrouter/sink-eventbridge": src("sink-eventbridge"),
      "@trailrouter/testing": src("testing"),
      "@trailrouter/local-aws": src("local-aws"),
      "@trailrouter/cli": src("cli"),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    // Installs moto (the EventBridge emulator) into .venv/moto once per run when it is missing.
    globalSetup: ["./scripts/ensure-moto.mjs"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: {
      // The emulators accept any credentials; never reach for a real profile in tests.
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
  },
});
