/**
 * fauxqs (SQS, SNS, S3) started on a free loopback port, in-process or in a process of its own,
 * with SDK clients bound to it.
 */

import { spawn } from "node:child_process";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";

export const LOCAL_REGION = "us-east-1";
/** The emulators accept any credentials; these keep the SDK from looking for real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;

export interface LocalAws {
  /** `http://127.0.0.1:<port>`: an IP endpoint, so S3 addressing is path-style. */
  readonly endpoint: string;
  readonly region: string;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  /** The fauxqs server, for inspection helpers (inspectQueue, spy). */
  readonly server: Awaited<ReturnType<typeof startFauxqs>>;
  stop(): Promise<void>;
}

export async function startLocalAws(options: { port?: number; region?: string } = {}): Promise<LocalAws> {
  const region = options.region ?? LOCAL_REGION;
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, defaultRegion: region });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const config = { endpoint, region, credentials: LOCAL_CREDENTIALS };
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  return {
    endpoint,
    region,
    sqs,
    sns,
    s3,
    server,
    async stop() {
      sqs.destroy();
      sns.destroy();
      s3.destroy();
      await server.stop();
    },
  };
}

export interface LocalAwsProcess extends Omit<LocalAws, "server"> {
  /** The fauxqs process's id. */
  readonly pid: number;
}

/** How long fauxqs may take to start answering before the start counts as failed. */
const PROCESS_START_TIMEOUT_MS = 15_000;
/**
 * Preloaded into the fauxqs process: it exits when its parent's IPC channel closes, so it never
 * outlives the process that started it, even one killed without the chance to stop it.
 */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent(
  'process.on("disconnect", () => process.exit(0));',
)}`;

/** A loopback port free at the time of asking. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * fauxqs started by its own command in a separate Node process, on a free loopback port: the
 * emulator's work then runs on its own core instead of sharing the caller's event loop, as a
 * real service would. Its request log goes nowhere. `stop()` kills the process.
 */
export async function startLocalAwsProcess(options: { region?: string } = {}): Promise<LocalAwsProcess> {
  const region = options.region ?? LOCAL_REGION;
  const port = await freePort();
  const command = fileURLToPath(new URL("cli.js", import.meta.resolve("fauxqs")));
  const child = spawn(process.execPath, ["--import", EXIT_WITH_PARENT, command], {
    env: { ...process.env, FAUXQS_PORT: String(port), FAUXQS_DEFAULT_REGION: region },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  // A failed spawn emits "error" instead of "exit": count it as the process being gone.
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (error) => {
      stderr += error.message;
      resolve();
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const killOnExit = () => child.kill();
  process.once("exit", killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const config = { endpoint, region, credentials: LOCAL_CREDENTIALS };
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const stop = async () => {
    sqs.destroy();
    sns.destroy();
    s3.destroy();
    process.removeListener("exit", killOnExit);
    if (!gone) {
      child.kill();
      await exited;
    }
  };

  const deadline = Date.now() + PROCESS_START_TIMEOUT_MS;
  for (;;) {
    if (gone) {
      await stop();
      throw new Error(
        `fauxqs exited before answering on port ${port} (${child.exitCode ?? child.signalCode}): ${stderr}`,
      );
    }
    try {
      await sqs.send(new ListQueuesCommand({}));
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `fauxqs did not answer on port ${port} within ${PROCESS_START_TIMEOUT_MS} ms: ${(error as Error).message}`,
        );
      }
      await delay(50);
    }
  }
  return { endpoint, region, sqs, sns, s3, pid: child.pid!, stop };
}
