/**
 * A CloudTrail delivery set up the way a user sets it up on AWS (bucket, topic, queue subscribed
 * to the topic, sink queues), and the moves CloudTrail and a consumer make against it.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateTopicCommand, PublishCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import type { TrailRecord } from "@trailrouter/core";
import { encodeLogFile, type LogFile } from "@trailrouter/testing";
import type { LocalAws } from "./emulator.js";
import { cloudTrailNotification } from "./notifications.js";

/** The SDK clients the helpers use: the emulator's, or any bound to a real account. */
export type AwsClients = Pick<LocalAws, "sqs" | "sns" | "s3">;

export interface TrailWorldOptions {
  bucket: string;
  topicName: string;
  /** The queue trailrouter reads, subscribed to the topic. */
  queueName: string;
  /** Subscribe with raw message delivery: the queue gets CloudTrail's JSON without the SNS envelope. */
  rawDelivery?: boolean;
  /** Queues for sinks to write to; a `.fifo` name makes a FIFO queue (content-based deduplication on). */
  sinkQueues?: readonly string[];
}

export interface TrailWorld {
  readonly bucket: string;
  readonly topicArn: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** Sink queue URLs by queue name. */
  readonly sinkQueueUrls: Readonly<Record<string, string>>;
}

async function createQueue(aws: AwsClients, name: string): Promise<{ url: string; arn: string }> {
  const attributes: Record<string, string> = name.endsWith(".fifo")
    ? { FifoQueue: "true", ContentBasedDeduplication: "true" }
    : {};
  const { QueueUrl } = await aws.sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  const { Attributes } = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes ${QueueUrl} returned no QueueArn`);
  return { url: QueueUrl, arn };
}

/** Creates the bucket, the topic, the notification queue subscribed to it, and the sink queues. */
export async function createTrailWorld(aws: AwsClients, options: TrailWorldOptions): Promise<TrailWorld> {
  await aws.s3.send(new CreateBucketCommand({ Bucket: options.bucket }));
  const { TopicArn: topicArn } = await aws.sns.send(new CreateTopicCommand({ Name: options.topicName }));
  if (!topicArn) throw new Error(`CreateTopic ${options.topicName} returned no TopicArn`);
  const queue = await createQueue(aws, options.queueName);
  // On AWS the queue only accepts the topic's messages once its policy allows them.
  const policy = {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queue.arn,
        Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
      },
    ],
  };
  await aws.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: { Policy: JSON.stringify(policy) } }),
  );
  await aws.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: queue.arn,
      Attributes: options.rawDelivery ? { RawMessageDelivery: "true" } : {},
      ReturnSubscriptionArn: true,
    }),
  );
  const sinkQueueUrls: Record<string, string> = {};
  for (const name of options.sinkQueues ?? []) sinkQueueUrls[name] = (await createQueue(aws, name)).url;
  return { bucket: options.bucket, topicArn, queueUrl: queue.url, queueArn: queue.arn, sinkQueueUrls };
}

/** Puts one gzipped log file, with the metadata CloudTrail gives its objects. */
export async function putLogFile(
  aws: AwsClients,
  bucket: string,
  key: string,
  records: readonly TrailRecord[],
): Promise<void> {
  await aws.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: encodeLogFile(records),
      ContentType: "application/json",
      ContentEncoding: "gzip",
    }),
  );
}

export interface DeliverOptions {
  /** CloudTrail may announce several files in one notification. Default 1. */
  keysPerNotification?: number;
  /** `false` only announces files already in the bucket. Default true. */
  upload?: boolean;
}

/** Uploads at a time: enough to overlap round trips without flooding the emulator. */
const UPLOAD_CONCURRENCY = 8;

/** Publishes a message to a topic as any publisher would (CloudTrail's validation message, ...). */
export async function publishToTopic(
  aws: AwsClients,
  topicArn: string,
  message: string,
  options: { subject?: string } = {},
): Promise<string> {
  const { MessageId } = await aws.sns.send(
    new PublishCommand({ TopicArn: topicArn, Message: message, Subject: options.subject }),
  );
  if (!MessageId) throw new Error(`Publish to ${topicArn} returned no MessageId`);
  return MessageId;
}

/**
 * Does what CloudTrail does: puts every file, then publishes notifications announcing them to the
 * topic. Returns the keys of each notification, in publish order.
 */
export async function deliverLogFiles(
  aws: AwsClients,
  world: Pick<TrailWorld, "bucket" | "topicArn">,
  files: readonly LogFile[],
  options: DeliverOptions = {},
): Promise<string[][]> {
  const keysPerNotification = options.keysPerNotification ?? 1;
  if (!Number.isInteger(keysPerNotification) || keysPerNotification < 1) {
    throw new RangeError("keysPerNotification must be a positive integer");
  }
  for (let first = 0; options.upload !== false && first < files.length; first += UPLOAD_CONCURRENCY) {
    await Promise.all(
      files
        .slice(first, first + UPLOAD_CONCURRENCY)
        .map((file) => putLogFile(aws, world.bucket, file.key, file.records)),
    );
  }
  const notifications: string[][] = [];
  for (let first = 0; first < files.length; first += keysPerNotification) {
    const keys = files.slice(first, first + keysPerNotification).map((file) => file.key);
    await publishToTopic(aws, world.topicArn, cloudTrailNotification(world.bucket, keys));
    notifications.push(keys);
  }
  return notifications;
}

export interface DrainedMessage {
  /** The body parsed as JSON; the raw string when it is not JSON. */
  body: unknown;
  /** Message attributes that carry a StringValue. */
  attributes: Record<string, string>;
  messageId: string;
}

/**
 * Receives and deletes until the queue answers empty. Messages in flight elsewhere are not
 * waited for (see `queueDepth`).
 */
export async function drainQueue(aws: AwsClients, queueUrl: string): Promise<DrainedMessage[]> {
  const drained: DrainedMessage[] = [];
  for (;;) {
    const { Messages = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) return drained;
    for (const message of Messages) {
      const attributes: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
        if (value.StringValue !== undefined) attributes[name] = value.StringValue;
      }
      drained.push({ body: parseBody(message.Body ?? ""), attributes, messageId: message.MessageId ?? "" });
    }
    const { Failed = [] } = await aws.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
    if (Failed.length > 0) {
      throw new Error(
        `could not delete ${Failed.length} message(s) from ${queueUrl}: ${Failed[0]?.Message ?? Failed[0]?.Code}`,
      );
    }
  }
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export interface QueueDepth {
  /** Messages ready to be received. */
  visible: number;
  /** Messages received and not yet deleted or returned. */
  inFlight: number;
}

export async function queueDepth(aws: AwsClients, queueUrl: string): Promise<QueueDepth> {
  const { Attributes = {} } = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
