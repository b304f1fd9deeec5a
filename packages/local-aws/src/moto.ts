/**
 * moto's server (EventBridge, and a second opinion on SQS, SNS and S3) started as a child process
 * on a free loopback port, with SDK clients bound to it. moto lives in a Python virtual
 * environment that `scripts/ensure-moto.mjs` installs at `<repo>/.venv/moto`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalAws } from "./emulator.js";

/** What every emulator offers: an endpoint, a region, SDK clients bound to them, and stop(). */
export type EmulatedAws = Omit<LocalAws, "server">;

export interface MotoAws extends EmulatedAws {
  readonly events: EventBridgeClient;
  /** The account moto answers for (its default, unless MOTO_ACCOUNT_ID says otherwise). */
  readonly accountId: string;
  /** The server's process id, while it runs. */
  readonly pid: number;
}

export interface StartMotoOptions {
  /** Port to listen on; default a free one. */
  port?: number;
  region?: string;
  /** The virtual environment moto is installed in; default `.venv/moto` in the repository. */
  venv?: string;
  /** How long to wait for the server to answer; default 30 s. */
  startTimeoutMs?: number;
}

export const MOTO_ACCOUNT_ID = "123456789012";

/**
 * Runs moto's own entry point, plus a thread that ends the process once its standard input
 * closes: that happens when the Node process that started it goes, however it goes, so no
 * server outlives a test run. The thread reads the raw descriptor: a read through sys.stdin
 * would hold a lock that makes the interpreter abort when it exits.
 */
const SERVER_SCRIPT = `
import os, sys, threading
def exit_with_parent():
    while os.read(0, 4096):
        pass
    os._exit(0)
threading.Thread(target=exit_with_parent, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
`;

/** Start moto's server and wait until it answers. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoAws> {
  const region = options.region ?? LOCAL_REGION;
  const python = venvPython(options.venv ?? findMotoVenv());
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;

  const child = spawn(python, ["-c", SERVER_SCRIPT, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["pipe", "ignore", "pipe"],
  });
  const output = new OutputTail(child);
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const stopProcess = async () => {
    process.removeListener("exit", killOnExit);
    if (isRunning(child)) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
  };

  try {
    await waitUntilAnswering(endpoint, child, output, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stopProcess();
    throw error;
  }

  const config = { endpoint, region, credentials: LOCAL_CREDENTIALS };
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const events = new EventBridgeClient(config);
  return {
    endpoint,
    region,
    accountId: process.env.MOTO_ACCOUNT_ID ?? MOTO_ACCOUNT_ID,
    pid: child.pid ?? -1,
    sqs,
    sns,
    s3,
    events,
    async stop() {
      for (const client of [sqs, sns, s3, events]) client.destroy();
      await stopProcess();
    },
  };
}

/** `.venv/moto` in the nearest directory above this module that has one. */
function findMotoVenv(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    const venv = path.join(dir, ".venv", "moto");
    if (existsSync(venv)) return venv;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(
    `moto is not installed: no .venv/moto above ${here}. Run \`node scripts/ensure-moto.mjs\` in the repository.`,
  );
}

function venvPython(venv: string): string {
  const python =
    process.platform === "win32"
      ? path.join(venv, "Scripts", "python.exe")
      : path.join(venv, "bin", "python");
  if (!existsSync(python)) {
    throw new Error(`no Python in ${venv}: run \`node scripts/ensure-moto.mjs\` to (re)create it`);
  }
  return python;
}

/** A port nothing listens on right now: the one the system gives to a listener on port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  output: OutputTail,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (output.spawnError) throw new Error(`cannot start moto server: ${output.spawnError.message}`);
    if (!isRunning(child)) {
      throw new Error(
        `moto server exited (${child.exitCode ?? child.signalCode ?? "not started"}) before answering on ${endpoint}:\n${output.text()}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto server did not answer on ${endpoint} within ${timeoutMs} ms:\n${output.text()}`);
}

/** Started (it has a pid) and not exited yet. */
function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** The last few KiB the server wrote to stderr, for the error when it does not start. */
class OutputTail {
  private tail = "";
  spawnError: Error | undefined;
  constructor(child: ChildProcess) {
    child.once("error", (error) => {
      this.spawnError = error;
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.tail = (this.tail + chunk).slice(-8192);
    });
  }
  text(): string {
    return this.tail.trim() || "(no output)";
  }
}
