import { gunzipSync } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { PublishCommand } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  CLOUDTRAIL_VALIDATION_MESSAGE,
  cloudTrailKey,
  cloudTrailNotification,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  generateTraffic,
  type LocalAws,
  publishToTopic,
  putLogFile,
  queueDepth,
  startLocalAws,
} from "@trailrouter/local-aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
});

afterAll(async () => {
  await aws.stop();
});

const T = Date.UTC(2026, 10, 26, 12, 5);

function logFile(accountId: string, index: number) {
  const records = generateTraffic({ seed: index, count: 3, accountIds: [accountId], regions: ["us-east-1"] });
  const key = cloudTrailKey({ accountId, region: "us-east-1", time: T + index * 300_000, kind: "log" });
  return { key, records };
}

describe("createTrailWorld", () => {
  it("creates the bucket, topic, subscribed queue and sink queues", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "trail-built",
      topicName: "trail-built",
      queueName: "trail-built",
      sinkQueues: ["instances", "users.fifo"],
    });
    expect(world.bucket).toBe("trail-built");
    expect(world.topicArn).toMatch(/^arn:aws:sns:us-east-1:\d{12}:trail-built$/);
    expect(world.queueArn).toMatch(/^arn:aws:sqs:us-east-1:\d{12}:trail-built$/);
    expect(Object.keys(world.sinkQueueUrls)).toEqual(["instances", "users.fifo"]);

    const notificationQueue = aws.server.inspectQueue("trail-built");
    expect(notificationQueue?.url).toBe(world.queueUrl);
    expect(JSON.parse(notificationQueue?.attributes.Policy ?? "{}").Statement[0].Condition).toEqual({
      ArnEquals: { "aws:SourceArn": world.topicArn },
    });
    expect(aws.server.inspectQueue("instances")?.url).toBe(world.sinkQueueUrls.instances);
    const fifo = aws.server.inspectQueue("users.fifo");
    expect(fifo?.url).toBe(world.sinkQueueUrls["users.fifo"]);
    expect(fifo?.attributes.FifoQueue).toBe("true");
  });

  it("delivers a publication to the queue wrapped in an SNS envelope", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "trail-env",
      topicName: "trail-env",
      queueName: "trail-env",
    });
    const notification = cloudTrailNotification(world.bucket, ["AWSLogs/111122223333/CloudTrail/x.json.gz"]);
    await aws.sns.send(new PublishCommand({ TopicArn: world.topicArn, Message: notification }));

    const [message, ...rest] = await drainQueue(aws, world.queueUrl);
    expect(rest).toEqual([]);
    const envelope = message?.body as Record<string, string>;
    expect(envelope.Type).toBe("Notification");
    expect(envelope.TopicArn).toBe(world.topicArn);
    expect(JSON.parse(envelope.Message ?? "")).toEqual({
      s3Bucket: "trail-env",
      s3ObjectKey: ["AWSLogs/111122223333/CloudTrail/x.json.gz"],
    });
  });

  it("with raw delivery, the queue receives the notification itself", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "trail-raw",
      topicName: "trail-raw",
      queueName: "trail-raw",
      rawDelivery: true,
    });
    const messageId = await publishToTopic(aws, world.topicArn, CLOUDTRAIL_VALIDATION_MESSAGE);
    expect(messageId).toMatch(/\S/);
    const notification = cloudTrailNotification(world.bucket, ["a.json.gz", "b.json.gz"]);
    await publishToTopic(aws, world.topicArn, notification);

    const bodies = (await drainQueue(aws, world.queueUrl)).map((message) => message.body);
    expect(bodies).toEqual([
      CLOUDTRAIL_VALIDATION_MESSAGE,
      { s3Bucket: "trail-raw", s3ObjectKey: ["a.json.gz", "b.json.gz"] },
    ]);
  });
});

describe("deliverLogFiles", () => {
  it("puts gzipped files and announces two keys per notification", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "trail-two",
      topicName: "trail-two",
      queueName: "trail-two",
    });
    const files = [0, 1, 2, 3, 4].map((index) => logFile("111122223333", index));

    const notifications = await deliverLogFiles(aws, world, files, { keysPerNotification: 2 });
    const keys = files.map((file) => file.key);
    expect(notifications).toEqual([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)]);

    const object = await aws.s3.send(new GetObjectCommand({ Bucket: world.bucket, Key: keys[3] }));
    expect(object.ContentType).toBe("application/json");
    const bytes = await object.Body!.transformToByteArray();
    expect(JSON.parse(gunzipSync(bytes).toString("utf8"))).toEqual({ Records: files[3]!.records });

    const announced = (await drainQueue(aws, world.queueUrl)).map((message) => {
      const envelope = message.body as { Message: string };
      return JSON.parse(envelope.Message) as { s3Bucket: string; s3ObjectKey: string[] };
    });
    expect(announced.map((notification) => notification.s3ObjectKey)).toEqual(notifications);
    expect(new Set(announced.map((notification) => notification.s3Bucket))).toEqual(new Set(["trail-two"]));
  });

  it("only announces files already put when upload is off", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "trail-put",
      topicName: "trail-put",
      queueName: "trail-put",
    });
    const file = logFile("444455556666", 0);
    await putLogFile(aws, world.bucket, file.key, file.records);
    const other = logFile("444455556666", 1);

    await deliverLogFiles(aws, world, [file, other], { upload: false, keysPerNotification: 2 });
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: world.bucket }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual([file.key]);
    const messages = await drainQueue(aws, world.queueUrl);
    expect(messages).toHaveLength(1);
    const envelope = messages[0]!.body as { Message: string };
    expect(JSON.parse(envelope.Message).s3ObjectKey).toEqual([file.key, other.key]);
  });

  it("refuses a keysPerNotification below one", async () => {
    await expect(
      deliverLogFiles(aws, { bucket: "b", topicArn: "arn:aws:sns:us-east-1:000000000000:t" }, [], {
        keysPerNotification: 0,
      }),
    ).rejects.toThrow(/keysPerNotification/);
  });
});

describe("drainQueue and queueDepth", () => {
  it("empties a queue, returning parsed bodies and string attributes", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "trail-drain",
      topicName: "trail-drain",
      queueName: "trail-drain",
      sinkQueues: ["drain-sink"],
    });
    const queueUrl = world.sinkQueueUrls["drain-sink"]!;
    for (let index = 0; index < 23; index++) {
      await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify({ index }),
          MessageAttributes: { route: { DataType: "String", StringValue: `route-${index % 2}` } },
        }),
      );
    }
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "not json" }));
    expect(await queueDepth(aws, queueUrl)).toEqual({ visible: 24, inFlight: 0 });

    const drained = await drainQueue(aws, queueUrl);
    expect(drained).toHaveLength(24);
    const indexes = drained.flatMap((message) =>
      typeof message.body === "object" ? [(message.body as { index: number }).index] : [],
    );
    expect(indexes.sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, index) => index));
    expect(drained.find((message) => message.body === "not json")?.attributes).toEqual({});
    const first = drained.find((message) => (message.body as { index?: number }).index === 1);
    expect(first?.attributes).toEqual({ route: "route-1" });
    expect(first?.messageId).toMatch(/^[0-9a-f-]{36}$/);

    expect(await queueDepth(aws, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(aws.server.inspectQueue("drain-sink")?.messages.inflight).toEqual([]);
  });

  it("counts received, undeleted messages as in flight", async () => {
    const world = await createTrailWorld(aws, {
      bucket: "trail-depth",
      topicName: "trail-depth",
      queueName: "trail-depth",
    });
    await aws.sns.send(
      new PublishCommand({ TopicArn: world.topicArn, Message: CLOUDTRAIL_VALIDATION_MESSAGE }),
    );
    await aws.sns.send(
      new PublishCommand({ TopicArn: world.topicArn, Message: CLOUDTRAIL_VALIDATION_MESSAGE }),
    );
    await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: world.queueUrl, MaxNumberOfMessages: 1 }));
    expect(await queueDepth(aws, world.queueUrl)).toEqual({ visible: 1, inFlight: 1 });
  });
});
