import type { Static, TObject } from "@sinclair/typebox";
import type { DependencyContainer } from "tsyringe";
import type { Decoder, Matcher, MatcherSet, Sink, Source } from "./interfaces.js";
import type { AwsClientFactory, Clock, Logger, PipelineMetrics } from "./services.js";

/** What each kind of plugin creates. */
export interface PluginKinds {
  source: Source;
  decoder: Decoder;
  matcher: Matcher;
  sink: Sink;
}
export type PluginKind = keyof PluginKinds;
export const PLUGIN_KINDS: readonly PluginKind[] = ["source", "decoder", "matcher", "sink"];

/** A JSON Schema (draft-07 as ajv reads it). Kept loose: plugin authors write plain objects. */
export type JsonSchema = Record<string, unknown>;

/**
 * The object schema of a plugin's options. The core adds `type` (the discriminator) itself;
 * list every other option under `properties`, and set `additionalProperties: false` so a typo
 * in a pipeline file is an error with its path.
 */
export interface PluginSchema extends JsonSchema {
  type: "object";
  properties: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
}

/** Everything a plugin instance may use, scoped to one pipeline. */
export interface PluginContext {
  /** The pipeline this instance belongs to. */
  readonly pipeline: string;
  /** The instance's name in the file: the sink's key, the route's name, `source`, `decoder`. */
  readonly name: string;
  /** The pipeline's child container: resolve more services from it (see TOKENS). */
  readonly container: DependencyContainer;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly clock: Clock;
  /** AWS clients configured with the file's, the pipeline's and this plugin's `aws` settings. */
  readonly aws: AwsClientFactory;
  /** Directory of the pipeline file, for options that name files. */
  readonly baseDir: string;
}

/** What a `validate` hook may look at besides its own block. */
export interface PluginValidateContext {
  /**
   * The pipeline block the plugin's block belongs to, as written (with defaults filled in):
   * e.g. to check that an option names one of its `sinks`. Parts of it may be invalid.
   */
  readonly pipeline: Readonly<Record<string, unknown>>;
  /**
   * The whole file, as written (with defaults filled in): for checks across pipelines, e.g. two
   * pipelines reading one queue. Parts of it may be invalid.
   */
  readonly file: Readonly<Record<string, unknown>>;
}

/** A route given to a matcher plugin's `compileSet`: its name and its `match` block. */
export interface MatcherSetRoute<Config = Record<string, unknown>> {
  readonly name: string;
  readonly config: Config & { type: string };
}

/**
 * A plugin is a value: a kind, a type name (the `type:` in the pipeline file), the schema of
 * its options, and a constructor.
 */
export interface Plugin<K extends PluginKind = PluginKind, Config = Record<string, unknown>> {
  readonly kind: K;
  readonly type: string;
  readonly description?: string;
  readonly schema: PluginSchema;
  /**
   * Checks the schema cannot express (an event pattern's grammar, say), run when the file is
   * loaded. Paths are relative to the plugin's block, e.g. `pattern.detail.eventName`.
   */
  validate?(
    config: Config & { type: string },
    context: PluginValidateContext,
  ): readonly { path: string; message: string }[];
  create(config: Config & { type: string }, context: PluginContext): PluginKinds[K] | Promise<PluginKinds[K]>;
  /**
   * Matchers only, optional: compiles all the routes of a pipeline whose `match` is of this type
   * into one MatcherSet, matched in one pass per record (the way the event-pattern matcher
   * compiles its patterns together). The runtime then calls it, once per pipeline, instead of
   * `create` for those routes. It may throw for a route it cannot compile: say which, with the
   * route's name as `route` in the context of a TrailrouterError.
   */
  compileSet?(routes: readonly MatcherSetRoute<Config>[]): MatcherSet;
}

// biome-ignore lint/suspicious/noExplicitAny: a plugin of any config shape
export type AnyPlugin = Plugin<PluginKind, any>;

/**
 * The options a plugin's `create` receives for its schema: what `Static` says, where an option
 * with a `default` is always there (the file is validated with defaults filled in). Write an
 * option with a default as `Type.Integer({ default: 20 })` (not `Type.Optional`): the pipeline
 * file may still leave it out, and `create` never sees it missing.
 */
export type ConfigOf<S extends TObject> = Static<S>;

/** The options a plugin's `create` receives (without `type`). */
export type ConfigOfPlugin<P> = P extends Plugin<PluginKind, infer Config> ? Config : never;

/**
 * Type-checks a plugin value. With a TypeBox schema (`Type.Object({...})`, re-exported by core),
 * the config `create`, `validate` and `compileSet` receive is derived from it: one source of truth
 * for each option, its type, its default and its description.
 */
export function definePlugin<K extends PluginKind, S extends TObject>(
  plugin: Omit<Plugin<K, ConfigOf<S>>, "schema"> & { readonly schema: S },
): Plugin<K, ConfigOf<S>> & { readonly schema: S };
export function definePlugin<K extends PluginKind, Config>(plugin: Plugin<K, Config>): Plugin<K, Config>;
export function definePlugin<K extends PluginKind, Config>(plugin: Plugin<K, Config>): Plugin<K, Config> {
  return plugin;
}

export { awsSettingsSchema } from "./services.js";
