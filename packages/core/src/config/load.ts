/**
 * Reading a pipeline file: read, parse (JSON or YAML), interpolate the environment, load the
 * plugin modules it lists, validate, and either return the config with defaults applied or throw
 * one ConfigError listing every problem.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as locateJsonErrors, type ParseError } from "jsonc-parser";
import { type Document, isMap, isScalar, isSeq, type Node, parseDocument } from "yaml";
import { ConfigError, type ConfigProblem } from "../errors.js";
import type { PluginRegistry } from "../registry.js";
import { type Environment, interpolateEnv } from "./interpolate.js";
import { formatPath, type PathSegment } from "./paths.js";
import { checkPipelineFile } from "./schema.js";
import type { LoadedPipelineFile, PipelineFile } from "./types.js";

export type PipelineFileFormat = "json" | "yaml";

export interface LoadPipelineOptions {
  /** Plugins the file may name; modules listed under `plugins:` are registered into it. */
  readonly registry: PluginRegistry;
  /** Variables for `${VAR}` references; the process environment by default. */
  readonly env?: Environment;
}

export interface ParsePipelineOptions extends LoadPipelineOptions {
  /** Where the text came from, for messages; `<inline>` by default. */
  readonly path?: string;
  /** Directory that relative plugin modules resolve against; the working directory by default. */
  readonly baseDir?: string;
  /** By default `.json` (from `path`) is JSON and anything else YAML, which also reads JSON. */
  readonly format?: PipelineFileFormat;
}

export async function loadPipelineFile(
  file: string,
  options: LoadPipelineOptions,
): Promise<LoadedPipelineFile> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    throw new ConfigError([{ path: "", message: `cannot read the file: ${readFailure(error)}` }], absolute);
  }
  return parsePipelineText(text, { ...options, path: absolute, baseDir: path.dirname(absolute) });
}

export async function parsePipelineText(
  text: string,
  options: ParsePipelineOptions,
): Promise<LoadedPipelineFile> {
  const source = options.path ?? "<inline>";
  const baseDir = options.baseDir ?? process.cwd();
  const format = options.format ?? (path.extname(source).toLowerCase() === ".json" ? "json" : "yaml");
  const content = text.replace(/^\uFEFF/, "");

  const parsed = format === "json" ? parseJson(content) : parseYaml(content);
  if (parsed.problems.length > 0) throw new ConfigError(parsed.problems, source);

  const interpolated = interpolateEnv(parsed.value, options.env ?? process.env);
  const document = interpolated.value;
  const problems = [...interpolated.problems];
  problems.push(...(await loadPluginModules(document, options.registry, baseDir)));
  // A value already reported as unresolved would only repeat the news as a schema problem.
  const unresolved = new Set(interpolated.problems.map((p) => p.path));
  problems.push(...checkPipelineFile(document, options.registry).filter((p) => !unresolved.has(p.path)));

  if (problems.length > 0) throw new ConfigError(problems, source);
  return { path: source, baseDir, config: document as PipelineFile };
}

function readFailure(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return (error as Error).message;
  }
}

/** Register the plugin modules the file lists, before its plugin blocks are validated. */
async function loadPluginModules(document: unknown, registry: PluginRegistry, baseDir: string) {
  const specifiers = (document as { plugins?: unknown } | null)?.plugins;
  if (!Array.isArray(specifiers)) return [];
  const problems: ConfigProblem[] = [];
  for (const [index, specifier] of specifiers.entries()) {
    if (typeof specifier !== "string" || specifier === "") continue; // the schema reports it
    try {
      await registry.load(specifier, baseDir);
    } catch (error) {
      problems.push({ path: formatPath(["plugins", index]), message: (error as Error).message });
    }
  }
  return problems;
}

// Duplicate keys are found by `duplicateKeys`, which knows their path.
const YAML_OPTIONS = { uniqueKeys: false, prettyErrors: false } as const;

interface Parsed {
  readonly value: unknown;
  readonly problems: ConfigProblem[];
}

function lineAndColumn(text: string, offset: number): string {
  const lines = text.slice(0, offset).split("\n");
  return `line ${lines.length}, column ${(lines.at(-1) ?? "").length + 1}`;
}

function parseJson(text: string): Parsed {
  try {
    const value: unknown = JSON.parse(text);
    return { value, problems: duplicateKeys(parseDocument(text, YAML_OPTIONS), text) };
  } catch (error) {
    // V8 does not always say where (`Unexpected token '}', "..." is not valid JSON`): then a
    // second, error-reporting JSON parser finds the offset.
    const located: ParseError[] = [];
    locateJsonErrors(text, located, {
      disallowComments: true,
      allowTrailingComma: false,
      allowEmptyContent: false,
    });
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    const offset = position !== undefined ? Number(position) : (located[0]?.offset ?? text.length);
    // Keep V8's reason, without the position or the quoted excerpt of the text.
    const reason = message
      .replace(/ in JSON at position \d+.*$/s, "")
      .replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, "");
    return {
      value: undefined,
      problems: [{ path: "", message: `invalid JSON at ${lineAndColumn(text, offset)}: ${reason}` }],
    };
  }
}

function parseYaml(text: string): Parsed {
  const document = parseDocument(text, YAML_OPTIONS);
  const problems = [...document.errors, ...document.warnings].map((e) => ({
    path: "",
    message: `invalid YAML at ${lineAndColumn(text, e.pos[0])}: ${e.message}`,
  }));
  if (problems.length > 0) return { value: undefined, problems };
  const duplicates = duplicateKeys(document, text);
  if (duplicates.length > 0) return { value: undefined, problems: duplicates };
  try {
    return { value: document.toJS(), problems: [] };
  } catch (error) {
    // An alias to an unknown anchor, or more aliases than a sane file needs.
    return {
      value: undefined,
      problems: [{ path: "", message: `invalid YAML: ${(error as Error).message}` }],
    };
  }
}

/**
 * Keys given twice in one mapping, which JSON.parse and YAML's `toJS` would settle silently by
 * keeping the last. JSON text is read as YAML for this: YAML accepts it and keeps positions.
 */
function duplicateKeys(document: Document, text: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const walk = (node: unknown, segments: PathSegment[]) => {
    if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) walk(item, [...segments, index]);
    }
    if (!isMap(node)) return;
    const seen = new Set<string>();
    for (const { key, value } of node.items) {
      const name = String(isScalar(key) ? key.value : key);
      if (seen.has(name)) {
        const offset = (key as Node | null)?.range?.[0] ?? 0;
        problems.push({
          path: formatPath(segments),
          message: `duplicate key "${name}" at ${lineAndColumn(text, offset)}`,
        });
      }
      seen.add(name);
      walk(value, [...segments, name]);
    }
  };
  walk(document.contents, []);
  return problems;
}
