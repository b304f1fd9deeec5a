/**
 * The algorithm of the script trailrouter replaces, ported as it was: one message at a time —
 * receive it, fetch each announced file, gunzip, parse, send each matching record with its own
 * SendMessage, then delete the message. Stops when the queue answers empty.
 */

import { gunzipSync } from "node:zlib";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { routeOf, settingsFromEnvironment } from "./routes.js";

const { queueUrl, routes } = settingsFromEnvironment();
// Region, endpoint and credentials come from the SDK's chain (AWS_REGION, AWS_ENDPOINT_URL, ...).
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const s3 = new S3Client({ forcePathStyle: true });

console.log("ready");
for (;;) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
  );
  const message = Messages[0];
  if (!message) break;
  const notification = JSON.parse(JSON.parse(message.Body!).Message) as {
    s3Bucket: string;
    s3ObjectKey: string[];
  };
  for (const key of notification.s3ObjectKey) {
    const object = await s3.send(new GetObjectCommand({ Bucket: notification.s3Bucket, Key: key }));
    const body = await object.Body!.transformToByteArray();
    const { Records } = JSON.parse(gunzipSync(body).toString("utf8")) as {
      Records: Record<string, unknown>[];
    };
    for (const record of Records) {
      const route = routeOf(record, routes);
      if (route) {
        await sqs.send(
          new SendMessageCommand({ QueueUrl: route.queueUrl, MessageBody: JSON.stringify(record) }),
        );
      }
    }
  }
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
}
sqs.destroy();
s3.destroy();
