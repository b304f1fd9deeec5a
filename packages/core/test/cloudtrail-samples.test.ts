import { describe, expect, it } from "vitest";
import { loadFixtureRecords, loadSampleRecords } from "./fixtures/cloudtrail-samples.js";

describe("the sample records", () => {
  it("fall back to the fixture when the shared samples are not on this machine", () => {
    const fallback = loadSampleRecords("/nonexistent/cloudtrail-samples");
    expect(fallback).toEqual(loadFixtureRecords());
    expect(fallback.map((record) => record.eventName)).toEqual([
      "StopLogging",
      "ConsoleLogin",
      "AuthorizeSecurityGroupIngress",
      "CreateUser",
      "ModifyImageAttribute",
    ]);
  });
});
