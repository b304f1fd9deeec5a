/**
 * Retry policy shared by every batching sink: the `retry` option, and exponential backoff with
 * full jitter.
 */
import { type Static, Type, withDefaults } from "@trailrouter/core";

/**
 * Add under a sink's `properties` as `retry: Type.Optional(retrySettingsSchema)`, so every sink
 * reads the same option.
 */
export const retrySettingsSchema = Type.Object(
  {
    attempts: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 5,
      description: "Sends of an entry at most, the first included",
    }),
    baseDelayMs: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 100,
      description: "Backoff before the first retry; doubles each round",
    }),
    maxDelayMs: Type.Integer({
      minimum: 0,
      maximum: 300_000,
      default: 5000,
      description: "Longest backoff between two rounds",
    }),
    maxElapsedMs: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 30_000,
      description: "No new round starts after this long; what is left is reported as failed",
    }),
  },
  {
    description:
      "Retries of entries the service failed with a retryable error (exponential backoff, full jitter)",
    additionalProperties: false,
  },
);

/**
 * The `retry` option of a sink: `attempts` per entry, the first one included; `baseDelayMs`, the
 * backoff before the first retry, doubling on each retry up to `maxDelayMs`; no retry starts once
 * `maxElapsedMs` has passed since delivery began.
 */
export type RetrySettings = Static<typeof retrySettingsSchema>;

let defaultRetrySettings: RetrySettings | undefined;

/** The settings, each one not given (or undefined) taken from retrySettingsSchema's defaults. */
export function resolveRetrySettings(settings: Partial<RetrySettings> = {}): RetrySettings {
  defaultRetrySettings ??= withDefaults(retrySettingsSchema, {});
  const resolved = { ...defaultRetrySettings };
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined) resolved[name as keyof RetrySettings] = value;
  }
  return resolved;
}

/**
 * Delay before retry number `retry` (1 for the first retry): a uniform draw in
 * [0, min(maxDelayMs, baseDelayMs · 2^(retry−1))) — "full jitter", so retries of many
 * callers spread out instead of arriving together.
 */
export function backoffDelay(retry: number, settings: RetrySettings, random: () => number): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Whether an entry sent `attempts` times may be sent again, its retry starting `elapsedMs` after
 * its delivery began.
 */
export function mayRetry(attempts: number, elapsedMs: number, settings: RetrySettings): boolean {
  return attempts < settings.attempts && elapsedMs <= settings.maxElapsedMs;
}
