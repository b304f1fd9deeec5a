import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type AnyPlugin, definePlugin, PluginError, PluginRegistry } from "@trailrouter/core";
import { describe, expect, it } from "vitest";

const nullSink = definePlugin({
  kind: "sink",
  type: "null",
  schema: { type: "object", properties: {}, additionalProperties: false },
  create: () => ({
    deliver: async (records) => ({ delivered: records.length, failed: [] }),
    close: async () => {},
  }),
});

describe("PluginRegistry", () => {
  it("registers, finds and lists plugins by kind", () => {
    const registry = new PluginRegistry([nullSink as AnyPlugin]);
    expect(registry.get("sink", "null")).toBe(nullSink);
    expect(registry.list("sink").map((p) => p.type)).toEqual(["null"]);
    expect(registry.list("source")).toEqual([]);
  });

  it("refuses a second plugin of the same kind and type", () => {
    const registry = new PluginRegistry([nullSink as AnyPlugin]);
    expect(() => registry.register({ ...nullSink } as AnyPlugin)).toThrow(/already registered/);
  });

  it("takes the very same plugin value twice without complaint (a module loaded again)", () => {
    const registry = new PluginRegistry([nullSink as AnyPlugin]);
    registry.register(nullSink as AnyPlugin);
    expect(registry.list("sink")).toHaveLength(1);
  });

  it("names the known types when a type is unknown", () => {
    const registry = new PluginRegistry([nullSink as AnyPlugin]);
    expect(() => registry.get("sink", "kafka")).toThrow(/no sink plugin of type "kafka" \(known: null\)/);
  });

  it("keeps registries apart", () => {
    const a = new PluginRegistry([nullSink as AnyPlugin]);
    const b = new PluginRegistry();
    expect(a.find("sink", "null")).toBeDefined();
    expect(b.find("sink", "null")).toBeUndefined();
  });

  it("takes compileSet on a matcher plugin only, as a function", () => {
    const matcher = {
      kind: "matcher",
      type: "names",
      schema: { type: "object", properties: {} },
      create: () => ({ matches: () => false }),
    };
    const registry = new PluginRegistry();
    registry.register({ ...matcher, compileSet: () => ({ matchIndices: () => [] }) } as AnyPlugin);
    expect(() => registry.register({ ...matcher, type: "other", compileSet: true } as never)).toThrow(
      /compileSet must be a function/,
    );
    expect(() =>
      registry.register({
        ...nullSink,
        type: "other",
        compileSet: () => ({ matchIndices: () => [] }),
      } as never),
    ).toThrow(/compileSet is for matcher plugins only/);
  });

  it("loads plugin modules relative to a directory and validates their shape", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "trailrouter-plugins-"));
    await writeFile(
      path.join(dir, "good.mjs"),
      `export default [{ kind: "sink", type: "noop", schema: { type: "object", properties: {} }, create: () => ({}) }];`,
    );
    await writeFile(path.join(dir, "bad.mjs"), `export default { kind: "tap", type: "", create: 1 };`);
    const registry = new PluginRegistry();
    const loaded = await registry.load("./good.mjs", dir);
    expect(loaded.map((p) => p.type)).toEqual(["noop"]);
    expect(registry.find("sink", "noop")).toBeDefined();
    await expect(registry.load("./bad.mjs", dir)).rejects.toThrow(
      /kind must be one of.*type must be a non-empty string/,
    );
    await expect(registry.load("./missing.mjs", dir)).rejects.toBeInstanceOf(PluginError);
  });
});
