/**
 * One source of truth per option, for every built-in plugin: its schema is a TypeBox schema, the
 * config its `create` gets is derived from it (tsc on test/types), an option with a default is
 * always there in that config, and no code gives an option a default of its own.
 */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { AnyPlugin, JsonSchema } from "@trailrouter/core";
import { describe, expect, it } from "vitest";
import { createDefaultRegistry } from "../src/registry.js";
import { checked } from "./types/builtin-configs.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const plugins = createDefaultRegistry().all();

/** TypeBox marks each schema it builds under these symbols (global, as `Symbol.for` makes them). */
const Kind = Symbol.for("TypeBox.Kind");
const OptionalKind = Symbol.for("TypeBox.Optional");

/** Every option of a schema, nested ones too, with its dotted path and the object it belongs to. */
function* options(
  schema: JsonSchema,
  prefix = "",
): Generator<{ path: string; name: string; option: JsonSchema; parent: JsonSchema }> {
  for (const [name, option] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    yield { path: `${prefix}${name}`, name, option, parent: schema };
    if (option.type === "object") yield* options(option, `${prefix}${name}.`);
  }
}

/** The sources of the built-in plugins' packages, and of the delivery engine the sinks hand their options to. */
const SOURCE_DIRS = [
  "packages/core/src/matchers",
  "packages/decoder-cloudtrail/src",
  "packages/source-sqs/src",
  "packages/sink-sqs/src",
  "packages/sink-sns/src",
  "packages/sink-eventbridge/src",
  "packages/delivery/src",
];

async function sources(): Promise<{ file: string; text: string }[]> {
  const files: { file: string; text: string }[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const entry of await readdir(path.join(root, dir), { recursive: true })) {
      if (!entry.endsWith(".ts")) continue;
      const file = path.join(dir, entry);
      files.push({ file, text: await readFile(path.join(root, file), "utf8") });
    }
  }
  return files;
}

describe("each built-in plugin's options", () => {
  it("are the plugins tsc checks in test/types, whose config types are their schemas' types", async () => {
    expect(Object.keys(checked).sort()).toEqual(
      plugins.map((plugin) => `${plugin.kind} ${plugin.type}`).sort(),
    );
    const project = path.join(root, "packages/cli/test/types");
    // Each `@ts-expect-error` there must meet its error: an unused one fails the check.
    await expect(
      promisify(execFile)(path.join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", project]),
    ).resolves.toMatchObject({ stdout: "" });
  });

  it.each(plugins.map((plugin) => [`${plugin.kind} ${plugin.type}`, plugin] as const))(
    "%s: a TypeBox schema, each option with a default required in it (so create's type has it)",
    (_, plugin: AnyPlugin) => {
      const schema = plugin.schema as JsonSchema & { [Kind]?: unknown };
      expect(schema[Kind]).toBe("Object");
      for (const { path: option, name, option: property, parent } of options(schema)) {
        expect((property as { [Kind]?: unknown })[Kind], option).toBeDefined();
        if (property.default === undefined) continue;
        expect((property as { [OptionalKind]?: unknown })[OptionalKind], option).toBeUndefined();
        expect(parent.required as string[], option).toContain(name);
      }
    },
  );

  it("get no default in code: a fallback for one reads its schema's default", async () => {
    const defaulted = new Set(
      plugins.flatMap((plugin) =>
        [...options(plugin.schema)]
          .filter(({ option }) => option.default !== undefined)
          .map(({ name }) => name),
      ),
    );
    expect(defaulted.size).toBeGreaterThan(10);
    const names = [...defaulted].join("|");
    // `config` is what every built-in plugin calls the options its create and validate get: filled
    // in already, never given a fallback. `options` is what the engine and the decoder's class take
    // from code that builds them without a file: a fallback there takes the schema's default.
    const fallback = new RegExp(
      `\\b(config|options)\\??\\.(?:\\w+\\??\\.)*(${names})\\b\\s*(?:\\?\\?|\\|\\|)\\s*([^;,]*)`,
      "g",
    );
    const found: string[] = [];
    for (const { file, text } of await sources()) {
      const where = (index: number) => `${file}:${text.slice(0, index).split("\n").length}`;
      for (const match of text.matchAll(/\bDEFAULTS\b/g))
        found.push(`${where(match.index)}: a DEFAULTS table`);
      for (const match of text.matchAll(fallback)) {
        const readsSchema = /[A-Za-z]*[sS]chema\b[\w.]*\.default\b/.test(match[3]!);
        if (match[1] === "config" || !readsSchema) found.push(`${where(match.index)}: ${match[0]}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("are named in the plugin packages' declarations through core, which depends on TypeBox", async () => {
    for (const dir of SOURCE_DIRS.filter((dir) => !dir.startsWith("packages/core"))) {
      const dist = path.join(root, dir, "../dist");
      for (const entry of await readdir(dist, { recursive: true })) {
        if (!entry.endsWith(".d.ts")) continue;
        expect(await readFile(path.join(dist, entry), "utf8"), entry).not.toContain("@sinclair/typebox");
      }
    }
  });
});
