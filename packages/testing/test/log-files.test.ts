import { gunzipSync } from "node:zlib";
import { cloudTrailKey, encodeLogFile, toLogFiles, trailRecord } from "@trailrouter/testing";
import { describe, expect, it } from "vitest";

const TIME = "2026-11-26T12:05:42.123Z";
const LOG =
  /^(?:([^/]+(?:\/[^/]+)*)\/)?AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\3_CloudTrail_\4_\5\6\7T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/;
const DIGEST =
  /^AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?(\d{12})\/CloudTrail-Digest\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail-Digest_\2_[A-Za-z0-9_.-]+_[a-z0-9-]+_\3\4\5T\d{6}Z\.json\.gz$/;
const INSIGHT =
  /^AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?(\d{12})\/CloudTrail-Insight\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail-Insight_\2_\3\4\5T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/;

describe("cloudTrailKey", () => {
  it("writes log keys in CloudTrail's layout", () => {
    const key = cloudTrailKey({ accountId: "111122223333", region: "us-east-1", time: TIME, kind: "log" });
    expect(key).toMatch(LOG);
    expect(key).toMatch(
      /^AWSLogs\/111122223333\/CloudTrail\/us-east-1\/2026\/11\/26\/111122223333_CloudTrail_us-east-1_20261126T1205Z_[A-Za-z0-9]{16}\.json\.gz$/,
    );
    expect(
      cloudTrailKey({ accountId: "111122223333", region: "us-east-1", time: TIME, kind: "log" }),
    ).not.toBe(key);
  });

  it("adds the organization id and the prefix of organization trails", () => {
    const key = cloudTrailKey({
      accountId: "111122223333",
      region: "eu-west-1",
      time: new Date(TIME),
      kind: "log",
      organizationId: "o-aa111bb222",
      prefix: "trails/prod/",
      uniqueId: "0a1B2c3D4e5F6g7H",
    });
    expect(key).toBe(
      "trails/prod/AWSLogs/o-aa111bb222/111122223333/CloudTrail/eu-west-1/2026/11/26/111122223333_CloudTrail_eu-west-1_20261126T1205Z_0a1B2c3D4e5F6g7H.json.gz",
    );
    expect(key.match(LOG)?.slice(1, 5)).toEqual(["trails/prod", "o-aa111bb222", "111122223333", "eu-west-1"]);
  });

  it("names digest files after the trail, to the second", () => {
    const key = cloudTrailKey({ accountId: "111122223333", region: "us-east-2", time: TIME, kind: "digest" });
    expect(key).toBe(
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/11/26/111122223333_CloudTrail-Digest_us-east-2_management-events_us-east-2_20261126T120542Z.json.gz",
    );
    expect(key).toMatch(DIGEST);
    const named = cloudTrailKey({
      accountId: "111122223333",
      region: "us-east-2",
      time: TIME,
      kind: "digest",
      trailName: "org-trail",
      homeRegion: "us-east-1",
      organizationId: "o-aa111bb222",
    });
    expect(named).toMatch(DIGEST);
    expect(named).toContain(
      "/111122223333_CloudTrail-Digest_us-east-2_org-trail_us-east-1_20261126T120542Z.json.gz",
    );
  });

  it("writes insight keys under CloudTrail-Insight", () => {
    const key = cloudTrailKey({
      accountId: "111122223333",
      region: "us-west-2",
      time: TIME,
      kind: "insight",
    });
    expect(key).toMatch(INSIGHT);
    expect(key).not.toMatch(LOG);
  });

  it("uses UTC for the date folders", () => {
    const key = cloudTrailKey({
      accountId: "111122223333",
      region: "us-east-1",
      time: "2026-12-31T23:59:00-05:00",
      kind: "log",
    });
    expect(key).toContain(
      "/CloudTrail/us-east-1/2027/01/01/111122223333_CloudTrail_us-east-1_20270101T0459Z_",
    );
  });

  it("rejects values CloudTrail never writes", () => {
    const base = { region: "us-east-1", time: TIME, kind: "log" } as const;
    expect(() => cloudTrailKey({ ...base, accountId: "1234" })).toThrow(/accountId/);
    expect(() => cloudTrailKey({ ...base, accountId: "111122223333", organizationId: "org-1" })).toThrow(
      /organizationId/,
    );
    expect(() => cloudTrailKey({ ...base, accountId: "111122223333", uniqueId: "short" })).toThrow(
      /uniqueId/,
    );
    expect(() => cloudTrailKey({ ...base, accountId: "111122223333", time: "soon" })).toThrow(/time/);
  });
});

describe("encodeLogFile", () => {
  const records = Array.from({ length: 50 }, (_, i) =>
    trailRecord({ requestParameters: { userName: `u${i}` } }),
  );

  it('gzips {"Records":[...]} and round-trips through gunzip', () => {
    const bytes = encodeLogFile(records);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const text = gunzipSync(bytes).toString("utf8");
    expect(text.startsWith('{"Records":[{')).toBe(true);
    expect(JSON.parse(text)).toEqual({ Records: records });
  });

  it("writes plain JSON when gzip is off", () => {
    const bytes = encodeLogFile(records.slice(0, 2), { gzip: false });
    expect(JSON.parse(Buffer.from(bytes).toString("utf8"))).toEqual({ Records: records.slice(0, 2) });
    expect(Buffer.from(encodeLogFile([], { gzip: false })).toString("utf8")).toBe('{"Records":[]}');
  });
});

describe("toLogFiles", () => {
  it("writes one file per account, region and five minutes, named after the window's end", () => {
    // 600 records over 15 minutes, 2 accounts × 2 regions.
    const start = Date.parse("2026-11-26T12:00:00Z");
    const records = Array.from({ length: 600 }, (_, i) =>
      trailRecord({
        recipientAccountId: i % 2 === 0 ? "111122223333" : "444455556666",
        awsRegion: i % 4 < 2 ? "us-east-1" : "eu-west-1",
        eventTime: new Date(start + Math.floor((i * 15 * 60_000) / 600)).toISOString(),
      }),
    );
    const files = toLogFiles(records, { organizationId: "o-aa111bb222" });
    expect(files.flatMap((file) => file.records)).toHaveLength(records.length);
    // 2 accounts × 2 regions × 3 windows.
    expect(files).toHaveLength(12);
    for (const file of files) {
      const [, , , accountId, region] = file.key.match(LOG)!;
      for (const record of file.records) {
        expect(record.recipientAccountId).toBe(accountId);
        expect(record.awsRegion).toBe(region);
      }
      const windowEnd = file.key.match(/_(\d{8}T\d{4})Z_/)![1]!;
      const end = Date.parse(
        `${windowEnd.slice(0, 4)}-${windowEnd.slice(4, 6)}-${windowEnd.slice(6, 11)}:${windowEnd.slice(11)}:00Z`,
      );
      for (const record of file.records) {
        const time = Date.parse(record.eventTime!);
        expect(time).toBeLessThan(end);
        expect(time).toBeGreaterThanOrEqual(end - 5 * 60_000);
      }
    }
    expect(toLogFiles(records, { organizationId: "o-aa111bb222" }).map((file) => file.key)).toEqual(
      files.map((file) => file.key),
    );
  });

  it("refuses records without an account, region or time", () => {
    expect(() => toLogFiles([{ eventID: "e-1", awsRegion: "us-east-1" }])).toThrow(/e-1/);
  });
});
