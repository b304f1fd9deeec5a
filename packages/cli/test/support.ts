/**
 * What the CLI tests share: a logger whose lines the test can read, and `run --once` executed
 * in-process against a pipeline file with the environment the test gives it.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { runCommand } from "../src/commands/run.js";
import { createDefaultRegistry } from "../src/registry.js";

export interface LogLine {
  level: number;
  msg: string;
  err?: {
    code: string;
    stage: string;
    messageId?: string;
    bucket?: string;
    key?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export function captureLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

export function textSink() {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

/** `trailrouter run --config FILE --once` in this process; resolves to exit code, output and logs. */
export async function runOnce(file: string, env: Record<string, string>) {
  const { logger, lines } = captureLogger();
  const out = textSink();
  const err = textSink();
  const code = await runCommand(file, {
    once: true,
    registry: createDefaultRegistry(),
    logger,
    out: out.stream,
    err: err.stream,
    env: { ...process.env, ...env },
  });
  return { code, out: out.text(), err: err.text(), logs: lines };
}

/** The error lines of a run, as `stage/code`. */
export function errorCodes(logs: LogLine[]): string[] {
  return logs.filter((l) => l.level >= 50 && l.err).map((l) => `${l.err!.stage}/${l.err!.code}`);
}
