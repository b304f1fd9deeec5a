/**
 * The JSON Schema of a pipeline file, composed from every registered plugin's schema, and the
 * checks that turn a parsed file into a list of problems a person can act on.
 */

import type { Static, TSchema } from "@sinclair/typebox";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import ajvFormats from "ajv-formats";
import { closest, distance } from "fastest-levenshtein";
import { type ConfigProblem, PluginError } from "../errors.js";
import {
  type AnyPlugin,
  awsSettingsSchema,
  type ConfigOfPlugin,
  type JsonSchema,
  type PluginKind,
} from "../plugin.js";
import type { PluginRegistry } from "../registry.js";
import { formatPath, formatPointer, joinPath, type PathSegment, pointerSegments } from "./paths.js";

/** Names of pipelines, routes and sinks. */
export const NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";
const NAME_RULE = 'start with a letter or digit and use only letters, digits, "_", "." and "-"';

/** How long envelopes in flight may take to finish after a stop signal, when the file says nothing. */
export const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 30;

/** The decoder a pipeline gets when its file names none. */
export const DEFAULT_DECODER = { type: "cloudtrail" } as const;

/** One plugin's branch: its own schema, with `type` fixed to the plugin's type and required. */
function pluginBranch(plugin: AnyPlugin): JsonSchema {
  const schema = optionalDefaults(plugin.schema);
  return {
    ...schema,
    ...(plugin.description ? { description: plugin.description } : {}),
    type: "object",
    properties: { ...(schema.properties as Record<string, JsonSchema>), type: { const: plugin.type } },
    required: [...new Set(["type", ...((schema.required as string[] | undefined) ?? [])])],
    additionalProperties: schema.additionalProperties ?? false,
  };
}

/**
 * The schema with every option that has a `default` left out of its object's `required`: a file
 * may omit it, and validation fills it in. A TypeBox schema lists an option that is not
 * `Type.Optional` as required, which is what its type says once defaults are applied.
 */
function optionalDefaults(schema: JsonSchema): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return schema;
  const withDefault = new Set(
    Object.keys(properties).filter((name) => properties[name]?.default !== undefined),
  );
  const { required, ...rest } = schema as JsonSchema & { required?: string[] };
  const stillRequired = (required ?? []).filter((name) => !withDefault.has(name));
  return {
    ...rest,
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, property]) => [name, optionalDefaults(property)]),
    ),
    ...(stillRequired.length > 0 ? { required: stillRequired } : {}),
  };
}

/** Any plugin of one kind, chosen by `type`. */
function kindSchema(registry: PluginRegistry, kind: PluginKind): JsonSchema {
  const plugins = registry.list(kind);
  if (plugins.length === 0) {
    // No plugin of this kind is registered: every block of it is refused (as an unknown type).
    return { type: "object", required: ["type"], properties: { type: { type: "string" } }, not: {} };
  }
  return {
    type: "object",
    required: ["type"],
    discriminator: { propertyName: "type" },
    oneOf: plugins.map(pluginBranch),
  };
}

/** ONE schema for the whole file: every plugin block is checked against its plugin's schema. */
export function buildPipelineSchema(registry: PluginRegistry): JsonSchema {
  const name = { type: "string", pattern: NAME_PATTERN };
  const route = {
    type: "object",
    properties: {
      name,
      match: kindSchema(registry, "matcher"),
      to: { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", minLength: 1 } },
    },
    required: ["name", "match", "to"],
    additionalProperties: false,
  };
  const pipeline = {
    type: "object",
    properties: {
      name,
      aws: awsSettingsSchema,
      source: kindSchema(registry, "source"),
      decoder: { ...kindSchema(registry, "decoder"), default: DEFAULT_DECODER },
      routes: { type: "array", minItems: 1, items: route },
      recordDeadLetter: {
        type: "object",
        description:
          "Where a record that a sink refuses for good (too large, content the service refuses) goes, wrapped with its error, so the rest of its file is delivered and its message deleted; without it such a record keeps its message in the queue",
        properties: {
          sink: { type: "string", minLength: 1, description: "Name of a sink of this pipeline" },
        },
        required: ["sink"],
        additionalProperties: false,
      },
      sinks: {
        type: "object",
        minProperties: 1,
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: kindSchema(registry, "sink"),
      },
    },
    required: ["name", "source", "routes", "sinks"],
    additionalProperties: false,
  };
  return {
    type: "object",
    properties: {
      aws: awsSettingsSchema,
      plugins: { type: "array", items: { type: "string", minLength: 1 } },
      shutdownTimeoutSeconds: {
        type: "integer",
        minimum: 0,
        maximum: 3600,
        description: `After SIGTERM/SIGINT, seconds envelopes in flight get to finish before they are given back (default ${DEFAULT_SHUTDOWN_TIMEOUT_SECONDS})`,
      },
      pipelines: { type: "array", minItems: 1, items: pipeline },
    },
    required: ["pipelines"],
    additionalProperties: false,
  };
}

function newAjv(): Ajv {
  // coerceTypes: numbers and booleans may come from the environment (`concurrency: ${CONCURRENCY:-4}`).
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    coerceTypes: true,
    discriminator: true,
    verbose: true,
  });
  // ajv-formats is CommonJS: under NodeNext its function is the `default` of the module object.
  ajvFormats.default(ajv);
  return ajv;
}

/**
 * Why ajv would refuse a plugin's schema (`type: "strin"`, say), or undefined when it is a valid
 * JSON Schema. Checked for the plugins a file loads, so the problem is reported at its `plugins`
 * entry when the file loads.
 */
export function pluginSchemaProblem(plugin: AnyPlugin): string | undefined {
  const ajv = newAjv();
  try {
    if (ajv.validateSchema(pluginBranch(plugin)) === false)
      return ajv.errorsText(ajv.errors, { dataVar: "schema" });
    ajv.compile(pluginBranch(plugin));
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** Compile the file's schema; a plugin whose schema ajv refuses is named in the error. */
function compilePipelineSchema(registry: PluginRegistry): ValidateFunction {
  try {
    return newAjv().compile(buildPipelineSchema(registry));
  } catch (error) {
    for (const plugin of registry.all()) {
      try {
        newAjv().compile(pluginBranch(plugin));
      } catch (pluginError) {
        throw new PluginError(
          "InvalidPluginSchema",
          `the ${plugin.kind} plugin "${plugin.type}" has an invalid schema: ${(pluginError as Error).message}`,
          { kind: plugin.kind, type: plugin.type },
          { cause: pluginError },
        );
      }
    }
    throw new PluginError(
      "InvalidPluginSchema",
      `the plugins' schemas do not compose: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
}

/** What a file may give for options of type `T`: an option with a default may be left out, nested ones too. */
export type WithoutDefaults<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: WithoutDefaults<T[K]> }
    : T;

/** Compiled once per plugin or schema, with the options the file is validated with. */
const defaultFillers = new WeakMap<object, ValidateFunction>();

/**
 * `config` as a plugin's `create` gets it from a pipeline file: checked against the plugin's schema
 * as a block of the file is, with the schema's defaults filled in (nested ones too), `type` set.
 * For code and tests that call `create`, or a function of the plugin, without a file: the
 * defaults stay written once, in the schema. Given a schema instead of a plugin (a TypeBox
 * object's, say), the value with that schema's defaults. `config` is not changed. Throws a
 * PluginError `InvalidPluginOptions` saying what the schema refuses.
 */
export function withDefaults<P extends AnyPlugin>(
  plugin: P,
  config: WithoutDefaults<ConfigOfPlugin<P>> & { type?: string },
): ConfigOfPlugin<P> & { type: string };
export function withDefaults<S extends TSchema>(schema: S, value: WithoutDefaults<Static<S>>): Static<S>;
export function withDefaults(target: AnyPlugin | TSchema, value: unknown): unknown {
  const plugin = isPlugin(target) ? target : undefined;
  let validate = defaultFillers.get(target);
  if (!validate) {
    validate = newAjv().compile(plugin ? pluginBranch(plugin) : optionalDefaults(target as JsonSchema));
    defaultFillers.set(target, validate);
  }
  const filled = structuredClone(value) as Record<string, unknown>;
  if (plugin) filled.type = plugin.type;
  if (validate(filled)) return filled;
  const what = plugin ? `the ${plugin.kind} plugin "${plugin.type}"` : "the schema";
  const reasons = (validate.errors ?? []).map(
    (error) => `${formatPath(pointerSegments(error.instancePath, filled)) || "options"} ${error.message}`,
  );
  throw new PluginError(
    "InvalidPluginOptions",
    `options refused by ${what}: ${reasons.join("; ")}`,
    plugin ? { kind: plugin.kind, type: plugin.type } : {},
  );
}

function isPlugin(target: AnyPlugin | TSchema): target is AnyPlugin {
  return typeof (target as AnyPlugin).create === "function" && typeof target.kind === "string";
}

/**
 * Every problem in a parsed (and interpolated) pipeline file: schema, cross-references, and each
 * plugin's own `validate` hook. Fills in defaults in `document` as it goes.
 */
export function checkPipelineFile(document: unknown, registry: PluginRegistry): ConfigProblem[] {
  const validate = compilePipelineSchema(registry);
  validate(document);
  const errors = validate.errors ?? [];
  const problems = errors.flatMap((error) => describeSchemaError(error, document, registry));
  const failedPointers = errors.map((error) => error.instancePath);
  const passed = (segments: readonly PathSegment[]) => {
    const pointer = formatPointer(segments);
    return !failedPointers.some((failed) => failed === pointer || failed.startsWith(`${pointer}/`));
  };
  problems.push(...crossCheck(document), ...runValidateHooks(document, registry, passed));
  return unique(problems);
}

function unique(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The kind of plugin a block at these segments holds, if it is a plugin block. */
function pluginKindAt(segments: readonly PathSegment[]): PluginKind | undefined {
  const [top, , field, index, last] = segments;
  if (top !== "pipelines" || typeof segments[1] !== "number") return undefined;
  if (segments.length === 3 && field === "source") return "source";
  if (segments.length === 3 && field === "decoder") return "decoder";
  if (segments.length === 4 && field === "sinks") return "sink";
  if (segments.length === 5 && field === "routes" && typeof index === "number" && last === "match")
    return "matcher";
  return undefined;
}

function knownTypes(registry: PluginRegistry, kind: PluginKind): string {
  return (
    registry
      .list(kind)
      .map((p) => p.type)
      .join(", ") || "none"
  );
}

function suggestion(word: string, candidates: readonly string[]): string {
  if (candidates.length === 0) return "";
  const best = closest(word, candidates as string[]);
  return distance(word, best) <= Math.max(1, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : "";
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (Number.isInteger(value)) return "integer";
  return typeof value;
}

function tooFew(limit: number, what: string): string {
  return limit === 1 ? "must not be empty" : `must have at least ${limit} ${what}`;
}

/** An ajv error as a sentence at its path; nothing when another error already says it. */
function describeSchemaError(
  error: ErrorObject,
  document: unknown,
  registry: PluginRegistry,
): ConfigProblem[] {
  // An error inside `propertyNames` is restated by the `propertyNames` error itself.
  if (error.propertyName !== undefined) return [];
  const segments = pointerSegments(error.instancePath, document);
  const path = formatPath(segments);
  const kind = pluginKindAt(segments);
  const params = error.params as Record<string, unknown>;
  const at = (message: string, where = path) => [{ path: where, message }];

  switch (error.keyword) {
    case "required": {
      const option = String(params.missingProperty);
      const hint = kind && option === "type" ? ` (known ${kind} types: ${knownTypes(registry, kind)})` : "";
      return at(`missing required option "${option}"${hint}`);
    }
    case "additionalProperties": {
      const option = String(params.additionalProperty);
      const known = Object.keys(
        (error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {},
      );
      return at(`unknown option "${option}"${suggestion(option, known)}`);
    }
    case "discriminator":
    case "not": {
      // `not` stands for "no plugin of this kind exists" only on a kind without plugins.
      if (!kind || (error.keyword === "not" && registry.list(kind).length > 0)) break;
      const type = (error.data as { type?: unknown } | undefined)?.type;
      // A missing `type` is reported by `required`.
      if (type === undefined) return [];
      if (typeof type !== "string") {
        return at(
          `must be a string naming a ${kind} type (known: ${knownTypes(registry, kind)})`,
          joinPath(path, "type"),
        );
      }
      return at(`unknown ${kind} type "${type}" (known: ${knownTypes(registry, kind)})`);
    }
    case "propertyNames":
      return at(`invalid name "${String(params.propertyName)}": names ${NAME_RULE}`);
    case "pattern":
      if (error.schema === NAME_PATTERN) return at(`must ${NAME_RULE}`);
      break;
    case "type": {
      const expected = String(params.type).split(",").map(article).join(" or ");
      return at(`must be ${expected}, not ${article(typeOf(error.data))}`);
    }
    case "enum":
      return at(
        `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      );
    case "const":
      return at(`must be ${JSON.stringify(params.allowedValue)}`);
    case "uniqueItems": {
      const items = error.data as unknown[];
      return at(`lists ${JSON.stringify(items[Number(params.j)])} more than once`);
    }
    case "minItems":
      return at(tooFew(Number(params.limit), "items"));
    case "minProperties":
      return at(tooFew(Number(params.limit), "entries"));
    case "minLength":
      return at(tooFew(Number(params.limit), "characters"));
  }
  return at(error.message ?? `fails the "${error.keyword}" rule`);
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Names that must be unique: each repeat is a problem at its own `name`. */
function duplicateNames(items: unknown[], listPath: readonly PathSegment[], what: string): ConfigProblem[] {
  const firstSeen = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  items.forEach((item, index) => {
    const name = isObject(item) ? item.name : undefined;
    if (typeof name !== "string") return;
    const first = firstSeen.get(name);
    if (first === undefined) firstSeen.set(name, index);
    else
      problems.push({
        path: formatPath([...listPath, index, "name"]),
        message: `${what} name "${name}" is already used by ${formatPath([...listPath, first])}`,
      });
  });
  return problems;
}

/** What the schema cannot say: unique names, and routes that name sinks of their pipeline. */
function crossCheck(document: unknown): ConfigProblem[] {
  if (!isObject(document)) return [];
  const pipelines = asArray(document.pipelines);
  const problems = duplicateNames(pipelines, ["pipelines"], "pipeline");
  pipelines.forEach((pipeline, p) => {
    if (!isObject(pipeline)) return;
    const routes = asArray(pipeline.routes);
    problems.push(...duplicateNames(routes, ["pipelines", p, "routes"], "route"));
    if (!isObject(pipeline.sinks)) return;
    const sinks = Object.keys(pipeline.sinks);
    const where =
      typeof pipeline.name === "string" ? `pipeline "${pipeline.name}"` : formatPath(["pipelines", p]);
    const deadLetter = isObject(pipeline.recordDeadLetter) ? pipeline.recordDeadLetter.sink : undefined;
    if (typeof deadLetter === "string" && deadLetter !== "" && !sinks.includes(deadLetter)) {
      problems.push({
        path: formatPath(["pipelines", p, "recordDeadLetter", "sink"]),
        message: `no sink named "${deadLetter}" in ${where} (sinks: ${sinks.join(", ") || "none"})`,
      });
    }
    routes.forEach((route, r) => {
      if (!isObject(route)) return;
      asArray(route.to).forEach((target, t) => {
        if (typeof target !== "string" || target === "" || sinks.includes(target)) return;
        problems.push({
          path: formatPath(["pipelines", p, "routes", r, "to", t]),
          message: `no sink named "${target}" in ${where} (sinks: ${sinks.join(", ") || "none"})`,
        });
      });
    });
  });
  return problems;
}

interface PluginBlock {
  readonly kind: PluginKind;
  readonly segments: PathSegment[];
  readonly config: Json;
  /** The pipeline block it belongs to. */
  readonly pipeline: Json;
}

/** Every plugin block of the file, wherever it sits. */
function* pluginBlocks(document: unknown): Generator<PluginBlock> {
  if (!isObject(document)) return;
  for (const [p, pipeline] of asArray(document.pipelines).entries()) {
    if (!isObject(pipeline)) continue;
    const block = (kind: PluginKind, config: unknown, ...segments: PathSegment[]) =>
      isObject(config) ? [{ kind, config, pipeline, segments: ["pipelines", p, ...segments] }] : [];
    yield* block("source", pipeline.source, "source");
    yield* block("decoder", pipeline.decoder, "decoder");
    for (const [r, route] of asArray(pipeline.routes).entries()) {
      if (isObject(route)) yield* block("matcher", route.match, "routes", r, "match");
    }
    if (isObject(pipeline.sinks)) {
      for (const [name, sink] of Object.entries(pipeline.sinks)) yield* block("sink", sink, "sinks", name);
    }
  }
}

/** Each plugin's own checks, on the blocks the schema accepted, at paths under the block. */
function runValidateHooks(
  document: unknown,
  registry: PluginRegistry,
  passed: (segments: readonly PathSegment[]) => boolean,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { kind, segments, config, pipeline } of pluginBlocks(document)) {
    if (!passed(segments) || typeof config.type !== "string") continue;
    const plugin = registry.find(kind, config.type);
    if (!plugin?.validate) continue;
    const base = formatPath(segments);
    try {
      for (const problem of plugin.validate(config as Json & { type: string }, {
        pipeline,
        file: document as Json,
      })) {
        problems.push({ path: joinPath(base, problem.path), message: problem.message });
      }
    } catch (error) {
      problems.push({
        path: base,
        message: `the ${kind} plugin "${config.type}" failed to check its options: ${(error as Error).message}`,
      });
    }
  }
  return problems;
}
