import { builtinPlugins, eventNameMatcher, PluginRegistry } from "@trailrouter/core";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { loadSampleRecords } from "./fixtures/cloudtrail-samples.js";

const create = (names: string[]) =>
  eventNameMatcher.create({ type: "event-name", names }, {} as never) as {
    matches(record: Record<string, unknown>): boolean;
  };

describe("the event-name matcher", () => {
  const matcher = create(["CreateUser", "DeleteUser"]);

  it.each([
    ["a listed name", { eventName: "CreateUser" }, true],
    ["another listed name", { eventName: "DeleteUser" }, true],
    ["a name not listed", { eventName: "CreateRole" }, false],
    ["names are case-sensitive", { eventName: "createuser" }, false],
    ["no partial match", { eventName: "CreateUserX" }, false],
    ["no eventName", { eventSource: "iam.amazonaws.com" }, false],
    ["an eventName that is not a string", { eventName: ["CreateUser"] }, false],
    ["an eventName that is null", { eventName: null }, false],
  ])("%s", (_name, record, expected) => {
    expect(matcher.matches(record)).toBe(expected);
  });

  it("matches exactly the sample records with the named events", () => {
    const records = loadSampleRecords();
    const names = ["StopLogging", "ConsoleLogin"];
    const matched = records.filter((record) => create(names).matches(record));
    expect(matched.length).toBeGreaterThanOrEqual(2);
    expect(matched).toEqual(records.filter((record) => names.includes(record.eventName as string)));
  });

  it("is registered among the built-in plugins", () => {
    expect(new PluginRegistry(builtinPlugins).get("matcher", "event-name")).toBe(eventNameMatcher);
  });

  it("requires a non-empty list of unique, non-empty names", () => {
    const validate = new Ajv().compile(eventNameMatcher.schema);
    expect(validate({ names: ["CreateUser"] })).toBe(true);
    expect(validate({ names: [] })).toBe(false);
    expect(validate({ names: ["CreateUser", "CreateUser"] })).toBe(false);
    expect(validate({ names: [""] })).toBe(false);
    expect(validate({ names: [5] })).toBe(false);
    expect(validate({ names: "CreateUser" })).toBe(false);
    expect(validate({})).toBe(false);
    expect(validate({ names: ["CreateUser"], typo: 1 })).toBe(false);
  });
});
