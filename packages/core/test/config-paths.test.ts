import { describe, expect, it } from "vitest";
import { formatPath, formatPointer, joinPath, pointerToPath } from "../src/config/paths.js";

describe("config paths", () => {
  it("writes segments with dots, indexes and quoted odd keys", () => {
    expect(formatPath(["pipelines", 0, "sinks", "users", "queueUrl"])).toBe(
      "pipelines[0].sinks.users.queueUrl",
    );
    expect(formatPath(["pipelines", 0, "sinks", "my sink"])).toBe('pipelines[0].sinks["my sink"]');
    expect(formatPath(["sinks", "user-events", "type"])).toBe('sinks["user-events"].type');
    expect(formatPath([])).toBe("");
    expect(formatPath([2, "name"])).toBe("[2].name");
  });

  it("turns ajv instance paths into the same format, unescaping ~1 and ~0", () => {
    expect(pointerToPath("/pipelines/0/sinks/users/queueUrl")).toBe("pipelines[0].sinks.users.queueUrl");
    expect(pointerToPath("/sinks/a~1b~0c")).toBe('sinks["a/b~c"]');
    expect(formatPointer(["pipelines", 0, "sinks", "a/b~c"])).toBe("/pipelines/0/sinks/a~1b~0c");
    expect(pointerToPath("")).toBe("");
  });

  it("tells a digit key from an index when given the document", () => {
    const document = { pipelines: [{ sinks: { "0": { type: "sqs" } } }] };
    expect(pointerToPath("/pipelines/0/sinks/0/type", document)).toBe('pipelines[0].sinks["0"].type');
  });

  it("joins a plugin's relative path onto its block's path", () => {
    expect(joinPath("pipelines[0].routes[1].match", "pattern.eventName[2]")).toBe(
      "pipelines[0].routes[1].match.pattern.eventName[2]",
    );
    expect(joinPath("pipelines[0].source", "")).toBe("pipelines[0].source");
    expect(joinPath("pipelines[0].match", "[0]")).toBe("pipelines[0].match[0]");
    expect(joinPath("", "aws")).toBe("aws");
  });
});
