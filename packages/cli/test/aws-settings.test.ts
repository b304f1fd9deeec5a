/**
 * The `aws` settings reach the SDK clients: a request that hangs past `requestTimeoutMs` fails
 * instead of holding its envelope forever.
 */
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { awsClientFactory } from "@trailrouter/core";
import { type LocalAws, startFaultProxy, startLocalAws } from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("aws settings", () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(async () => {
    await aws.stop();
  });

  it("fails a request that stays silent past requestTimeoutMs, and retries it", async () => {
    const { queueUrl: QueueUrl } = aws.server.createQueue("timeouts");
    const proxy = await startFaultProxy({
      target: aws.endpoint,
      rules: [() => ({ kind: "delay", ms: 1_500 })],
    });
    try {
      const sqs = awsClientFactory({
        endpoint: proxy.endpoint,
        region: aws.region,
        requestTimeoutMs: 200,
        maxAttempts: 2,
      }).client(SQSClient);
      const started = Date.now();
      await expect(
        sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] })),
      ).rejects.toMatchObject({
        name: expect.stringMatching(/Timeout/i),
        $metadata: { attempts: 2 },
      });
      expect(Date.now() - started).toBeLessThan(1_500);
      sqs.destroy();
    } finally {
      await proxy.stop();
    }
  });

  it("leaves a request that answers in time alone", async () => {
    const { queueUrl: QueueUrl } = aws.server.createQueue("in-time");
    const sqs = awsClientFactory({
      endpoint: aws.endpoint,
      region: aws.region,
      requestTimeoutMs: 5_000,
    }).client(SQSClient);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    expect(Attributes?.QueueArn).toMatch(/in-time$/);
    sqs.destroy();
  });
});
