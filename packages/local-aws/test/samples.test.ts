import { loadSampleRecords } from "@trailrouter/local-aws";
import { describe, expect, it } from "vitest";

describe("loadSampleRecords", () => {
  it("returns the 310 Stratus Red Team records", () => {
    const records = loadSampleRecords();
    expect(records).toHaveLength(310);
    expect(new Set(records.map((record) => record.eventID)).size).toBe(310);
    expect(new Set(records.map((record) => record.eventName)).size).toBe(54);
    expect(records.every((record) => typeof record.eventSource === "string")).toBe(true);
  });

  it("returns fresh objects on every call", () => {
    const first = loadSampleRecords();
    first[0]!.eventName = "Changed";
    expect(loadSampleRecords()[0]!.eventName).not.toBe("Changed");
  });
});
