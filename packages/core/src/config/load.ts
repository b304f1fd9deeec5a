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
import { checkPipelineFile, pluginSchemaProblem } from "./schema.js";
import type { LoadedPipelineFile, PipelineFile } from "./types.js";

export type PipelineFileFormat = "json" | "yaml";

/**
 * How deep objects and arrays may nest in a pipeline file. A real file needs a dozen levels (an
 * event pattern a few more); the walks that validate a file recurse, so a hostile file nested
 * thousands of levels deep is refused here, with its path, instead of overflowing the stack.
 */
export const MAX_FILE_DEPTH = 128;

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
  const read = await readPipelineFile(absolute);
  if ("problem" in read) throw new ConfigError([read.problem], absolute);
  return parsePipelineText(read.text, { ...options, path: absolute, baseDir: path.dirname(absolute) });
}

export async function parsePipelineText(
  text: string,
  options: ParsePipelineOptions,
): Promise<LoadedPipelineFile> {
  const source = options.path ?? "<inline>";
  const baseDir = options.baseDir ?? process.cwd();
  const parsed = parsePipelineDocument(text, options.format ?? formatOf(source));
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

/**
 * Registers the plugin modules a file lists under `plugins:`, without validating the rest of the
 * file: for commands that describe what a file may contain (its schema, its plugins' options)
 * while it is still being written. Resolves to the problems found reading it or its modules.
 */
export async function loadFilePlugins(file: string, options: LoadPipelineOptions): Promise<ConfigProblem[]> {
  const absolute = path.resolve(file);
  const read = await readPipelineFile(absolute);
  if ("problem" in read) return [read.problem];
  const parsed = parsePipelineDocument(read.text, formatOf(absolute));
  if (parsed.problems.length > 0) return parsed.problems;
  const interpolated = interpolateEnv(parsed.value, options.env ?? process.env);
  return loadPluginModules(interpolated.value, options.registry, path.dirname(absolute));
}

/** `.json` is JSON; anything else YAML, which also reads JSON. */
function formatOf(file: string): PipelineFileFormat {
  return path.extname(file).toLowerCase() === ".json" ? "json" : "yaml";
}

async function readPipelineFile(absolute: string): Promise<{ text: string } | { problem: ConfigProblem }> {
  try {
    return { text: await readFile(absolute, "utf8") };
  } catch (error) {
    return { problem: { path: "", message: `cannot read the file: ${readFailure(error)}` } };
  }
}

/** The file's value, or the problems that stop it there: syntax, duplicate keys, nesting. */
function parsePipelineDocument(text: string, format: PipelineFileFormat): Parsed {
  const content = text.replace(/^\uFEFF/, "");
  return format === "json" ? parseJson(content) : parseYaml(content);
}

/** The problem of a value nested deeper than a pipeline file may be, if it is. */
function depthProblem(value: unknown): ConfigProblem | undefined {
  const tooDeep = firstTooDeep(value, MAX_FILE_DEPTH);
  return tooDeep && { path: formatPath(tooDeep), message: `nested more than ${MAX_FILE_DEPTH} levels deep` };
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
      await registry.load(specifier, baseDir, pluginSchemaProblem);
    } catch (error) {
      problems.push({ path: formatPath(["plugins", index]), message: (error as Error).message });
    }
  }
  return problems;
}

const tooDeepForParser = `nested too deeply to read (a pipeline file may nest ${MAX_FILE_DEPTH} levels)`;

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

/**
 * The path of the first object or array nested deeper than `limit`, if any. Iterative: it must
 * not overflow on the very input it is there to refuse.
 */
export function firstTooDeep(value: unknown, limit: number): PathSegment[] | undefined {
  const stack: { node: unknown; path: PathSegment[] }[] = [{ node: value, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (path.length >= limit) return path;
    const entries: [PathSegment, unknown][] = Array.isArray(node)
      ? node.map((item, index) => [index, item])
      : Object.entries(node);
    for (const [segment, item] of entries) {
      if (item !== null && typeof item === "object") stack.push({ node: item, path: [...path, segment] });
    }
  }
  return undefined;
}

function parseJson(text: string): Parsed {
  try {
    const value: unknown = JSON.parse(text);
    // Checked before the duplicate-key walk, which a file this deep would overflow.
    const deep = depthProblem(value);
    if (deep) return { value: undefined, problems: [deep] };
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
  let document: Document;
  try {
    document = parseDocument(text, YAML_OPTIONS);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return { value: undefined, problems: [{ path: "", message: tooDeepForParser }] };
  }
  const errors = [...document.errors, ...document.warnings];
  // The parser reports a stack overflow as syntax errors: say once what it means.
  if (errors.some((e) => /call stack/i.test(e.message)))
    return { value: undefined, problems: [{ path: "", message: tooDeepForParser }] };
  const problems = errors.map((e) => ({
    path: "",
    message: `invalid YAML at ${lineAndColumn(text, e.pos[0])}: ${e.message}`,
  }));
  if (problems.length > 0) return { value: undefined, problems };
  const duplicates = duplicateKeys(document, text);
  if (duplicates.length > 0) return { value: undefined, problems: duplicates };
  try {
    const value: unknown = document.toJS();
    const deep = depthProblem(value);
    return deep ? { value: undefined, problems: [deep] } : { value, problems: [] };
  } catch (error) {
    if (error instanceof RangeError)
      return { value: undefined, problems: [{ path: "", message: tooDeepForParser }] };
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
