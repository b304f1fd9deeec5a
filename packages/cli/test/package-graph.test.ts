/**
 * The shape of the workspace, read from the sources: which package imports which, that the graph
 * has no cycle (between packages, and between the files of each package), that plugins depend on
 * core and the kits only, and that docs/ARCHITECTURE.md draws the graph the imports make.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));

interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
  readonly declared: ReadonlySet<string>;
  /** `@trailrouter/*` packages its src imports. */
  readonly imports: ReadonlySet<string>;
  /** Its src files and the src files each imports (relative imports, `import type` included). */
  readonly files: ReadonlyMap<string, readonly string[]>;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(entry) && !entry.endsWith(".d.ts") ? [full] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function readPackage(dir: string): WorkspacePackage {
  const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as Record<
    string,
    Record<string, string> | string
  >;
  const declared = new Set([
    ...Object.keys((manifest.dependencies as Record<string, string>) ?? {}),
    ...Object.keys((manifest.peerDependencies as Record<string, string>) ?? {}),
  ]);
  const imports = new Set<string>();
  const files = new Map<string, string[]>();
  for (const file of sourceFiles(path.join(dir, "src"))) {
    const text = readFileSync(file, "utf8");
    const local: string[] = [];
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      const workspace = /^(@trailrouter\/[^/]+)/.exec(specifier)?.[1];
      if (workspace) imports.add(workspace);
      if (specifier.startsWith("."))
        local.push(path.resolve(path.dirname(file), specifier).replace(/\.js$/, ".ts"));
    }
    files.set(file, local);
  }
  return { name: manifest.name as string, dir, declared, imports, files };
}

const packages = [
  ...readdirSync(path.join(root, "packages")).map((d) => path.join(root, "packages", d)),
  ...readdirSync(path.join(root, "examples")).map((d) => path.join(root, "examples", d)),
]
  .filter((dir) => {
    try {
      return (
        statSync(path.join(dir, "package.json")).isFile() && statSync(path.join(dir, "src")).isDirectory()
      );
    } catch {
      return false;
    }
  })
  .map(readPackage);
const byName = new Map(packages.map((p) => [p.name, p]));

/** A cycle in `edges` (as its nodes), or undefined. */
function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The plugin packages, and what a plugin may depend on: core and the kits. */
const PLUGINS = ["source-sqs", "sink-sqs", "sink-sns", "sink-eventbridge", "decoder-cloudtrail"];
const KITS = new Set(["@trailrouter/core", "@trailrouter/delivery", "@trailrouter/event-pattern"]);

describe("the package graph", () => {
  it("declares every workspace package a package's src imports as a dependency or peer", () => {
    for (const pkg of packages) {
      const undeclared = [...pkg.imports].filter((name) => name !== pkg.name && !pkg.declared.has(name));
      expect(undeclared, `${pkg.name} imports without declaring`).toEqual([]);
    }
  });

  it("has no cycle between packages", () => {
    const edges = new Map(
      packages.map((p) => [p.name, [...p.imports].filter((n) => n !== p.name && byName.has(n))]),
    );
    expect(findCycle(edges)).toBeUndefined();
  });

  it("has no cycle between the files of any package (type imports included)", () => {
    for (const pkg of packages) {
      const cycle = findCycle(pkg.files);
      expect(
        cycle?.map((file) => path.relative(root, file)),
        pkg.name,
      ).toBeUndefined();
    }
  });

  it("keeps the pattern library standalone, and plugins on core and the kits only, core as a peer", () => {
    expect([...byName.get("@trailrouter/event-pattern")!.imports]).toEqual([]);
    for (const plugin of PLUGINS) {
      const pkg = byName.get(`@trailrouter/${plugin}`)!;
      expect(
        [...pkg.imports].filter((name) => !KITS.has(name)),
        plugin,
      ).toEqual([]);
      const manifest = JSON.parse(readFileSync(path.join(pkg.dir, "package.json"), "utf8"));
      expect(manifest.peerDependencies?.["@trailrouter/core"], `${plugin}: core as a peer`).toBeDefined();
      expect(
        manifest.dependencies?.["@trailrouter/core"],
        `${plugin}: core not a dependency`,
      ).toBeUndefined();
    }
  });

  it("is the graph docs/ARCHITECTURE.md draws", () => {
    const doc = readFileSync(path.join(root, "docs/ARCHITECTURE.md"), "utf8");
    const block = /## Package graph\n[\s\S]*?```\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, "docs/ARCHITECTURE.md has a ## Package graph section with a code block").toBeDefined();
    const drawn = block!
      .split("\n")
      .filter((line) => line.includes("→"))
      .map((line) => {
        const [from, to] = line.split("→").map((side) => side.trim());
        return `${from} → ${to!
          .split(",")
          .map((n) => n.trim())
          .sort()
          .join(", ")}`;
      })
      .sort();
    const actual = packages
      .map((p) => {
        const to = [...p.imports]
          .filter((n) => n !== p.name && byName.has(n))
          .map((n) => n.replace("@trailrouter/", ""));
        return to.length === 0 ? "" : `${p.name.replace("@trailrouter/", "")} → ${to.sort().join(", ")}`;
      })
      .filter(Boolean)
      .sort();
    expect(drawn).toEqual(actual);
  });
});
