/**
 * Retry policy shared by every batching sink: the `retry` option, and exponential backoff with
 * full jitter.
 */
import type { JsonSchema } from "@trailrouter/core";

/** The `retry` option of a sink. */
export interface RetrySettings {
  /** Attempts per entry, the first one included. */
  attempts?: number;
  /** Backoff before the first retry; doubles on each retry, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** No retry starts once this much time has passed since delivery began. */
  maxElapsedMs?: number;
}

export const DEFAULT_RETRY_SETTINGS: Readonly<Required<RetrySettings>> = {
  attempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5000,
  maxElapsedMs: 30_000,
};

/** Add under a sink's `properties` as `retry`, so every sink reads the same option. */
export const retrySettingsSchema: JsonSchema = {
  type: "object",
  description:
    "Retries of entries the service failed with a retryable error (exponential backoff, full jitter)",
  properties: {
    attempts: {
      type: "integer",
      minimum: 1,
      maximum: 20,
      default: DEFAULT_RETRY_SETTINGS.attempts,
      description: "Sends of an entry at most, the first included",
    },
    baseDelayMs: {
      type: "integer",
      minimum: 0,
      maximum: 60_000,
      default: DEFAULT_RETRY_SETTINGS.baseDelayMs,
      description: "Backoff before the first retry; doubles each round",
    },
    maxDelayMs: {
      type: "integer",
      minimum: 0,
      maximum: 300_000,
      default: DEFAULT_RETRY_SETTINGS.maxDelayMs,
      description: "Longest backoff between two rounds",
    },
    maxElapsedMs: {
      type: "integer",
      minimum: 0,
      maximum: 3_600_000,
      default: DEFAULT_RETRY_SETTINGS.maxElapsedMs,
      description: "No new round starts after this long; what is left is reported as failed",
    },
  },
  additionalProperties: false,
};

export function resolveRetrySettings(settings: RetrySettings = {}): Required<RetrySettings> {
  const resolved = { ...DEFAULT_RETRY_SETTINGS };
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
export function backoffDelay(retry: number, settings: Required<RetrySettings>, random: () => number): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Whether an entry sent `attempts` times may be sent again, its retry starting `elapsedMs` after
 * its delivery began.
 */
export function mayRetry(attempts: number, elapsedMs: number, settings: Required<RetrySettings>): boolean {
  return attempts < settings.attempts && elapsedMs <= settings.maxElapsedMs;
}
