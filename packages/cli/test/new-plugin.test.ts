/**
 * `trailrouter new-plugin`: the package it writes from packages/cli/templates, which type-checks,
 * passes its own test and builds as generated, and what it refuses.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { BIN, linkWorkspace, run, tempDir, trailrouter, WORKSPACE } from "./plugin-package.js";
import { textSink } from "./support.js";

async function newPlugin(args: string[]) {
  const out = textSink();
  const err = textSink();
  const code = await main(["node", "trailrouter", "new-plugin", ...args], {
    out: out.stream,
    err: err.stream,
  });
  return { code, out: out.text(), err: err.text() };
}

async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe("trailrouter new-plugin sink NAME", () => {
  it("writes a plugin package: package.json, tsconfigs, the sink, its test, a README", async () => {
    const dir = path.join(await tempDir("new-plugin"), "hook");
    const result = await newPlugin(["sink", "audit-hook", "--dir", dir]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(await filesOf(dir)).toEqual([
      ".gitignore",
      "README.md",
      "package.json",
      "src/index.ts",
      "test/audit-hook.test.ts",
      "tsconfig.build.json",
      "tsconfig.json",
    ]);
    expect(result.out).toMatch(/a sink plugin "audit-hook" \(package trailrouter-sink-audit-hook\)/);
    expect(result.out).toMatch(/npm install && npm test && npm run build/);

    const { version } = JSON.parse(await readFile(path.join(WORKSPACE, "packages/cli/package.json"), "utf8"));
    const pkg = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "trailrouter-sink-audit-hook",
      type: "module",
      exports: { ".": { default: "./dist/index.js" } },
      scripts: { build: "tsc -p tsconfig.build.json", test: "vitest run" },
      peerDependencies: { "@trailrouter/core": `^${version}` },
      dependencies: { "@trailrouter/delivery": `^${version}` },
    });
    expect(pkg.devDependencies).toMatchObject({
      "@trailrouter/core": `^${version}`,
      "@trailrouter/testing": `^${version}`,
    });
    // The tools at the versions the workspace builds and tests with.
    const root = JSON.parse(await readFile(path.join(WORKSPACE, "package.json"), "utf8"));
    for (const tool of ["typescript", "vitest", "@types/node"]) {
      expect(pkg.devDependencies[tool], tool).toBe(root.devDependencies[tool]);
    }
    for (const file of await filesOf(dir)) {
      const text = await readFile(path.join(dir, file), "utf8");
      expect(text, file).not.toMatch(/__[a-z_]+__/);
    }
    expect(await readFile(path.join(dir, "src/index.ts"), "utf8")).toMatch(
      /export const TYPE = "audit-hook";/,
    );
  });

  it("writes a package that type-checks, passes its own test and builds, as generated", async () => {
    const parent = await tempDir("new-plugin");
    // The command itself, with its default directory: ./trailrouter-sink-NAME.
    const scaffold = await trailrouter(["new-plugin", "sink", "files"], parent);
    expect(scaffold.code, scaffold.stderr).toBe(0);
    expect(scaffold.stdout).toMatch(/plugins: \[\.\/trailrouter-sink-files\/dist\/index\.js\]/);
    const dir = path.join(parent, "trailrouter-sink-files");
    await linkWorkspace(dir);
    const typecheck = await run(BIN.tsc, [], dir);
    expect(typecheck.stdout + typecheck.stderr).toBe("");
    const test = await run(BIN.vitest, ["run"], dir);
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/4 passed/);
    const build = await run(BIN.tsc, ["-p", "tsconfig.build.json"], dir);
    expect(build.code, build.stdout).toBe(0);
    expect((await readdir(path.join(dir, "dist"))).sort()).toEqual([
      "index.d.ts",
      "index.js",
      "index.js.map",
    ]);
    const plugin = (await import(path.join(dir, "dist/index.js"))) as {
      default: { kind: string; type: string }[];
    };
    expect(plugin.default.map((p) => `${p.kind}:${p.type}`)).toEqual(["sink:files"]);
  });

  it("refuses a directory that is not empty, an invalid name and a kind it has no template for (exit 2)", async () => {
    const dir = await tempDir("new-plugin");
    await writeFile(path.join(dir, "notes.txt"), "mine\n");
    const notEmpty = await newPlugin(["sink", "hook", "--dir", dir]);
    expect(notEmpty.code).toBe(2);
    expect(notEmpty.err).toMatch(/is not empty/);
    expect(await readdir(dir)).toEqual(["notes.txt"]);

    const aFile = await newPlugin(["sink", "hook", "--dir", path.join(dir, "notes.txt")]);
    expect(aFile.code).toBe(2);
    expect(aFile.err).toMatch(/is not a directory/);

    for (const name of ["Hook", "9lives", "my_sink", "a--b", "hook-", "@org/hook", "../hook"]) {
      const invalid = await newPlugin(["sink", name, "--dir", path.join(dir, "x")]);
      expect(invalid.code, name).toBe(2);
      expect(invalid.err, name).toMatch(/invalid plugin name/);
    }
    const kind = await newPlugin(["matcher", "hook", "--dir", path.join(dir, "x")]);
    expect(kind.code).toBe(2);
    expect(kind.err).toMatch(/no template for a "matcher" plugin \(there is one for: sink\)/);
    expect(await readdir(dir)).toEqual(["notes.txt"]);

    // An empty directory is fine.
    await mkdir(path.join(dir, "empty"));
    expect((await newPlugin(["sink", "hook", "--dir", path.join(dir, "empty")])).code).toBe(0);
  });
});
