/**
 * One plugin made the way the runtime makes it: its options checked against its schema with the
 * defaults filled in, its `validate` hook run, then `create` called with a test context.
 */
import {
  type AnyPlugin,
  builtinPlugins,
  ConfigError,
  formatPath,
  type PathSegment,
  type Plugin,
  type PluginContext,
  type PluginKind,
  type PluginKinds,
  PluginRegistry,
  parsePipelineText,
  type WithoutDefaults,
} from "@trailrouter/core";
import { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { memorySink, memorySource } from "./memory.js";
import { pluginContext } from "./plugin-context.js";

/**
 * A plugin's options as a pipeline file may write them: those with a default may be left out, at
 * any depth (`retry: { attempts: 3 }`).
 */
export type PluginOptions<P> =
  P extends Plugin<PluginKind, infer Config>
    ? WithoutDefaults<Omit<Config, "type">> & Record<string, unknown>
    : never;

/**
 * `plugin`'s instance for `options` (its block in a pipeline file, without `type`): validated as
 * the pipeline file's block would be, defaults applied, `${VAR}` interpolated from the
 * environment. Invalid options reject with a ConfigError whose paths are relative to the block
 * (`url`, `retry.attempts`). `context` replaces fields of `pluginContext()`'s.
 */
export async function createPlugin<K extends PluginKind, Config>(
  plugin: Plugin<K, Config>,
  options: PluginOptions<Plugin<K, Config>> = {} as PluginOptions<Plugin<K, Config>>,
  context: Partial<PluginContext> = {},
): Promise<PluginKinds[K]> {
  const full = pluginContext(context);
  const block = { ...options, type: plugin.type };
  const helpers: AnyPlugin[] = [...builtinPlugins, cloudtrailDecoder, memorySource([]), memorySink];
  // The plugin under test, and the helpers of other kinds to make a pipeline around it.
  const registry = new PluginRegistry([
    ...helpers.filter((h) => h.kind !== plugin.kind),
    plugin as AnyPlugin,
  ]);
  const pipeline: Record<string, unknown> = {
    name: full.pipeline,
    source: { type: "memory" },
    routes: [{ name: full.name, match: { type: "event-name", names: ["CreateUser"] }, to: [full.name] }],
    sinks: { [full.name]: { type: "memory" } },
  };
  const at: PathSegment[] = ["pipelines", 0];
  switch (plugin.kind) {
    case "source":
      pipeline.source = block;
      at.push("source");
      break;
    case "decoder":
      pipeline.decoder = block;
      at.push("decoder");
      break;
    case "matcher":
      pipeline.routes = [{ name: full.name, match: block, to: [full.name] }];
      at.push("routes", 0, "match");
      break;
    case "sink":
      pipeline.sinks = { [full.name]: block };
      at.push("sinks", full.name);
      break;
  }
  let config: Record<string, unknown>;
  try {
    const loaded = await parsePipelineText(JSON.stringify({ pipelines: [pipeline] }), {
      registry,
      format: "json",
      baseDir: full.baseDir,
    });
    config = at.reduce<Record<string, unknown>>(
      (value, segment) => (value as Record<string | number, Record<string, unknown>>)[segment]!,
      loaded.config as unknown as Record<string, unknown>,
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const prefix = formatPath(at);
    throw new ConfigError(
      error.problems.map((p) => ({
        ...p,
        path: p.path.startsWith(prefix) ? p.path.slice(prefix.length).replace(/^\./, "") : p.path,
      })),
      `the options of ${plugin.kind} "${plugin.type}"`,
    );
  }
  return plugin.create(config as Config & { type: string }, full);
}
