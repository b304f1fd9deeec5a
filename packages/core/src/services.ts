/**
 * Services a pipeline's plugins share, registered in tsyringe under explicit tokens (no
 * decorator metadata): logger, clock, metrics, AWS client factory.
 */
import { type Static, Type } from "@sinclair/typebox";
import type { Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

export const TOKENS = {
  Logger: Symbol.for("trailrouter.Logger"),
  Clock: Symbol.for("trailrouter.Clock"),
  Metrics: Symbol.for("trailrouter.Metrics"),
  AwsSettings: Symbol.for("trailrouter.AwsSettings"),
  /** An AwsClientFactory with the pipeline's settings (plugins get their own merged one in context). */
  AwsClients: Symbol.for("trailrouter.AwsClients"),
  PipelineName: Symbol.for("trailrouter.PipelineName"),
  Plugins: Symbol.for("trailrouter.Plugins"),
  /**
   * The pipeline's sinks by name (`ReadonlyMap<string, Sink>`), registered once they are all
   * created: resolve it when it is needed, not in `create`.
   */
  Sinks: Symbol.for("trailrouter.Sinks"),
} as const;

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/**
 * The `aws` block of a pipeline file (awsSettingsSchema): applies to every AWS client, overridable
 * per plugin. `maxAttempts`: attempts per AWS request, retries included (the SDK's standard retry
 * strategy); `requestTimeoutMs`: a request whose socket stays silent this long fails (and is
 * retried), so no call hangs forever.
 */
export type AwsSettings = Static<typeof awsSettingsSchema>;

/** Attempts per AWS request when the settings give none. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Long enough for a 20 s long poll and a slow S3 read; short enough that a dead peer is noticed. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * The `aws` override block a plugin may accept; add it to the plugin's `properties` as
 * `aws: Type.Optional(awsSettingsSchema)`. Its options have no `default`: the file's, the
 * pipeline's and the plugin's blocks are merged, and a default would hide the outer ones.
 */
export const awsSettingsSchema = Type.Object(
  {
    region: Type.Optional(
      Type.String({ minLength: 1, description: "AWS region (else AWS_REGION, the profile, ...)" }),
    ),
    endpoint: Type.Optional(
      Type.String({
        format: "uri",
        description: "Endpoint URL, for a local emulator or a VPC endpoint (else AWS_ENDPOINT_URL*)",
      }),
    ),
    forcePathStyle: Type.Optional(
      Type.Boolean({ description: "S3 path-style addressing (bucket in the path, not the host)" }),
    ),
    maxAttempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 20,
        description: `Attempts per AWS request, the SDK's standard retries included (default ${DEFAULT_MAX_ATTEMPTS})`,
      }),
    ),
    requestTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 600_000,
        description: `A request whose connection stays silent this long fails and is retried (default ${DEFAULT_REQUEST_TIMEOUT_MS})`,
      }),
    ),
  },
  {
    description: "AWS client settings for this plugin, over the pipeline's and the file's",
    additionalProperties: false,
  },
);

/** Builds AWS SDK clients with the merged settings; unset values fall back to the SDK's chain. */
export interface AwsClientFactory {
  readonly settings: Readonly<AwsSettings>;
  // biome-ignore lint/suspicious/noExplicitAny: SDK client constructors take their own config types
  client<T>(Client: new (config: any) => T, extra?: Record<string, unknown>): T;
}

function endpointFromEnvironment(): boolean {
  return Object.keys(process.env).some(
    (name) => name === "AWS_ENDPOINT_URL" || name.startsWith("AWS_ENDPOINT_URL_"),
  );
}

/** Later settings win; undefined values do not erase earlier ones. */
export function mergeAwsSettings(...layers: (AwsSettings | undefined)[]): AwsSettings {
  const merged: AwsSettings = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer ?? {})) {
      if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
    }
  }
  return merged;
}

export function awsClientFactory(settings: AwsSettings): AwsClientFactory {
  return {
    settings,
    client(Client, extra = {}) {
      const config: Record<string, unknown> = {
        maxAttempts: DEFAULT_MAX_ATTEMPTS,
        retryMode: "standard",
        ...extra,
      };
      if (settings.region) config.region = settings.region;
      if (settings.endpoint) config.endpoint = settings.endpoint;
      if (settings.forcePathStyle !== undefined) config.forcePathStyle = settings.forcePathStyle;
      if (settings.maxAttempts !== undefined) config.maxAttempts = settings.maxAttempts;
      config.requestHandler = {
        requestTimeout: settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      };
      // With a custom endpoint (file or AWS_ENDPOINT_URL*), the SQS client must not send requests
      // to the host written in the queue URL instead; other clients ignore this option.
      if (settings.endpoint || endpointFromEnvironment()) config.useQueueUrlAsEndpoint = false;
      return new Client(config);
    },
  };
}

/** A plugin's counter; the `pipeline` label is added. */
export interface LabelledCounter {
  inc(labels?: Readonly<Record<string, string>>, value?: number): void;
}

/** A plugin's histogram; the `pipeline` label is added. */
export interface LabelledHistogram {
  observe(labels: Readonly<Record<string, string>> | undefined, value: number): void;
}

/**
 * A plugin's own metrics, in the run's registry beside trailrouter's: a `--once` summary lists
 * its counters, and every exporter of the registry shows both. Use names of your plugin's own
 * (`trailrouter_webhook_requests_total`); the same name asked again (another instance of the
 * plugin) is the same metric.
 */
export interface PluginMetrics {
  counter(name: string, help: string, labelNames?: readonly string[]): LabelledCounter;
  histogram(
    name: string,
    help: string,
    options?: { labelNames?: readonly string[]; buckets?: readonly number[] },
  ): LabelledHistogram;
}

/**
 * Counters of one pipeline. The runtime's summary and any exporter read them from the
 * registry (prom-client) under the names in metrics.ts.
 */
export interface PipelineMetrics extends PluginMetrics {
  /** An announced object was not decoded on purpose (`digest`, `duplicate`, ...). */
  objectSkipped(reason: string): void;
  objectDecoded(): void;
  records(count: number): void;
  routed(route: string, count: number): void;
  delivered(sink: string, count: number): void;
  /** Records a sink refused for good, delivered to the pipeline's `recordDeadLetter` sink instead. */
  deadLettered(sink: string, code: string, count: number): void;
  /** `dead-lettered`: failed, set aside through its source's dead letter, and acked. */
  envelope(outcome: "acked" | "nacked" | "dead-lettered"): void;
  failure(stage: string, code: string): void;
}
