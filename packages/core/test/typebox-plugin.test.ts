/**
 * A plugin whose options are written once, with TypeBox: the type `create` receives, the schema
 * the file is validated against, and the defaults all come from the same declaration.
 */

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  type AnyPlugin,
  builtinPlugins,
  ConfigError,
  definePlugin,
  PluginError,
  PluginRegistry,
  parsePipelineText,
  Type,
  withDefaults,
} from "@trailrouter/core";
import { describe, expect, it } from "vitest";
import { jsonRecordsDecoder } from "./support.js";

const webhookSchema = Type.Object({
  url: Type.String({ format: "uri", description: "Where batches are POSTed" }),
  timeoutMs: Type.Integer({ minimum: 1, default: 5000, description: "Per request" }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  retry: Type.Optional(Type.Object({ attempts: Type.Integer({ minimum: 1, default: 3 }) })),
});

const created: unknown[] = [];
const webhook = definePlugin({
  kind: "sink",
  type: "webhook",
  schema: webhookSchema,
  create(config) {
    created.push(config);
    return { deliver: async (records) => ({ delivered: records.length, failed: [] }), close: async () => {} };
  },
});

const source = definePlugin({
  kind: "source",
  type: "idle",
  schema: Type.Object({}),
  create: () => ({ receive: async function* () {}, close: async () => {} }),
});

const file = (sink: string) => `
pipelines:
  - name: p
    source: { type: idle }
    routes: [{ name: all, match: { type: event-name, names: [CreateUser] }, to: [hook] }]
    sinks:
      hook: ${sink}
`;

const registry = () =>
  new PluginRegistry([...builtinPlugins, jsonRecordsDecoder, source, webhook] as AnyPlugin[]);

describe("a plugin with a TypeBox schema", () => {
  it("may leave out an option with a default, which the file then gets, nested ones too", async () => {
    const loaded = await parsePipelineText(
      file('{ type: webhook, url: "https://example.com/in", retry: {} }'),
      {
        registry: registry(),
      },
    );
    expect(loaded.config.pipelines[0]!.sinks.hook).toEqual({
      type: "webhook",
      url: "https://example.com/in",
      timeoutMs: 5000,
      retry: { attempts: 3 },
    });
  });

  it("gives create the schema's types, a defaulted option always there (tsc on test/types)", async () => {
    const tsc = fileURLToPath(new URL("../../../node_modules/.bin/tsc", import.meta.url));
    const project = fileURLToPath(new URL("./types", import.meta.url));
    // Each `@ts-expect-error` there must meet its error: an unused one fails the check.
    await expect(promisify(execFile)(tsc, ["--noEmit", "-p", project])).resolves.toMatchObject({
      stdout: "",
    });
  });

  it("still requires the options without a default, and refuses unknown ones, with their paths", async () => {
    const error = await parsePipelineText(file("{ type: webhook, timeoutMs: 10, urll: x }"), {
      registry: registry(),
    }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: "pipelines[0].sinks.hook", message: 'missing required option "url"' },
      { path: "pipelines[0].sinks.hook", message: 'unknown option "urll" (did you mean "url"?)' },
    ]);
  });
});

describe("withDefaults", () => {
  it("gives a plugin's options as create gets them from a file: defaults filled in, nested ones too", () => {
    const given = { url: "https://example.com/in", retry: {} };
    expect(withDefaults(webhook, given)).toEqual({
      type: "webhook",
      url: "https://example.com/in",
      timeoutMs: 5000,
      retry: { attempts: 3 },
    });
    // The caller's object is left as it was.
    expect(given).toEqual({ url: "https://example.com/in", retry: {} });
  });

  it("keeps what is given, and an optional option without a default stays out", () => {
    expect(withDefaults(webhook, { url: "https://example.com/in", timeoutMs: 10 })).toEqual({
      type: "webhook",
      url: "https://example.com/in",
      timeoutMs: 10,
    });
  });

  it("refuses what the schema refuses, with the paths", () => {
    const refused = (() => {
      try {
        withDefaults(webhook, { url: "https://example.com/in", timeoutMs: 0, retry: { attempts: 0 } });
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(PluginError);
    expect(refused).toMatchObject({
      code: "InvalidPluginOptions",
      context: { kind: "sink", type: "webhook" },
    });
    expect((refused as Error).message).toContain("timeoutMs must be >= 1");
    expect((refused as Error).message).toContain("retry.attempts must be >= 1");
    expect(() => withDefaults(webhook, {} as never)).toThrow("must have required property 'url'");
  });

  it("fills in a schema's defaults, for code that takes options without a plugin", () => {
    const settings = Type.Object({
      attempts: Type.Integer({ default: 5 }),
      label: Type.Optional(Type.String()),
    });
    expect(withDefaults(settings, {})).toEqual({ attempts: 5 });
    expect(withDefaults(settings, { attempts: 2, label: "x" })).toEqual({ attempts: 2, label: "x" });
  });
});
