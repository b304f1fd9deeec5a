import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  asTrailrouterError,
  type Envelope,
  type Logger,
  ObjectFetchError,
  type ObjectLocation,
  type PipelineMetrics,
  type SourceObject,
} from "@trailrouter/core";
import { classifyTrailKey, parseNotification } from "./notification.js";
import type { SqsSourceOptions } from "./options.js";

/** A received message: SQS always sets its id and receipt handle. */
export type ReceivedMessage = Message & { MessageId: string; ReceiptHandle: string };

export interface EnvelopeServices {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly options: SqsSourceOptions;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
}

export interface SettleHooks {
  /** Called once, when the envelope is acked or nacked (before the SQS call). */
  readonly settling: (outcome: "acked" | "nacked", messageId: string) => void;
  /** Called once, after the SQS call of ack or nack finished, whatever its outcome. */
  readonly settled: () => void;
}

/** One SQS message: the objects its notification announces, and its lease on the queue. */
export class SqsEnvelope implements Envelope {
  readonly id: string;
  readonly receiveCount: number;
  private readonly message: ReceivedMessage;
  private readonly services: EnvelopeServices;
  private readonly hooks: SettleHooks;
  private isSettled = false;

  constructor(message: ReceivedMessage, services: EnvelopeServices, hooks: SettleHooks) {
    this.message = message;
    this.services = services;
    this.hooks = hooks;
    this.id = message.MessageId;
    const count = Number.parseInt(message.Attributes?.ApproximateReceiveCount ?? "", 10);
    this.receiveCount = Number.isInteger(count) && count > 0 ? count : 1;
  }

  async *objects(): AsyncGenerator<SourceObject> {
    const { options, metrics, logger } = this.services;
    const notification = parseNotification(this.message.Body ?? "", { messageId: this.id });
    metrics.notification(notification.type);
    logger.debug(
      {
        messageId: this.id,
        type: notification.type,
        viaSns: notification.viaSns,
        objects: notification.objects.length,
      },
      "notification understood",
    );

    const wanted: ObjectLocation[] = [];
    for (const object of notification.objects) {
      if (options.ignoreDigests && classifyTrailKey(object.key).kind === "digest") {
        metrics.objectSkipped("digest");
        logger.debug({ messageId: this.id, bucket: object.bucket, key: object.key }, "digest skipped");
        continue;
      }
      wanted.push(object);
    }
    // Refuse the whole message before reading anything, so no record of it is routed twice.
    for (const { bucket, key } of wanted) {
      if (options.allowedBuckets && !options.allowedBuckets.has(bucket)) {
        throw new ObjectFetchError("BucketNotAllowed", `bucket "${bucket}" is not one of allowedBuckets`, {
          messageId: this.id,
          bucket,
          key,
        });
      }
    }
    for (const object of wanted) {
      yield { ...object, body: await this.fetch(object) };
    }
  }

  private async fetch({ bucket, key }: ObjectLocation): Promise<Uint8Array> {
    const context = { messageId: this.id, bucket, key };
    let body: Uint8Array | undefined;
    try {
      const response = await this.services.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      body = await response.Body?.transformToByteArray();
    } catch (error) {
      const code = (error as Error).name || "Error";
      throw new ObjectFetchError(
        code,
        `cannot read s3://${bucket}/${key}: ${(error as Error).message || code}`,
        context,
        { cause: error },
      );
    }
    if (!body)
      throw new ObjectFetchError(
        "EmptyResponse",
        `GetObject returned no body for s3://${bucket}/${key}`,
        context,
      );
    return body;
  }

  async ack(): Promise<void> {
    if (!this.settle("acked")) return;
    const { sqs, options, logger } = this.services;
    try {
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: this.message.ReceiptHandle }),
      );
      logger.debug({ messageId: this.id }, "message acked (deleted)");
    } catch (error) {
      throw asTrailrouterError(error, "ack", { messageId: this.id, queueUrl: options.queueUrl });
    } finally {
      this.hooks.settled();
    }
  }

  async nack(error: Error): Promise<void> {
    if (!this.settle("nacked")) return;
    const { options, logger } = this.services;
    try {
      await this.changeVisibility(options.redeliveryDelaySeconds);
      logger.debug(
        { messageId: this.id, err: error, visibleInSeconds: options.redeliveryDelaySeconds },
        "message nacked (given back)",
      );
    } catch (changeError) {
      logger.warn(
        { messageId: this.id, err: changeError, cause: error.message },
        "could not give the message back; it reappears when its visibility timeout ends",
      );
    } finally {
      this.hooks.settled();
    }
  }

  async extend(seconds: number): Promise<void> {
    if (this.isSettled) return;
    try {
      await this.changeVisibility(seconds);
      this.services.logger.debug({ messageId: this.id, seconds }, "visibility extended");
    } catch (error) {
      throw asTrailrouterError(error, "ack", {
        messageId: this.id,
        queueUrl: this.services.options.queueUrl,
      });
    }
  }

  private async changeVisibility(seconds: number): Promise<void> {
    await this.services.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.services.options.queueUrl,
        ReceiptHandle: this.message.ReceiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  /** True the first time only: an envelope is settled exactly once. */
  private settle(outcome: "acked" | "nacked"): boolean {
    if (this.isSettled) return false;
    this.isSettled = true;
    this.hooks.settling(outcome, this.id);
    return true;
  }
}
