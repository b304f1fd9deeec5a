import {
  type AwsSettings,
  awsSettingsSchema,
  type PluginSchema,
  type PluginValidateContext,
} from "@trailrouter/core";
import { queueKey } from "./queue-identity.js";

/** The source's block in a pipeline file, as validated against `sqsSourceSchema`. */
export interface SqsSourceConfig {
  queueUrl: string;
  waitTimeSeconds?: number;
  maxMessages?: number;
  visibilityTimeout?: number;
  concurrency?: number;
  allowedBuckets?: string[];
  ignoreDigests?: boolean;
  redeliveryDelaySeconds?: number;
  maxRedeliveryDelaySeconds?: number;
  maxObjectBytes?: number;
  deadLetter?: { sink: string; maxReceiveCount?: number };
  aws?: AwsSettings;
}

/** The options with their defaults applied. */
export interface SqsSourceOptions {
  readonly queueUrl: string;
  readonly waitTimeSeconds: number;
  readonly maxMessages: number;
  /** Unset: the queue's own visibility timeout applies. */
  readonly visibilityTimeout: number | undefined;
  readonly concurrency: number;
  /** Unset: objects may come from any bucket. */
  readonly allowedBuckets: ReadonlySet<string> | undefined;
  readonly ignoreDigests: boolean;
  /** The delay after a first failure; it doubles with each receive, up to the max. */
  readonly redeliveryDelaySeconds: number;
  readonly maxRedeliveryDelaySeconds: number;
  /** Larger announced objects are refused before their body is read. */
  readonly maxObjectBytes: number;
  /**
   * For a queue without a RedrivePolicy: a message failing at its `maxReceiveCount`-th receive or
   * later is delivered to this sink of the pipeline, then deleted (only if that delivery succeeded).
   */
  readonly deadLetter: { readonly sink: string; readonly maxReceiveCount: number } | undefined;
}

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

const DEFAULTS = {
  waitTimeSeconds: 20,
  maxMessages: 10,
  concurrency: 10,
  ignoreDigests: true,
  redeliveryDelaySeconds: 10,
  maxRedeliveryDelaySeconds: 900,
  maxObjectBytes: 268_435_456,
  deadLetterMaxReceiveCount: 5,
} as const;

export const sqsSourceSchema: PluginSchema = {
  type: "object",
  properties: {
    queueUrl: {
      type: "string",
      format: "uri",
      description: "URL of the queue CloudTrail notifications arrive in",
    },
    waitTimeSeconds: {
      type: "integer",
      minimum: 0,
      maximum: 20,
      default: DEFAULTS.waitTimeSeconds,
      description: "Long-poll wait of each ReceiveMessage",
    },
    maxMessages: {
      type: "integer",
      minimum: 1,
      maximum: 10,
      default: DEFAULTS.maxMessages,
      description: "Messages asked for per ReceiveMessage",
    },
    visibilityTimeout: {
      type: "integer",
      minimum: MIN_VISIBILITY_TIMEOUT_SECONDS,
      maximum: 43200,
      description:
        "Visibility timeout of received messages, in seconds (the queue's own when unset); a heartbeat renews it every half timeout. 30 to 120 recommended",
    },
    concurrency: {
      type: "integer",
      minimum: 1,
      maximum: 100,
      default: DEFAULTS.concurrency,
      description: "Messages handed out and not yet acknowledged or given back, at most",
    },
    allowedBuckets: {
      type: "array",
      items: { type: "string", minLength: 1 },
      minItems: 1,
      uniqueItems: true,
      description: "Buckets objects may be read from; an object elsewhere is refused before it is read",
    },
    ignoreDigests: {
      type: "boolean",
      default: DEFAULTS.ignoreDigests,
      description: "Skip CloudTrail digest files (they hold no records)",
    },
    maxObjectBytes: {
      type: "integer",
      minimum: 1,
      default: DEFAULTS.maxObjectBytes,
      description:
        "Refuse an announced object larger than this (S3 size) before reading it, instead of running out of memory",
    },
    redeliveryDelaySeconds: {
      type: "integer",
      minimum: 0,
      maximum: 43200,
      default: DEFAULTS.redeliveryDelaySeconds,
      description:
        "Seconds before a message given back after its first failure is received again; doubles with each further receive",
    },
    maxRedeliveryDelaySeconds: {
      type: "integer",
      minimum: 0,
      maximum: 43200,
      default: DEFAULTS.maxRedeliveryDelaySeconds,
      description: "Cap of the growing redelivery delay, in seconds",
    },
    deadLetter: {
      type: "object",
      description:
        "For a queue without a RedrivePolicy: where a message that keeps failing goes (one record with its body and error) before it is deleted",
      properties: {
        sink: { type: "string", minLength: 1, description: "Name of a sink of this pipeline" },
        maxReceiveCount: {
          type: "integer",
          minimum: 1,
          maximum: 1000,
          default: DEFAULTS.deadLetterMaxReceiveCount,
          description: "Receives after which a failing message is dead-lettered",
        },
      },
      required: ["sink"],
      additionalProperties: false,
    },
    aws: awsSettingsSchema,
  },
  required: ["queueUrl"],
  additionalProperties: false,
};

export function resolveSqsSourceOptions(config: SqsSourceConfig): SqsSourceOptions {
  return {
    queueUrl: config.queueUrl,
    waitTimeSeconds: config.waitTimeSeconds ?? DEFAULTS.waitTimeSeconds,
    maxMessages: config.maxMessages ?? DEFAULTS.maxMessages,
    visibilityTimeout: config.visibilityTimeout,
    concurrency: config.concurrency ?? DEFAULTS.concurrency,
    allowedBuckets: config.allowedBuckets ? new Set(config.allowedBuckets) : undefined,
    ignoreDigests: config.ignoreDigests ?? DEFAULTS.ignoreDigests,
    redeliveryDelaySeconds: config.redeliveryDelaySeconds ?? DEFAULTS.redeliveryDelaySeconds,
    maxRedeliveryDelaySeconds: config.maxRedeliveryDelaySeconds ?? DEFAULTS.maxRedeliveryDelaySeconds,
    maxObjectBytes: config.maxObjectBytes ?? DEFAULTS.maxObjectBytes,
    deadLetter: config.deadLetter && {
      sink: config.deadLetter.sink,
      maxReceiveCount: config.deadLetter.maxReceiveCount ?? DEFAULTS.deadLetterMaxReceiveCount,
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
  if (
    redeliveryDelaySeconds !== undefined &&
    maxRedeliveryDelaySeconds !== undefined &&
    maxRedeliveryDelaySeconds < redeliveryDelaySeconds
  ) {
    problems.push({
      path: "maxRedeliveryDelaySeconds",
      message: `${maxRedeliveryDelaySeconds} (${DEFAULTS.maxRedeliveryDelaySeconds} when unset) is below redeliveryDelaySeconds (${redeliveryDelaySeconds}): every redelivery would wait ${maxRedeliveryDelaySeconds} s; raise maxRedeliveryDelaySeconds or lower redeliveryDelaySeconds`,
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
