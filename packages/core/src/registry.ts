/**
 * The plugin registry: every known plugin, kept in a tsyringe container under one token.
 * Pipelines resolve their plugins from child containers of it, so a plugin module loaded for
 * one file does not leak into another registry.
 */
import "reflect-metadata";
import { createRequire, isBuiltin } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type DependencyContainer, container as rootContainer } from "tsyringe";
import { PluginError } from "./errors.js";
import { type AnyPlugin, PLUGIN_KINDS, type PluginKind } from "./plugin.js";
import { TOKENS } from "./services.js";

export class PluginRegistry {
  readonly container: DependencyContainer;

  constructor(plugins: readonly AnyPlugin[] = [], parent: DependencyContainer = rootContainer) {
    this.container = parent.createChildContainer();
    for (const plugin of plugins) this.register(plugin);
  }

  register(plugin: AnyPlugin): this {
    assertPlugin(plugin, "register()");
    const existing = this.find(plugin.kind, plugin.type);
    // The same module loaded again (a file read twice) registers nothing new.
    if (existing === plugin) return this;
    if (existing) {
      throw new PluginError(
        "DuplicatePlugin",
        `a ${plugin.kind} plugin of type "${plugin.type}" is already registered`,
        {
          kind: plugin.kind,
          type: plugin.type,
        },
      );
    }
    this.container.register(TOKENS.Plugins, { useValue: plugin });
    return this;
  }

  all(): AnyPlugin[] {
    return this.container.isRegistered(TOKENS.Plugins)
      ? this.container.resolveAll<AnyPlugin>(TOKENS.Plugins)
      : [];
  }

  list(kind: PluginKind): AnyPlugin[] {
    return this.all().filter((p) => p.kind === kind);
  }

  find(kind: PluginKind, type: string): AnyPlugin | undefined {
    return this.all().find((p) => p.kind === kind && p.type === type);
  }

  get(kind: PluginKind, type: string): AnyPlugin {
    const plugin = this.find(kind, type);
    if (!plugin) {
      const known = this.list(kind).map((p) => p.type);
      throw new PluginError(
        "UnknownPlugin",
        `no ${kind} plugin of type "${type}" (known: ${known.join(", ") || "none"})`,
        {
          kind,
          type,
        },
      );
    }
    return plugin;
  }

  /**
   * Import a plugin module and register what it exports: a plugin or an array of plugins as
   * the default export, or a `plugins` array. Paths and package names resolve from `baseDir`.
   * `check` may refuse a plugin (why, or undefined): then nothing of the module is registered.
   */
  async load(
    specifier: string,
    baseDir: string,
    check?: (plugin: AnyPlugin) => string | undefined,
  ): Promise<AnyPlugin[]> {
    if (isBuiltin(specifier)) {
      throw new PluginError(
        "NotAPluginModule",
        `"${specifier}" is a Node.js built-in module, not a plugin module`,
        { specifier },
      );
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(resolveModule(specifier, baseDir))) as Record<string, unknown>;
    } catch (error) {
      throw new PluginError(
        "PluginModuleNotFound",
        `cannot load plugin module "${specifier}": ${(error as Error).message}`,
        { specifier },
        { cause: error },
      );
    }
    const exported = mod.default ?? mod.plugins ?? mod.plugin;
    const plugins = (Array.isArray(exported) ? exported : [exported]) as unknown[];
    if (exported === undefined || plugins.length === 0) {
      throw new PluginError(
        "NoPluginExported",
        `plugin module "${specifier}" exports no plugin (expected a default export: a plugin or an array of plugins)`,
        { specifier },
      );
    }
    for (const plugin of plugins) assertPlugin(plugin, `plugin module "${specifier}"`);
    // All or nothing: a module with one unusable plugin registers none of them.
    for (const plugin of plugins as AnyPlugin[]) {
      const problem = check?.(plugin);
      if (problem) {
        throw new PluginError(
          "InvalidPluginSchema",
          `the ${plugin.kind} plugin "${plugin.type}" of "${specifier}" has an invalid schema: ${problem}`,
          { specifier, kind: plugin.kind, type: plugin.type },
        );
      }
    }
    for (const plugin of plugins as AnyPlugin[]) this.register(plugin);
    return plugins as AnyPlugin[];
  }
}

/** A path resolves against the file's directory; a package name is looked up from there too. */
function resolveModule(specifier: string, baseDir: string): string {
  if (specifier.startsWith(".") || path.isAbsolute(specifier)) {
    return pathToFileURL(path.resolve(baseDir, specifier)).href;
  }
  try {
    return pathToFileURL(createRequire(path.join(baseDir, "index.js")).resolve(specifier)).href;
  } catch {
    return specifier; // let import() find it from here, or report why it cannot
  }
}

/** What the core reads of a plugin's schema itself, before ajv sees it. */
function schemaShapeProblems(schema: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const { properties, required, additionalProperties } = schema;
  if (properties === null || Array.isArray(properties)) problems.push("schema.properties must be an object");
  else {
    for (const [name, property] of Object.entries(properties as Record<string, unknown>)) {
      if (property === null || typeof property !== "object" || Array.isArray(property))
        problems.push(`schema.properties.${name} must be a schema (an object)`);
    }
  }
  if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === "string")))
    problems.push("schema.required must be an array of option names");
  if (additionalProperties !== undefined && typeof additionalProperties !== "boolean")
    problems.push("schema.additionalProperties must be true or false");
  return problems;
}

/** What a plugin's `type` may be: a word a file can name, never a property every object has (`__proto__`). */
const PLUGIN_TYPE = /^[A-Za-z][A-Za-z0-9_.-]*$/;

function assertPlugin(value: unknown, where: string): asserts value is AnyPlugin {
  const p = value as Partial<AnyPlugin> | undefined;
  const problems: string[] = [];
  if (!p || typeof p !== "object") problems.push("is not an object");
  else {
    if (!PLUGIN_KINDS.includes(p.kind as PluginKind))
      problems.push(`kind must be one of ${PLUGIN_KINDS.join(", ")}`);
    if (typeof p.type !== "string" || p.type === "") problems.push("type must be a non-empty string");
    else if (!PLUGIN_TYPE.test(p.type) || p.type in Object.prototype)
      problems.push(
        `type "${p.type}" must start with a letter and use only letters, digits, "_", "." and "-", and not be a name every JavaScript object has`,
      );
    if (p.schema?.type !== "object" || typeof p.schema.properties !== "object")
      problems.push('schema must be an object schema with "properties"');
    else problems.push(...schemaShapeProblems(p.schema));
    if (typeof p.create !== "function") problems.push("create must be a function");
    if (p.compileSet !== undefined) {
      if (p.kind !== "matcher") problems.push("compileSet is for matcher plugins only");
      else if (typeof p.compileSet !== "function") problems.push("compileSet must be a function");
    }
  }
  if (problems.length > 0) {
    throw new PluginError("InvalidPlugin", `${where}: not a valid plugin: ${problems.join("; ")}`);
  }
}
