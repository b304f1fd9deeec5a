import { redeliveryDelay, SQS_MAX_VISIBILITY_TIMEOUT } from "@trailrouter/source-sqs";
import { describe, expect, it } from "vitest";

describe("redeliveryDelay", () => {
  it("starts at the base delay and doubles with each receive", () => {
    const options = { redeliveryDelaySeconds: 10, maxRedeliveryDelaySeconds: 900 };
    expect([1, 2, 3, 4, 5, 6, 7].map((count) => redeliveryDelay(options, count))).toEqual([
      10, 20, 40, 80, 160, 320, 640,
    ]);
  });

  it("never goes beyond the max, nor beyond what SQS accepts, however many receives", () => {
    expect(redeliveryDelay({ redeliveryDelaySeconds: 10, maxRedeliveryDelaySeconds: 900 }, 8)).toBe(900);
    expect(redeliveryDelay({ redeliveryDelaySeconds: 10, maxRedeliveryDelaySeconds: 900 }, 10_000)).toBe(900);
    expect(redeliveryDelay({ redeliveryDelaySeconds: 43_200, maxRedeliveryDelaySeconds: 43_200 }, 5)).toBe(
      SQS_MAX_VISIBILITY_TIMEOUT,
    );
    expect(redeliveryDelay({ redeliveryDelaySeconds: 600, maxRedeliveryDelaySeconds: 60 }, 1)).toBe(60);
  });

  it("gives back at once when the base delay is 0", () => {
    expect(redeliveryDelay({ redeliveryDelaySeconds: 0, maxRedeliveryDelaySeconds: 900 }, 7)).toBe(0);
  });
});
