import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { demoCommand } from "../src/commands/demo.js";
import { textSink } from "./support.js";

describe("trailrouter demo", () => {
  it("routes the CMDB example on the embedded emulator and prints what went where", async () => {
    const saved = { ...process.env };
    const out = textSink();
    const err = textSink();
    try {
      const code = await demoCommand({ logger: pino({ level: "silent" }), out: out.stream, err: err.stream });
      expect(err.text()).toBe("");
      expect(code).toBe(0);
    } finally {
      process.env = saved;
    }
    const text = out.text();
    expect(text).toMatch(/Wrote 12 CloudTrail log files/);
    expect(text).toMatch(/│ Instances │ (\d+)\s+│ .*RunInstances.*│ \1 ✓/);
    expect(text).toMatch(/│ Users\s+│ (\d+)\s+│ .*CreateUser.*│ \1 ✓/);
    expect(text).toMatch(/notifications\s+│ .*validation 1/);
    expect(text).toMatch(/skipped: digest 1/);
    expect(text).toMatch(/Notification queue CloudTrail: 0 message\(s\) left/);
  });
});
