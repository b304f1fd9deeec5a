import { builtinPlugins, PluginRegistry } from "@trailrouter/core";
import { sqsSink } from "@trailrouter/sink-sqs";
import { sqsSource } from "@trailrouter/source-sqs";

/** The plugins every pipeline file can use without a `plugins:` entry. */
export function createDefaultRegistry(): PluginRegistry {
  return new PluginRegistry([...builtinPlugins, sqsSource, sqsSink]);
}
