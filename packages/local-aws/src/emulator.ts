/**
 * fauxqs (SQS, SNS, S3) started in-process on a free loopback port, with SDK clients bound to it.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";

export const LOCAL_REGION = "us-east-1";
/** The emulators accept any credentials; these keep the SDK from looking for real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;

export interface LocalAws {
  /** `http://127.0.0.1:<port>`: an IP endpoint, so S3 addressing is path-style. */
  readonly endpoint: string;
  readonly region: string;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  /** The fauxqs server, for inspection helpers (inspectQueue, spy). */
  readonly server: Awaited<ReturnType<typeof startFauxqs>>;
  stop(): Promise<void>;
}

export async function startLocalAws(options: { port?: number; region?: string } = {}): Promise<LocalAws> {
  const region = options.region ?? LOCAL_REGION;
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, defaultRegion: region });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const config = { endpoint, region, credentials: LOCAL_CREDENTIALS };
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  return {
    endpoint,
    region,
    sqs,
    sns,
    s3,
    server,
    async stop() {
      sqs.destroy();
      sns.destroy();
      s3.destroy();
      await server.stop();
    },
  };
}
