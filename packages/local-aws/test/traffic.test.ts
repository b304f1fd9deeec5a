import type { TrailRecord } from "@trailrouter/core";
import { generateTraffic, loadSampleRecords, streamTraffic } from "@trailrouter/local-aws";
import { describe, expect, it } from "vitest";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function generate(seed: number, count = 2000, extra: object = {}): TrailRecord[] {
  return generateTraffic({ seed, count, ...extra });
}

describe("generateTraffic", () => {
  it("gives the same records for the same seed", () => {
    expect(JSON.stringify(generate(42))).toBe(JSON.stringify(generate(42)));
  });

  it("gives different records for different seeds", () => {
    const [a, b] = [generate(1, 200), generate(2, 200)];
    expect(a.map((record) => record.eventID)).not.toEqual(b.map((record) => record.eventID));
    expect(a.map((record) => record.eventName)).not.toEqual(b.map((record) => record.eventName));
  });

  it("gives every record the fields CloudTrail writes", () => {
    const records = generate(7, 1500);
    expect(records).toHaveLength(1500);
    for (const record of records) {
      expect(record.eventVersion).toMatch(/^1\.\d{2}$/);
      const identity = record.userIdentity as { type: string; arn?: string; invokedBy?: string };
      expect(["IAMUser", "AssumedRole", "Root", "AWSService"]).toContain(identity.type);
      expect(identity.type === "AWSService" ? identity.invokedBy : identity.arn).toMatch(/\S/);
      expect(record.eventTime).toMatch(EVENT_TIME);
      expect(record.eventSource).toMatch(/^[a-z0-9-]+\.amazonaws\.com$/);
      expect(record.eventName).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(["us-east-1", "us-west-2", "eu-west-1"]).toContain(record.awsRegion);
      expect(record.sourceIPAddress).toMatch(/^(\d+\.\d+\.\d+\.\d+|[a-z0-9-]+\.amazonaws\.com)$/);
      expect(record.userAgent).toMatch(/\S/);
      expect(record).toHaveProperty("requestParameters");
      expect(record).toHaveProperty("responseElements");
      expect(record.eventID).toMatch(UUID);
      expect(typeof record.readOnly).toBe("boolean");
      expect(record.managementEvent).toBe(true);
      expect(record.recipientAccountId).toMatch(/^\d{12}$/);
      expect(record.eventCategory).toBe("Management");
      expect(record.tlsDetails).toMatchObject({ tlsVersion: "TLSv1.3" });
      // Console sign-ins are the one kind of event CloudTrail writes without a request id.
      if (record.eventType === "AwsConsoleSignIn") {
        expect(record.eventName).toBe("ConsoleLogin");
        expect(record).not.toHaveProperty("requestID");
      } else {
        expect(record.eventType).toBe("AwsApiCall");
        expect(record.requestID).toMatch(UUID);
      }
    }
    expect(new Set(records.map((record) => record.eventID)).size).toBe(records.length);
  });

  it("mixes several identity types, mostly reads, and the rare writes routes look for", () => {
    const records = generate(3, 20_000);
    const types = new Set(records.map((record) => (record.userIdentity as { type: string }).type));
    expect(types).toEqual(new Set(["IAMUser", "AssumedRole", "Root", "AWSService"]));
    const names = new Set(records.map((record) => record.eventName));
    for (const name of [
      "DescribeInstances",
      "GetCallerIdentity",
      "AssumeRole",
      "Decrypt",
      "ListBuckets",
      "RunInstances",
      "TerminateInstances",
      "ModifyInstanceAttribute",
      "CreateUser",
      "DeleteUser",
      "ConsoleLogin",
    ]) {
      expect(names).toContain(name);
    }
    const reads = records.filter((record) => record.readOnly).length;
    expect(reads / records.length).toBeGreaterThan(0.85);
    expect(records.some((record) => record.errorCode === "AccessDenied")).toBe(true);
    // Global services log in us-east-1 whatever region the caller is in.
    const iam = records.filter((record) => record.eventSource === "iam.amazonaws.com");
    expect(new Set(iam.map((record) => record.awsRegion))).toEqual(new Set(["us-east-1"]));
  });

  it("keeps the records of a write consistent with its request", () => {
    const records = generate(11, 20_000);
    const run = records.find((record) => record.eventName === "RunInstances" && !record.errorCode)!;
    const request = run.requestParameters as { instanceType: string };
    const response = run.responseElements as {
      ownerId: string;
      instancesSet: { items: { instanceType: string }[] };
    };
    expect(response.ownerId).toBe(run.recipientAccountId);
    expect(response.instancesSet.items[0]?.instanceType).toBe(request.instanceType);
    const createUser = records.find((record) => record.eventName === "CreateUser" && !record.errorCode)!;
    const user = (createUser.responseElements as { user: { userName: string; arn: string } }).user;
    expect(user.userName).toBe((createUser.requestParameters as { userName: string }).userName);
    expect(user.arn).toBe(`arn:aws:iam::${createUser.recipientAccountId}:user/${user.userName}`);
  });

  it("spreads event times in order over the window and honours accounts and regions", () => {
    const records = generate(5, 1000, {
      start: "2026-11-26T12:00:00Z",
      durationMs: 600_000,
      accountIds: ["123456789012"],
      regions: ["ap-southeast-2"],
    });
    const times = records.map((record) => Date.parse(record.eventTime!));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(Date.parse("2026-11-26T12:00:00Z"));
    expect(times[0]).toBeLessThan(Date.parse("2026-11-26T12:00:05Z"));
    expect(times.at(-1)).toBeGreaterThan(Date.parse("2026-11-26T12:09:50Z"));
    expect(times.at(-1)).toBeLessThan(Date.parse("2026-11-26T12:10:00Z"));
    expect(new Set(records.map((record) => record.recipientAccountId))).toEqual(new Set(["123456789012"]));
    const regional = records.filter(
      (record) => !["iam.amazonaws.com", "signin.amazonaws.com"].includes(record.eventSource!),
    );
    expect(new Set(regional.map((record) => record.awsRegion))).toContain("ap-southeast-2");
  });

  it("mixes in real sample records with fresh ids when asked", () => {
    // The samples come from their own anonymized accounts, none of the generated ones.
    const sampleAccounts = new Set(loadSampleRecords().map((record) => record.recipientAccountId));
    const isSample = (record: TrailRecord) => sampleAccounts.has(record.recipientAccountId);
    const records = generate(9, 2000, { sampleShare: 0.25 });
    const samples = records.filter(isSample);
    expect(samples.length).toBeGreaterThan(350);
    expect(samples.length).toBeLessThan(650);
    expect(samples.some((record) => String(record.userAgent).startsWith("stratus-red-team_"))).toBe(true);
    expect(new Set(records.map((record) => record.eventID)).size).toBe(records.length);
    expect(samples.every((record) => record.eventTime!.startsWith("2026-01-01T00:"))).toBe(true);
    expect(generate(9, 2000).some(isSample)).toBe(false);
  });

  it("shares frozen nested parts across records", () => {
    const [record] = generate(1, 1);
    expect(Object.isFrozen(record!.userIdentity)).toBe(true);
    expect(Object.isFrozen(record!.tlsDetails)).toBe(true);
    expect(Object.isFrozen(record)).toBe(false);
  });

  it("streams the same records one at a time", () => {
    const stream = streamTraffic({ seed: 42, count: 2000 });
    const first = stream.next();
    expect(first.done).toBe(false);
    expect(JSON.stringify([first.value, ...stream])).toBe(JSON.stringify(generate(42)));
  });

  it("rejects options it cannot honour, before the first record", () => {
    expect(() => streamTraffic({ seed: 1.5, count: 1 })).toThrow(/seed/);
    expect(() => streamTraffic({ seed: 1, count: -1 })).toThrow(/count/);
    expect(() => generateTraffic({ seed: 1, count: 1, accountIds: ["12345"] })).toThrow(/accountIds/);
    expect(() => generateTraffic({ seed: 1, count: 1, regions: [] })).toThrow(/regions/);
    expect(() => generateTraffic({ seed: 1, count: 1, sampleShare: 2 })).toThrow(/sampleShare/);
    expect(() => generateTraffic({ seed: 1, count: 1, start: "yesterday" })).toThrow(/start/);
  });
});
