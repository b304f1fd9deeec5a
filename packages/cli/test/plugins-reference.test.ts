import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { pluginReference } from "../src/commands/plugins.js";
import { createDefaultRegistry } from "../src/registry.js";

describe("docs/reference/plugins.md", () => {
  it("is the output of `trailrouter plugins` for the built-in plugins (regenerate with `pnpm run docs:reference`)", async () => {
    const committed = await readFile(new URL("../../../docs/reference/plugins.md", import.meta.url), "utf8");
    expect(committed).toBe(pluginReference(createDefaultRegistry()));
  });

  it("lists every option of every plugin, with the required ones marked", () => {
    const reference = pluginReference(createDefaultRegistry());
    for (const plugin of createDefaultRegistry().all()) {
      expect(reference).toContain(`### ${plugin.kind} \`${plugin.type}\``);
      for (const option of Object.keys(plugin.schema.properties))
        expect(reference).toContain(`| \`${option}\``);
    }
    expect(reference).toContain("| `queueUrl` (required) |");
  });
});
