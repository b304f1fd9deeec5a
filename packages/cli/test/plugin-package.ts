/**
 * A plugin package in a temporary directory, as its author has it after `npm install`: a
 * node_modules of links to the workspace's packages (their dist, built by `pnpm build`) and
 * tools, so that its own commands (tsc, vitest, trailrouter) run on it unchanged.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const WORKSPACE = fileURLToPath(new URL("../../../", import.meta.url));
export const PLUGINS_MD = path.join(WORKSPACE, "docs", "PLUGINS.md");

export const BIN = {
  tsc: path.join(WORKSPACE, "node_modules", ".bin", "tsc"),
  vitest: path.join(WORKSPACE, "node_modules", ".bin", "vitest"),
  trailrouter: path.join(WORKSPACE, "packages", "cli", "bin", "trailrouter.js"),
};

/** What a plugin package installs: trailrouter's packages, and the tools and types it builds with. */
const LINKS: Record<string, string> = {
  "@trailrouter/core": "packages/core",
  "@trailrouter/delivery": "packages/delivery",
  "@trailrouter/testing": "packages/testing",
  "@types/node": "node_modules/@types/node",
  typescript: "node_modules/typescript",
  vitest: "node_modules/vitest",
};

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `trailrouter-${prefix}-`));
}

/** Gives `dir` a node_modules linking the workspace's packages, as `npm install` would install them. */
export async function linkWorkspace(dir: string): Promise<void> {
  for (const [name, target] of Object.entries(LINKS)) {
    if (name.startsWith("@trailrouter/") && !existsSync(path.join(WORKSPACE, target, "dist", "index.js"))) {
      throw new Error(`${name} is not built: run \`pnpm build\` first (\`pnpm test\` does)`);
    }
    const link = path.join(dir, "node_modules", name);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(path.join(WORKSPACE, target), link, "dir");
  }
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command in `cwd` and resolves to its exit code and output (never rejects for a non-zero
 * exit). The variables vitest sets for its own workers are left out, so a vitest run started here
 * is a run of its own.
 */
export function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Ran> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && name !== "NODE_OPTIONS"),
  );
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...base, NO_COLOR: "1", ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `node packages/cli/bin/trailrouter.js ARGS` in `cwd`. */
export function trailrouter(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Ran> {
  return run(process.execPath, [BIN.trailrouter, ...args], cwd, env);
}

/** A fenced block of a Markdown file tagged with a file name: ```ts file=src/index.ts */
export interface FileBlock {
  readonly file: string;
  readonly lang: string;
  readonly text: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

const FENCE = "```";

/** Every fenced block of `markdown`, with its tag's `file=` if it has one. */
export function fencedBlocks(markdown: string): (Omit<FileBlock, "file"> & { file?: string })[] {
  const blocks: (Omit<FileBlock, "file"> & { file?: string })[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    // A fence may be indented (a block in a list item): its lines lose that indentation.
    const open = /^( *)```(\S*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent = "", lang = "", tag = ""] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== `${indent}${FENCE}`; i++) {
      body.push(lines[i]!.startsWith(indent) ? lines[i]!.slice(indent.length) : lines[i]!);
    }
    const file = /(?:^|\s)file=(\S+)/.exec(tag)?.[1];
    blocks.push({ lang, text: `${body.join("\n")}\n`, line: start + 1, ...(file ? { file } : {}) });
  }
  return blocks;
}

/** The blocks of docs/PLUGINS.md that are files, by file name. */
export async function docFiles(): Promise<Map<string, FileBlock>> {
  const files = new Map<string, FileBlock>();
  for (const block of fencedBlocks(await readFile(PLUGINS_MD, "utf8"))) {
    if (block.file === undefined) continue;
    if (files.has(block.file)) throw new Error(`PLUGINS.md writes ${block.file} twice (line ${block.line})`);
    files.set(block.file, block as FileBlock);
  }
  return files;
}
