import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  awsInternalErrorAnswer,
  awsOperation,
  awsThrottlingAnswer,
  type FaultAction,
  type FaultProxy,
  type FaultRule,
  LOCAL_CREDENTIALS,
  type LocalAws,
  type ProxiedRequest,
  sometimes,
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

/** An SQS client that talks to the emulator through `endpoint`, one attempt per call by default. */
function sqsVia(endpoint: string, maxAttempts = 1): SQSClient {
  const client = new SQSClient({
    endpoint,
    region: aws.region,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts,
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

/** A rule taking `action` on the first `times` requests of `operation`. */
function firstOf(
  operation: string,
  times: number,
  action: (request: ProxiedRequest) => FaultAction,
): FaultRule {
  let acted = 0;
  return (request) => {
    if (awsOperation(request) !== operation || acted >= times) return undefined;
    acted += 1;
    return action(request);
  };
}

async function messagesIn(queueUrl: string): Promise<string[]> {
  const { Messages = [] } = await aws.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
  );
  return Messages.map((m) => m.Body ?? "");
}

/** The network error under an SDK error (`ECONNRESET`, ...), wherever the SDK put it. */
function networkCode(error: unknown): string | undefined {
  const { code, cause } = error as { code?: string; cause?: unknown };
  return code ?? (cause ? networkCode(cause) : undefined);
}

describe("the fault proxy's faults", () => {
  it("delays a request, then forwards it", async () => {
    const faults = await proxy([firstOf("SendMessage", 1, () => ({ kind: "delay", ms: 400 }))]);
    const sqs = sqsVia(faults.endpoint);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "delayed" }));

    const started = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "late" }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(await messagesIn(QueueUrl!)).toEqual(["late"]);
    expect(faults.requests.map((r) => [awsOperation(r), r.answeredBy, r.status, r.fault, r.outcome])).toEqual(
      [
        ["CreateQueue", "target", 200, undefined, "whole"],
        ["SendMessage", "target", 200, "delay", "whole"],
      ],
    );
  });

  it("resets the connection without forwarding the request", async () => {
    const faults = await proxy([firstOf("SendMessage", 1, () => ({ kind: "reset" }))]);
    const { QueueUrl } = await sqsVia(faults.endpoint).send(new CreateQueueCommand({ QueueName: "reset" }));

    const failure = await sqsVia(faults.endpoint)
      .send(new SendMessageCommand({ QueueUrl, MessageBody: "never sent" }))
      .catch((error: unknown) => error);
    expect(networkCode(failure)).toBe("ECONNRESET");
    expect(await messagesIn(QueueUrl!)).toEqual([]);
    expect(faults.requests.map((r) => [awsOperation(r), r.answeredBy, r.status, r.fault, r.outcome])).toEqual(
      [
        ["CreateQueue", "target", 200, undefined, "whole"],
        ["SendMessage", "rule", undefined, "reset", "cut"],
      ],
    );
  });

  it("lets the SDK retry through a reset of the first attempt", async () => {
    const faults = await proxy([firstOf("SendMessage", 1, () => ({ kind: "reset" }))]);
    const sqs = sqsVia(faults.endpoint, 3);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "reset-retried" }));
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "second try" }));
    expect(sent.$metadata.attempts).toBe(2);
    expect(await messagesIn(QueueUrl!)).toEqual(["second try"]);
  });

  it("truncates an answer after the target did the work, and passes a short one whole", async () => {
    const faults = await proxy([
      firstOf("SendMessage", 1, () => ({ kind: "truncate", bytes: 10 })),
      firstOf("GetQueueUrl", 1, () => ({ kind: "truncate", bytes: 100_000 })),
    ]);
    const sqs = sqsVia(faults.endpoint);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "truncated" }));

    const failure = await sqs
      .send(new SendMessageCommand({ QueueUrl, MessageBody: "sent, unknown to the sender" }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(await messagesIn(QueueUrl!)).toEqual(["sent, unknown to the sender"]);

    const found = await sqs.send(new GetQueueUrlCommand({ QueueName: "truncated" }));
    expect(found.QueueUrl).toBe(QueueUrl);
    expect(faults.requests.map((r) => [awsOperation(r), r.answeredBy, r.status, r.fault, r.outcome])).toEqual(
      [
        ["CreateQueue", "target", 200, undefined, "whole"],
        ["SendMessage", "target", 200, "truncate", "cut"],
        ["GetQueueUrl", "target", 200, "truncate", "whole"],
      ],
    );
  });

  it("truncates an S3 object mid-body: reading it fails, never yields part of it", async () => {
    aws.server.createBucket("truncated-objects");
    const body = "x".repeat(4096);
    await aws.s3.send(new PutObjectCommand({ Bucket: "truncated-objects", Key: "big", Body: body }));
    const faults = await proxy([
      (request) => (request.method === "GET" ? { kind: "truncate", bytes: 1000 } : undefined),
    ]);
    const s3 = new S3Client({
      endpoint: faults.endpoint,
      region: aws.region,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    clients.push(s3);
    const object = await s3.send(new GetObjectCommand({ Bucket: "truncated-objects", Key: "big" }));
    expect(object.ContentLength).toBe(4096);
    await expect(object.Body!.transformToByteArray()).rejects.toThrow();
    expect(faults.requests.map((r) => [r.method, r.answeredBy, r.fault, r.outcome])).toEqual([
      ["GET", "target", "truncate", "cut"],
    ]);
  });

  it("goes down: connections are reset, waiting requests dropped; up again, it serves", async () => {
    let faults: FaultProxy | undefined;
    faults = await proxy([
      (request) => {
        if (awsOperation(request) !== "SendMessage") return undefined;
        // The outage starts while this request waits.
        setTimeout(() => faults!.down(), 100);
        return { kind: "delay", ms: 300 };
      },
    ]);
    const sqs = sqsVia(faults.endpoint);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "outage" }));

    const caught = await sqs
      .send(new SendMessageCommand({ QueueUrl, MessageBody: "lost in the outage" }))
      .catch((error: unknown) => error);
    expect(networkCode(caught)).toBe("ECONNRESET");
    expect(faults.isDown).toBe(true);
    // While down, new connections are reset at once, never read.
    const refused = await sqsVia(faults.endpoint)
      .send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }))
      .catch((error: unknown) => error);
    expect(networkCode(refused)).toBe("ECONNRESET");
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await messagesIn(QueueUrl!)).toEqual([]);

    faults.up();
    const { Attributes } = await sqsVia(faults.endpoint).send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    expect(Attributes?.QueueArn).toMatch(/:outage$/);
    expect(faults.requests.map((r) => [awsOperation(r), r.answeredBy, r.status, r.fault, r.outcome])).toEqual(
      [
        ["CreateQueue", "target", 200, undefined, "whole"],
        ["SendMessage", "outage", undefined, "delay", "cut"],
        ["GetQueueAttributes", "target", 200, undefined, "whole"],
      ],
    );
  });
});

describe("sometimes", () => {
  it("comes up true for about the given fraction, the same way for the same seed", () => {
    const draws = (rate: number, seed: number) => {
      const coin = sometimes(rate, seed);
      return Array.from({ length: 2000 }, () => coin());
    };
    const first = draws(0.2, 7);
    expect(draws(0.2, 7)).toEqual(first);
    expect(draws(0.2, 8)).not.toEqual(first);
    const share = first.filter(Boolean).length / first.length;
    expect(share).toBeGreaterThan(0.17);
    expect(share).toBeLessThan(0.23);
    expect(draws(0, 1).some(Boolean)).toBe(false);
    expect(draws(1, 1).every(Boolean)).toBe(true);
    expect(() => sometimes(1.5, 1)).toThrow(RangeError);
  });
});

describe("AWS error answers", () => {
  it("are what the SDK classifies as throttling, for SQS, SNS and S3, and retries", async () => {
    aws.server.createBucket("throttled-objects");
    await aws.s3.send(new PutObjectCommand({ Bucket: "throttled-objects", Key: "k", Body: "v" }));
    let throttledGets = 0;
    const faults = await proxy([
      firstOf("SendMessage", 1, awsThrottlingAnswer),
      firstOf("Publish", 1, awsThrottlingAnswer),
      // S3 requests name no operation: the first GET is throttled.
      (request) =>
        request.method === "GET" && throttledGets++ === 0 ? awsThrottlingAnswer(request) : undefined,
    ]);
    const sqs = sqsVia(faults.endpoint, 2);
    const sns = new SNSClient({
      endpoint: faults.endpoint,
      region: aws.region,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const s3 = new S3Client({
      endpoint: faults.endpoint,
      region: aws.region,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
      maxAttempts: 2,
    });
    clients.push(sns, s3);

    const object = await s3.send(new GetObjectCommand({ Bucket: "throttled-objects", Key: "k" }));
    expect(object.$metadata.attempts).toBe(2);
    expect(await object.Body!.transformToString()).toBe("v");

    // A 400 is retried only when the SDK sees throttling in it.
    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: "throttled" }));
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "after a throttle" }));
    expect(sent.$metadata.attempts).toBe(2);
    expect(await messagesIn(QueueUrl!)).toEqual(["after a throttle"]);

    const { TopicArn } = await aws.sns.send(new CreateTopicCommand({ Name: "throttled" }));
    await expect(sns.send(new PublishCommand({ TopicArn, Message: "m" }))).rejects.toMatchObject({
      name: "Throttling",
      $metadata: { httpStatusCode: 400 },
    });
    expect(faults.requests.map((r) => [r.answeredBy, r.status])).toEqual([
      ["rule", 503],
      ["target", 200],
      ["rule", 400],
      ["target", 200],
      ["rule", 400],
    ]);
  });

  it("names the throttling and internal errors as AWS does", async () => {
    const faults = await proxy([
      firstOf("SendMessage", 1, awsThrottlingAnswer),
      firstOf("SendMessage", 1, awsInternalErrorAnswer),
    ]);
    const sqs = sqsVia(faults.endpoint);
    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: "named-errors" }));
    await expect(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "m" }))).rejects.toMatchObject({
      name: "RequestThrottled",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "m" }))).rejects.toMatchObject({
      name: "InternalError",
      $metadata: { httpStatusCode: 500 },
    });
  });
});
