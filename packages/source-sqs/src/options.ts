import { awsSettingsSchema, type ConfigOf, type PluginValidateContext, Type } from "@trailrouter/core";
import { queueKey } from "./queue-identity.js";

/** The longest visibility timeout SQS accepts: 12 hours. */
export const SQS_MAX_VISIBILITY_TIMEOUT = 43_200;

/**
 * The shortest visibility timeout the heartbeat can keep up, in seconds. It renews the lease every
 * half timeout, and SQS counts whole seconds: at 1 s a beat would be due every 500 ms with half a
 * second to land; 0 disables the heartbeat, so a message is visible again at once, to this process
 * and every other consumer (one message was handed out 24,160 times in 20 s). 2 s gives each beat a
 * full second: several round trips and the SDK's first retries. 30 to 120 s is what to use.
 */
export const MIN_VISIBILITY_TIMEOUT_SECONDS = 2;

export const sqsSourceSchema = Type.Object(
  {
    queueUrl: Type.String({
      format: "uri",
      description: "URL of the queue CloudTrail notifications arrive in",
    }),
    waitTimeSeconds: Type.Integer({
      minimum: 0,
      maximum: 20,
      default: 20,
      description: "Long-poll wait of each ReceiveMessage",
    }),
    maxMessages: Type.Integer({
      minimum: 1,
      maximum: 10,
      default: 10,
      description: "Messages asked for per ReceiveMessage",
    }),
    visibilityTimeout: Type.Optional(
      Type.Integer({
        minimum: MIN_VISIBILITY_TIMEOUT_SECONDS,
        maximum: 43200,
        description:
          "Visibility timeout of received messages, in seconds (the queue's own when unset); a heartbeat renews it every half timeout. 30 to 120 recommended",
      }),
    ),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 10,
      description: "Messages handed out and not yet acknowledged or given back, at most",
    }),
    allowedBuckets: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        uniqueItems: true,
        description: "Buckets objects may be read from; an object elsewhere is refused before it is read",
      }),
    ),
    ignoreDigests: Type.Boolean({
      default: true,
      description: "Skip CloudTrail digest files (they hold no records)",
    }),
    maxObjectBytes: Type.Integer({
      minimum: 1,
      default: 268_435_456,
      description:
        "Refuse an announced object larger than this (S3 size) before reading it, instead of running out of memory",
    }),
    redeliveryDelaySeconds: Type.Integer({
      minimum: 0,
      maximum: 43200,
      default: 10,
      description:
        "Seconds before a message given back after its first failure is received again; doubles with each further receive",
    }),
    maxRedeliveryDelaySeconds: Type.Integer({
      minimum: 0,
      maximum: 43200,
      default: 900,
      description: "Cap of the growing redelivery delay, in seconds",
    }),
    deadLetter: Type.Optional(
      Type.Object(
        {
          sink: Type.String({ minLength: 1, description: "Name of a sink of this pipeline" }),
          maxReceiveCount: Type.Integer({
            minimum: 1,
            maximum: 1000,
            default: 5,
            description: "Receives after which a failing message is dead-lettered",
          }),
        },
        {
          description:
            "For a queue without a RedrivePolicy: where a message that keeps failing goes (one record with its body and error) before it is deleted",
          additionalProperties: false,
        },
      ),
    ),
    aws: Type.Optional(awsSettingsSchema),
  },
  { additionalProperties: false },
);

/** The source's block in a pipeline file, as validated against `sqsSourceSchema` (defaults filled in). */
export type SqsSourceConfig = ConfigOf<typeof sqsSourceSchema>;

/**
 * The options the source runs with: its block without `aws` (the context's clients carry it), and
 * `allowedBuckets` as a set (unset: objects may come from any bucket). `visibilityTimeout` unset:
 * the queue's own applies. `redeliveryDelaySeconds` is the delay after a first failure; it doubles
 * with each receive, up to `maxRedeliveryDelaySeconds`. A larger announced object than
 * `maxObjectBytes` is refused before its body is read. `deadLetter`, for a queue without a
 * RedrivePolicy: a message failing at its `maxReceiveCount`-th receive or later is delivered to this
 * sink of the pipeline, then deleted (only if that delivery succeeded).
 */
export type SqsSourceOptions = Readonly<
  Omit<SqsSourceConfig, "aws" | "allowedBuckets" | "visibilityTimeout" | "deadLetter"> & {
    visibilityTimeout: number | undefined;
    allowedBuckets: ReadonlySet<string> | undefined;
    deadLetter: Readonly<NonNullable<SqsSourceConfig["deadLetter"]>> | undefined;
  }
>;

/** The source's options from its block, whose defaults the schema filled in. */
export function resolveSqsSourceOptions(config: SqsSourceConfig): SqsSourceOptions {
  return {
    queueUrl: config.queueUrl,
    waitTimeSeconds: config.waitTimeSeconds,
    maxMessages: config.maxMessages,
    visibilityTimeout: config.visibilityTimeout,
    concurrency: config.concurrency,
    allowedBuckets: config.allowedBuckets ? new Set(config.allowedBuckets) : undefined,
    ignoreDigests: config.ignoreDigests,
    redeliveryDelaySeconds: config.redeliveryDelaySeconds,
    maxRedeliveryDelaySeconds: config.maxRedeliveryDelaySeconds,
    maxObjectBytes: config.maxObjectBytes,
    deadLetter: config.deadLetter && {
      sink: config.deadLetter.sink,
      maxReceiveCount: config.deadLetter.maxReceiveCount,
    },
  };
}

/**
 * The checks the schema cannot make: `deadLetter.sink` names a sink of the same pipeline, the
 * redelivery cap is not below the first delay, and no queue of the file is read twice or written
 * into by a sink. Queues are compared by identity (region, account, name), not by their URL's text.
 */
export function checkSqsSourceConfig(
  config: SqsSourceConfig,
  context: PluginValidateContext,
): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const { pipeline, file } = context;
  if (config.deadLetter) {
    const sinks = isRecord(pipeline.sinks) ? Object.keys(pipeline.sinks) : [];
    if (!sinks.includes(config.deadLetter.sink)) {
      problems.push({
        path: "deadLetter.sink",
        message: `no sink named "${config.deadLetter.sink}" in this pipeline (sinks: ${sinks.join(", ") || "none"})`,
      });
    }
  }
  const { redeliveryDelaySeconds, maxRedeliveryDelaySeconds } = config;
  if (maxRedeliveryDelaySeconds < redeliveryDelaySeconds) {
    problems.push({
      path: "maxRedeliveryDelaySeconds",
      message: `${maxRedeliveryDelaySeconds} (${sqsSourceSchema.properties.maxRedeliveryDelaySeconds.default} when unset) is below redeliveryDelaySeconds (${redeliveryDelaySeconds}): every redelivery would wait ${maxRedeliveryDelaySeconds} s; raise maxRedeliveryDelaySeconds or lower redeliveryDelaySeconds`,
    });
  }
  problems.push(...checkQueueUse(config.queueUrl, pipeline, file));
  return problems;
}

/**
 * Another pipeline reading this queue, or a sink writing into it, found in the whole file. Each
 * problem is reported at this source's `queueUrl`, the only place a source's hook reports at.
 */
function checkQueueUse(
  queueUrl: string,
  pipeline: Readonly<Record<string, unknown>>,
  file: Readonly<Record<string, unknown>>,
): { path: string; message: string }[] {
  const pipelines = Array.isArray(file.pipelines) ? (file.pipelines as unknown[]) : [];
  const ours = queueKey(queueUrl);
  const index = pipelines.indexOf(pipeline);
  const problems: { path: string; message: string }[] = [];
  const earlier = pipelines
    .slice(0, Math.max(index, 0))
    .find(
      (other) =>
        isRecord(other) &&
        isRecord(other.source) &&
        other.source.type === "sqs" &&
        typeof other.source.queueUrl === "string" &&
        queueKey(other.source.queueUrl) === ours,
    );
  if (earlier !== undefined) {
    const name = pipelineName(pipeline, index);
    const first = pipelineName(earlier, pipelines.indexOf(earlier));
    problems.push({
      path: "queueUrl",
      message: `pipeline "${name}" reads the same queue as pipeline "${first}": a queue's messages go to one consumer, so "${first}" would take messages "${name}" never sees; route one trail several ways with several routes in one pipeline, or run separate processes`,
    });
  }
  pipelines.forEach((other, p) => {
    if (!isRecord(other) || !isRecord(other.sinks)) return;
    for (const [sinkName, sink] of Object.entries(other.sinks)) {
      if (!isRecord(sink) || sink.type !== "sqs" || typeof sink.queueUrl !== "string") continue;
      if (queueKey(sink.queueUrl) !== ours) continue;
      problems.push({
        path: "queueUrl",
        message: `sink "${sinkName}" of pipeline "${pipelineName(other, p)}" (pipelines[${p}].sinks.${sinkName}) writes to this source queue: its records would come back as notifications`,
      });
    }
  });
  return problems;
}

function pipelineName(pipeline: unknown, index: number): string {
  return isRecord(pipeline) && typeof pipeline.name === "string" ? pipeline.name : `pipelines[${index}]`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * How long a failed message stays hidden before its next receive: the base delay doubled for
 * each receive after the first, capped by the max and by SQS's own limit. Backs off from a
 * failing sink without holding a message back forever.
 */
export function redeliveryDelay(
  options: Pick<SqsSourceOptions, "redeliveryDelaySeconds" | "maxRedeliveryDelaySeconds">,
  receiveCount: number,
): number {
  const doublings = Math.max(0, receiveCount - 1);
  const grown = options.redeliveryDelaySeconds * 2 ** Math.min(doublings, 30);
  return Math.min(grown, options.maxRedeliveryDelaySeconds, SQS_MAX_VISIBILITY_TIMEOUT);
}
