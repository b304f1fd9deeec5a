import { type AwsSettings, awsSettingsSchema, type PluginSchema } from "@trailrouter/core";

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
  readonly redeliveryDelaySeconds: number;
}

const DEFAULTS = {
  waitTimeSeconds: 20,
  maxMessages: 10,
  concurrency: 4,
  ignoreDigests: true,
  redeliveryDelaySeconds: 0,
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
      minimum: 0,
      maximum: 43200,
      description: "Visibility timeout of received messages, in seconds (the queue's own when unset)",
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
    redeliveryDelaySeconds: {
      type: "integer",
      minimum: 0,
      maximum: 43200,
      default: DEFAULTS.redeliveryDelaySeconds,
      description: "Visibility timeout set on a message given back after a failure",
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
  };
}
