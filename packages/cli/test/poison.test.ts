/**
 * Messages that keep failing, against fauxqs: with `deadLetter`, one record to a sink and then the
 * delete; with a queue's RedrivePolicy, SQS's own dead-letter queue; never a silent delete.
 */

import { SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  type AnyPlugin,
  ConfigError,
  definePlugin,
  type PluginRegistry,
  parsePipelineText,
  runPipelines,
  TrailrouterError,
} from "@trailrouter/core";
import { drainQueue, type LocalAws, queueDepth, startLocalAws } from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDefaultRegistry } from "../src/registry.js";
import { captureLogger } from "./support.js";

const POISON = "not a notification";

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
});

afterAll(async () => {
  await aws?.stop();
});

function pipelineText(
  queueUrl: string,
  sinks: Record<string, Record<string, unknown>>,
  deadLetter: Record<string, unknown>,
): string {
  return JSON.stringify({
    aws: { endpoint: aws.endpoint, region: aws.region },
    pipelines: [
      {
        name: "poison",
        source: { type: "sqs", queueUrl, waitTimeSeconds: 1, redeliveryDelaySeconds: 0, deadLetter },
        routes: [
          {
            name: "all",
            match: { type: "event-pattern", pattern: { eventName: [{ exists: true }] } },
            to: ["out"],
          },
        ],
        sinks: {
          out: { type: "sqs", queueUrl: aws.server.createQueue(`out-${Date.now()}`).queueUrl },
          ...sinks,
        },
      },
    ],
  });
}

/** Runs the file as a service until `done()` holds (or 10 s pass), then stops it like SIGTERM. */
async function runUntil(text: string, registry: PluginRegistry, done: () => Promise<boolean> | boolean) {
  const { logger, lines } = captureLogger();
  const loaded = await parsePipelineText(text, { registry });
  const controller = new AbortController();
  const running = runPipelines(loaded, { registry, logger, once: false, signal: controller.signal });
  const until = Date.now() + 10_000;
  while (!(await done()) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
  controller.abort();
  await running;
  return lines;
}

async function sendPoison(queueUrl: string): Promise<string> {
  const { MessageId } = await aws.sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: POISON }),
  );
  return MessageId!;
}

describe("a message that keeps failing", () => {
  it("goes to the deadLetter sink at maxReceiveCount, with its body and error, and only then is deleted", async () => {
    const { queueUrl } = aws.server.createQueue("dl-source");
    const deadLetters = aws.server.createQueue("dl-records").queueUrl;
    const messageId = await sendPoison(queueUrl);
    const text = pipelineText(
      queueUrl,
      { deadLetters: { type: "sqs", queueUrl: deadLetters } },
      {
        sink: "deadLetters",
        maxReceiveCount: 2,
      },
    );

    const logs = await runUntil(
      text,
      createDefaultRegistry(),
      async () => (await queueDepth(aws, deadLetters)).visible > 0,
    );

    const records = await drainQueue(aws, deadLetters);
    expect(records).toHaveLength(1);
    expect(records[0]!.body).toEqual({
      trailrouterDeadLetter: 1,
      messageId,
      queueUrl,
      receiveCount: 2,
      failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      error: { stage: "unwrap", code: expect.any(String), message: expect.any(String) },
      body: POISON,
    });
    expect(await queueDepth(aws, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    // The first failure was given back; the second one dead-lettered.
    const failures = logs.filter((l) => l.msg.startsWith("envelope given back"));
    expect(failures.map((l) => l.receiveCount)).toEqual([1, 2]);
    expect(
      logs.some(
        (l) => l.level === 40 && /delivered to dead-letter sink "deadLetters" and deleted/.test(l.msg),
      ),
    ).toBe(true);
  });

  it("is left to the queue's RedrivePolicy when it has one: SQS moves it, the router deletes nothing", async () => {
    const dlq = aws.server.createQueue("redrive-dlq");
    const { queueUrl } = aws.server.createQueue("redrive-source", {
      attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: "2" }),
      },
    });
    const deadLetters = aws.server.createQueue("redrive-records").queueUrl;
    const messageId = await sendPoison(queueUrl);
    const text = pipelineText(
      queueUrl,
      { deadLetters: { type: "sqs", queueUrl: deadLetters } },
      {
        sink: "deadLetters",
        maxReceiveCount: 1,
      },
    );

    const logs = await runUntil(
      text,
      createDefaultRegistry(),
      async () => (await queueDepth(aws, dlq.queueUrl)).visible > 0,
    );

    const moved = await drainQueue(aws, dlq.queueUrl);
    expect(moved.map((m) => [m.messageId, m.body])).toEqual([[messageId, POISON]]);
    expect(await queueDepth(aws, deadLetters)).toEqual({ visible: 0, inFlight: 0 });
    expect(await queueDepth(aws, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(logs.some((l) => /RedrivePolicy/.test(l.msg))).toBe(true);
    expect(logs.filter((l) => /deleted|dead-letter/.test(l.msg) && !/RedrivePolicy/.test(l.msg))).toEqual([]);
  });

  it("stays in its queue when the deadLetter sink fails", async () => {
    let attempts = 0;
    const refusing = definePlugin({
      kind: "sink",
      type: "refusing",
      schema: { type: "object", properties: {} },
      create: () => ({
        async deliver(records) {
          attempts += 1;
          return {
            delivered: 0,
            failed: records.map((record) => ({
              record,
              error: new TrailrouterError("deliver", "Refused", "refused"),
            })),
          };
        },
        async close() {},
      }),
    });
    const registry = createDefaultRegistry().register(refusing as AnyPlugin);
    const { queueUrl } = aws.server.createQueue("refused-source");
    const messageId = await sendPoison(queueUrl);
    const text = pipelineText(
      queueUrl,
      { deadLetters: { type: "refusing" } },
      { sink: "deadLetters", maxReceiveCount: 1 },
    );

    const logs = await runUntil(text, registry, () => attempts >= 2);

    expect(attempts).toBeGreaterThanOrEqual(2);
    const depth = await queueDepth(aws, queueUrl);
    expect(depth.visible + depth.inFlight).toBe(1);
    const refused = logs.filter(
      (l) => l.msg === "dead-letter delivery failed: the message is given back, not deleted",
    );
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]).toMatchObject({ level: 50, messageId, sink: "deadLetters", err: { code: "Refused" } });
  });

  it("must name a sink of its own pipeline, checked when the file loads", async () => {
    const text = pipelineText(
      "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
      {},
      { sink: "nowhere" },
    );
    const error = await parsePipelineText(text, { registry: createDefaultRegistry() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      {
        path: "pipelines[0].source.deadLetter.sink",
        message: 'no sink named "nowhere" in this pipeline (sinks: out)',
      },
    ]);
  });
});
