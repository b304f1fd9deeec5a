/**
 * A bare batched router: up to 10 messages per receive, their files fetched together, matches
 * sent with SendMessageBatch, 8 requests in flight, then one DeleteMessageBatch. No heartbeat, no
 * retry of failed entries, no accounting: a failure ends the script. Stops when the queue answers
 * empty.
 */

import { gunzipSync } from "node:zlib";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { routeOf, settingsFromEnvironment } from "./routes.js";

const BATCH_SIZE = 10;
const REQUESTS_IN_FLIGHT = 8;

const { queueUrl, routes } = settingsFromEnvironment();
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const s3 = new S3Client({ forcePathStyle: true });

async function fetchRecords(bucket: string, key: string): Promise<Record<string, unknown>[]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = await object.Body!.transformToByteArray();
  return (JSON.parse(gunzipSync(body).toString("utf8")) as { Records: Record<string, unknown>[] }).Records;
}

async function send(batch: { queueUrl: string; bodies: string[] }): Promise<void> {
  const { Failed = [] } = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: batch.queueUrl,
      Entries: batch.bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
    }),
  );
  if (Failed.length > 0) throw new Error(`${Failed.length} entries failed: ${Failed[0]!.Code}`);
}

console.log("ready");
for (;;) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: BATCH_SIZE, WaitTimeSeconds: 1 }),
  );
  if (Messages.length === 0) break;
  const files = Messages.flatMap((message) => {
    const notification = JSON.parse(JSON.parse(message.Body!).Message) as {
      s3Bucket: string;
      s3ObjectKey: string[];
    };
    return notification.s3ObjectKey.map((key) => fetchRecords(notification.s3Bucket, key));
  });
  const bodiesByQueue = new Map<string, string[]>();
  for (const records of await Promise.all(files)) {
    for (const record of records) {
      const route = routeOf(record, routes);
      if (!route) continue;
      const bodies = bodiesByQueue.get(route.queueUrl) ?? [];
      bodies.push(JSON.stringify(record));
      bodiesByQueue.set(route.queueUrl, bodies);
    }
  }
  const batches: { queueUrl: string; bodies: string[] }[] = [];
  for (const [target, bodies] of bodiesByQueue) {
    for (let first = 0; first < bodies.length; first += BATCH_SIZE) {
      batches.push({ queueUrl: target, bodies: bodies.slice(first, first + BATCH_SIZE) });
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < batches.length) await send(batches[next++]!);
  };
  await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, worker));
  const deleted = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: Messages.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle,
      })),
    }),
  );
  if (deleted.Failed?.length)
    throw new Error(`${deleted.Failed.length} deletes failed: ${deleted.Failed[0]!.Code}`);
}
sqs.destroy();
s3.destroy();
