import {
  builtinPlugins,
  ConfigError,
  definePlugin,
  eventPatternMatcher,
  PluginRegistry,
  parsePipelineText,
} from "@trailrouter/core";
import { PatternError } from "@trailrouter/event-pattern";
import { describe, expect, it } from "vitest";
import { jsonRecordsDecoder } from "./support.js";

describe("the event-pattern matcher plugin", () => {
  const validate = (pattern: unknown) =>
    eventPatternMatcher.validate!({ type: "event-pattern", pattern } as never);

  it("reports no problem for a valid pattern", () => {
    expect(validate({ eventName: [{ prefix: "Create" }] })).toEqual([]);
  });

  it("reports a problem at the path of the pattern block", () => {
    expect(validate({ detail: { eventName: [{ prefix: 5 }] } })).toEqual([
      { path: "pattern.detail.eventName[0].prefix", message: "prefix match pattern must be a string" },
    ]);
    expect(validate({})).toEqual([{ path: "pattern", message: "Empty objects are not allowed" }]);
    expect(validate({ $or: [{ a: [1] }] })).toEqual([
      { path: "pattern.$or", message: "$or must be an array of at least 2 objects" },
    ]);
  });

  it("creates a matcher that applies the pattern to the CloudTrail record itself", async () => {
    const registry = new PluginRegistry(builtinPlugins);
    const plugin = registry.get("matcher", "event-pattern");
    expect(plugin).toBe(eventPatternMatcher);
    const matcher = await plugin.create(
      {
        type: "event-pattern",
        pattern: { eventSource: ["iam.amazonaws.com"], eventName: [{ prefix: "Create" }] },
      },
      {} as never,
    );
    expect(matcher.matches({ eventSource: "iam.amazonaws.com", eventName: "CreateUser" })).toBe(true);
    expect(matcher.matches({ eventSource: "iam.amazonaws.com", eventName: "DeleteUser" })).toBe(false);
    // An EventBridge envelope pattern does not apply: records have no `detail`.
    const envelope = await plugin.create(
      { type: "event-pattern", pattern: { detail: { eventName: ["CreateUser"] } } },
      {} as never,
    );
    expect(envelope.matches({ eventSource: "iam.amazonaws.com", eventName: "CreateUser" })).toBe(false);
  });

  it("refuses to create a matcher from an invalid pattern", () => {
    expect(() =>
      eventPatternMatcher.create({ type: "event-pattern", pattern: { a: [] } }, {} as never),
    ).toThrow(PatternError);
  });
});

describe("event patterns in a pipeline file", () => {
  const idle = { type: "object" as const, properties: {}, additionalProperties: false };
  const registry = new PluginRegistry([
    ...builtinPlugins,
    jsonRecordsDecoder,
    definePlugin({
      kind: "source",
      type: "idle",
      schema: idle,
      create: () => ({ receive: async function* () {}, close: async () => {} }),
    }),
    definePlugin({
      kind: "sink",
      type: "idle",
      schema: idle,
      create: () => ({
        deliver: async (records) => ({ delivered: records.length, failed: [] }),
        close: async () => {},
      }),
    }),
  ]);
  const file = (pattern: string) => `
pipelines:
  - name: main
    source: { type: idle }
    routes:
      - name: users
        match: { type: event-pattern, pattern: ${pattern} }
        to: [out]
    sinks:
      out: { type: idle }
`;

  it("loads a file whose pattern is valid", async () => {
    const loaded = await parsePipelineText(
      file('{ eventName: [{ prefix: Create }], eventSource: ["iam.amazonaws.com"] }'),
      {
        registry,
        env: {},
      },
    );
    expect(loaded.config.pipelines[0]!.routes[0]!.match).toEqual({
      type: "event-pattern",
      pattern: { eventName: [{ prefix: "Create" }], eventSource: ["iam.amazonaws.com"] },
    });
  });

  it("reports an invalid pattern at its path in the file", async () => {
    const loading = parsePipelineText(file("{ eventName: [{ prefix: 5 }] }"), { registry, env: {} });
    await expect(loading).rejects.toBeInstanceOf(ConfigError);
    const error = (await loading.catch((e: unknown) => e)) as ConfigError;
    expect(error.problems).toContainEqual({
      path: "pipelines[0].routes[0].match.pattern.eventName[0].prefix",
      message: "prefix match pattern must be a string",
    });
  });
});
