import { createServer, type Server } from "node:net";
import { ListEventBusesCommand } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, ListQueuesCommand } from "@aws-sdk/client-sqs";
import { MOTO_ACCOUNT_ID, type MotoAws, startMoto } from "@trailrouter/local-aws";
import { afterAll, describe, expect, it } from "vitest";

const running: MotoAws[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((moto) => moto.stop()));
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A listener on `port` that hangs up on every connection. */
function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

const close = (server: Server) => new Promise((resolve) => server.close(resolve));

describe("moto server", () => {
  it("starts on a free loopback port, answers EventBridge and SQS, and stops, freeing the port", async () => {
    const moto = await startMoto();
    running.push(moto);
    const port = Number(new URL(moto.endpoint).port);
    expect(moto.endpoint).toBe(`http://127.0.0.1:${port}`);
    expect(isRunning(moto.pid)).toBe(true);

    const { EventBuses = [] } = await moto.events.send(new ListEventBusesCommand({}));
    expect(EventBuses.map((bus) => bus.Arn)).toContain(
      `arn:aws:events:${moto.region}:${MOTO_ACCOUNT_ID}:event-bus/default`,
    );
    const { QueueUrl } = await moto.sqs.send(new CreateQueueCommand({ QueueName: "lifecycle" }));
    const { QueueUrls = [] } = await moto.sqs.send(new ListQueuesCommand({}));
    expect(QueueUrls).toEqual([QueueUrl]);

    await moto.stop();
    running.splice(running.indexOf(moto), 1);
    expect(isRunning(moto.pid)).toBe(false);
    await close(await listen(port));
  });

  it("reports the server's own output when it cannot start", async () => {
    const occupied = await listen(0);
    const address = occupied.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      await expect(startMoto({ port })).rejects.toThrow(/moto server exited .*before answering[\s\S]*in use/);
    } finally {
      await close(occupied);
    }
  });

  it("says how to install moto when its virtual environment is missing", async () => {
    await expect(startMoto({ venv: "/nonexistent/.venv/moto" })).rejects.toThrow(
      /no Python in \/nonexistent\/\.venv\/moto: run `node scripts\/ensure-moto\.mjs`/,
    );
  });
});
