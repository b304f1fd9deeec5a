import { isRetryableError } from "@trailrouter/core";
import { describe, expect, it } from "vitest";

const sdkError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 400 }, ...extra });

describe("isRetryableError", () => {
  it.each([
    ["a $retryable error", sdkError("SomethingElse", { $retryable: {} }), true],
    ["throttling", sdkError("ThrottlingException"), true],
    ["HTTP 429", sdkError("TooBusy", { $metadata: { httpStatusCode: 429 } }), true],
    ["a 5xx response", sdkError("InternalError", { $metadata: { httpStatusCode: 500 } }), true],
    ["an odd 5xx response", sdkError("Unknown", { $metadata: { httpStatusCode: 507 } }), true],
    ["a timeout", sdkError("TimeoutError"), true],
    ["a reset connection", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), true],
    ["a refused connection", Object.assign(new Error("connect"), { code: "ECONNREFUSED" }), true],
    ["a missing queue", sdkError("QueueDoesNotExist"), false],
    ["bad parameters", sdkError("InvalidParameterValue"), false],
    ["a plain error", new Error("bug"), false],
    ["a thrown string", "oops", false],
  ])("%s → %s", (_label, error, expected) => {
    expect(isRetryableError(error)).toBe(expected);
  });
});
