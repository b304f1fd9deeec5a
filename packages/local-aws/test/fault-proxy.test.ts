import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  awsOperation,
  type FaultProxy,
  LOCAL_CREDENTIALS,
  type LocalAws,
  startFaultProxy,
  startLocalAws,
} from "@trailrouter/local-aws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let aws: LocalAws;
const proxies: FaultProxy[] = [];
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
});
afterAll(async () => {
  await aws.stop();
});

async function proxy(rules: Parameters<typeof startFaultProxy>[0]["rules"] = []): Promise<FaultProxy> {
  const started = await startFaultProxy({ target: aws.endpoint, rules });
  proxies.push(started);
  return started;
}

/** An SQS client that talks to the emulator through `endpoint`, one attempt per call. */
function sqsVia(endpoint: string): SQSClient {
  const client = new SQSClient({
    endpoint,
    region: aws.region,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    // fauxqs' queue URLs name another host: keep every request on the proxy.
    useQueueUrlAsEndpoint: false,
  });
  clients.push(client);
  return client;
}

describe("the fault proxy", () => {
  it("forwards requests it has no rule for to the emulator, and answers with the emulator's answer", async () => {
    const faults = await proxy();
    expect(faults.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const sqs = sqsVia(faults.endpoint);

    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "through-the-proxy" }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "hello" }));
    // The message is in the emulator itself, read without the proxy.
    const { Messages = [] } = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    expect(Messages.map((m) => m.Body)).toEqual(["hello"]);

    const sns = new SNSClient({
      endpoint: faults.endpoint,
      region: aws.region,
      credentials: LOCAL_CREDENTIALS,
    });
    clients.push(sns);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "through-the-proxy" }));
    expect(TopicArn).toMatch(/:through-the-proxy$/);

    expect(faults.requests.map((r) => [r.sequence, awsOperation(r), r.answeredBy, r.status])).toEqual([
      [1, "CreateQueue", "target", 200],
      [2, "SendMessage", "target", 200],
      [3, "CreateTopic", "target", 200],
    ]);
    expect(JSON.parse(faults.requests[1]!.body.toString())).toMatchObject({ MessageBody: "hello" });
  });

  it("lets a rule answer in the emulator's place, and passes on what the rule leaves", async () => {
    const faults = await proxy([
      (request) =>
        request.target === "AmazonSQS.SendMessage"
          ? {
              kind: "respond",
              status: 500,
              headers: { "content-type": "application/x-amz-json-1.0" },
              body: JSON.stringify({
                __type: "com.amazonaws.sqs#InternalError",
                message: "injected failure",
              }),
            }
          : undefined,
    ]);
    const sqs = sqsVia(faults.endpoint);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "refused" }));

    const failure = sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "never sent" }));
    await expect(failure).rejects.toMatchObject({
      name: "InternalError",
      message: "injected failure",
      $metadata: { httpStatusCode: 500 },
    });
    // The emulator never saw the message.
    const { Attributes } = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe("0");
    expect(faults.requests.map((r) => [awsOperation(r), r.answeredBy, r.status])).toEqual([
      ["CreateQueue", "target", 200],
      ["SendMessage", "rule", 500],
    ]);
  });

  it("answers 500 and says so when a rule throws", async () => {
    const faults = await proxy([
      () => {
        throw new Error("rule bug");
      },
    ]);
    const response = await fetch(`${faults.endpoint}/anything`, { method: "POST", body: "x" });
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("fault proxy: a rule failed on request 1: rule bug");
    expect(faults.requests.map((r) => [r.method, r.path, r.answeredBy, r.body.toString()])).toEqual([
      ["POST", "/anything", "error", "x"],
    ]);
  });
});
