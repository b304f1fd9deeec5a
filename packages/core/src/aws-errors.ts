/** How AWS SDK errors are told apart, for every plugin that calls AWS. */
import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";

/**
 * Whether a thrown error may succeed on another try, as the AWS SDK classifies it:
 * `$retryable`, throttling, 5xx, timeouts and connection errors.
 */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  return isTransientError(sdkError) || isThrottlingError(sdkError) || isServerError(sdkError);
}
