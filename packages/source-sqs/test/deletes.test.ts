import { randomUUID } from "node:crypto";
import { DeleteMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  awsClientFactory,
  type Envelope,
  type Source,
  TrailrouterError,
  withDefaults,
} from "@trailrouter/core";
import {
  awsOperation,
  type FaultProxy,
  type FaultRule,
  type LocalAws,
  pluginContext,
  recordCommands,
  type SentCommand,
  startFaultProxy,
  startLocalAws,
} from "@trailrouter/local-aws";
import { sqsSource } from "@trailrouter/source-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let localAws: LocalAws;
let proxy: FaultProxy;
/** Message ids whose delete entries the proxy answers as failed (the others it deletes). */
const failingDeletes = new Set<string>();
const openSources: Source[] = [];

/**
 * Answers a DeleteMessageBatch itself when it holds an entry of `failingDeletes`: deletes the other
 * entries' messages in the emulator and reports that entry as failed, as SQS does for an entry it
 * could not delete. Every other request goes to the emulator.
 */
const failChosenDeletes: FaultRule = async (request) => {
  if (awsOperation(request) !== "DeleteMessageBatch" || failingDeletes.size === 0) return undefined;
  const input = JSON.parse(request.body.toString()) as {
    QueueUrl: string;
    Entries: { Id: string; ReceiptHandle: string }[];
  };
  const inflight = localAws.server.inspectQueue(input.QueueUrl.split("/").pop()!)?.messages.inflight ?? [];
  const messageIdOf = (handle: string) => inflight.find((e) => e.receiptHandle === handle)?.message.messageId;
  const failing = input.Entries.filter((entry) => failingDeletes.has(messageIdOf(entry.ReceiptHandle) ?? ""));
  const deleted = input.Entries.filter((entry) => !failing.includes(entry));
  if (deleted.length > 0) {
    await localAws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: input.QueueUrl, Entries: deleted }));
  }
  return {
    kind: "respond",
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.0" },
    body: JSON.stringify({
      Successful: deleted.map((entry) => ({ Id: entry.Id })),
      Failed: failing.map((entry) => ({
        Id: entry.Id,
        SenderFault: false,
        Code: "InternalError",
        Message: "We encountered an internal error. Please try again.",
      })),
    }),
  };
};

beforeAll(async () => {
  localAws = await startLocalAws();
  proxy = await startFaultProxy({ target: localAws.endpoint, rules: [failChosenDeletes] });
});

afterEach(async () => {
  failingDeletes.clear();
  await Promise.all(openSources.splice(0).map((source) => source.close()));
});

afterAll(async () => {
  await proxy.stop();
  await localAws.stop();
});

async function createSource(queueUrl: string) {
  const commands: SentCommand[] = [];
  const aws = recordCommands(
    awsClientFactory({ endpoint: proxy.endpoint, region: localAws.region }),
    (command) => commands.push(command),
  );
  const source = await sqsSource.create(
    withDefaults(sqsSource, { queueUrl, waitTimeSeconds: 0 }),
    pluginContext({ name: "source", aws }),
  );
  openSources.push(source);
  const deletes = () => commands.filter((c) => c.name.startsWith("DeleteMessage"));
  return { source, deletes };
}

/** A queue holding `count` validation messages (they announce no object). */
async function queueWithMessages(count: number) {
  const queueName = `deletes-${randomUUID()}`;
  const { queueUrl } = localAws.server.createQueue(queueName);
  for (let n = 0; n < count; n++) {
    await localAws.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "CloudTrail validation message." }),
    );
  }
  const left = () => {
    const { ready, delayed, inflight } = localAws.server.inspectQueue(queueName)!.messages;
    return [...ready, ...delayed, ...inflight.map((e) => e.message)].map((m) => m.messageId).sort();
  };
  return { queueUrl, left };
}

async function receiveAll(source: Source): Promise<Envelope[]> {
  const envelopes: Envelope[] = [];
  for await (const envelope of source.receive({ signal: new AbortController().signal, once: true })) {
    envelopes.push(envelope);
  }
  return envelopes;
}

describe("sqs source deletes", () => {
  it("deletes the messages acked together with one DeleteMessageBatch, and nothing else", async () => {
    const { queueUrl, left } = await queueWithMessages(5);
    const { source, deletes } = await createSource(queueUrl);
    const envelopes = await receiveAll(source);
    expect(envelopes).toHaveLength(5);
    const [kept, ...acked] = envelopes;

    await Promise.all(acked.map((envelope) => envelope.ack()));

    expect(deletes().map((c) => [c.name, (c.input.Entries as unknown[]).length])).toEqual([
      ["DeleteMessageBatchCommand", 4],
    ]);
    expect(left()).toEqual([kept!.id]);
  });

  it("rejects only the ack whose entry failed, with a typed error, and leaves its message", async () => {
    const { queueUrl, left } = await queueWithMessages(3);
    const { source, deletes } = await createSource(queueUrl);
    const envelopes = await receiveAll(source);
    const failing = envelopes[1]!;
    failingDeletes.add(failing.id);

    const outcomes = await Promise.allSettled(envelopes.map((envelope) => envelope.ack()));

    expect(deletes()).toHaveLength(1);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const error = (outcomes[1] as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(TrailrouterError);
    expect(error).toMatchObject({
      stage: "ack",
      code: "InternalError",
      context: { messageId: failing.id, queueUrl },
    });
    expect(left()).toEqual([failing.id]);
  });

  it("sends the deletes of acks under way before close returns", async () => {
    const { queueUrl, left } = await queueWithMessages(2);
    const { source } = await createSource(queueUrl);
    const envelopes = await receiveAll(source);

    const acks = envelopes.map((envelope) => envelope.ack());
    await source.close();

    expect(left()).toEqual([]);
    await Promise.all(acks);
  });
});
