import type { TrailRecord } from "@trailrouter/core";
import { formatRecord, toEventBridgeEvent } from "@trailrouter/delivery";
import { describe, expect, it } from "vitest";

const createUser: TrailRecord = {
  eventVersion: "1.09",
  eventTime: "2026-11-26T12:05:00Z",
  eventSource: "iam.amazonaws.com",
  eventName: "CreateUser",
  awsRegion: "us-east-1",
  eventID: "3f0b7d6e-4a0c-4b8e-9a57-0d8b1a2c3e4f",
  eventType: "AwsApiCall",
  recipientAccountId: "111122223333",
};

describe("output formats", () => {
  it("record: the CloudTrail record as written", () => {
    expect(formatRecord(createUser, "record")).toBe(createUser);
    expect(formatRecord(createUser)).toBe(createUser);
  });

  it("eventbridge: the envelope EventBridge uses for CloudTrail API calls", () => {
    const event = toEventBridgeEvent(createUser);
    expect(event).toEqual({
      version: "0",
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      "detail-type": "AWS API Call via CloudTrail",
      source: "aws.iam",
      account: "111122223333",
      time: "2026-11-26T12:05:00Z",
      region: "us-east-1",
      resources: [],
      detail: createUser,
    });
  });

  it("gives a record the same event id every time, and different records different ids", () => {
    expect(toEventBridgeEvent(createUser).id).toBe(toEventBridgeEvent({ ...createUser }).id);
    expect(toEventBridgeEvent({ ...createUser, eventID: "another" }).id).not.toBe(
      toEventBridgeEvent(createUser).id,
    );
  });

  it("names the detail-type after the record's eventType and category", () => {
    const type = (r: Partial<TrailRecord>) => toEventBridgeEvent({ ...createUser, ...r })["detail-type"];
    expect(type({ eventType: "AwsConsoleSignIn", eventSource: "signin.amazonaws.com" })).toBe(
      "AWS Console Sign In via CloudTrail",
    );
    expect(type({ eventType: "AwsConsoleAction" })).toBe("AWS Console Action via CloudTrail");
    expect(type({ eventType: "AwsServiceEvent" })).toBe("AWS Service Event via CloudTrail");
    expect(type({ eventCategory: "Insight" })).toBe("AWS Insight via CloudTrail");
    for (const eventType of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      expect(type({ eventType })).toBe("AWS API Call via CloudTrail");
    }
    expect(toEventBridgeEvent({ ...createUser, eventSource: "signin.amazonaws.com" }).source).toBe(
      "aws.signin",
    );
  });
});
