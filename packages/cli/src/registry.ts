import { builtinPlugins, PluginRegistry } from "@trailrouter/core";
import { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { eventBridgeSink } from "@trailrouter/sink-eventbridge";
import { snsSink } from "@trailrouter/sink-sns";
import { sqsSink } from "@trailrouter/sink-sqs";
import { sqsSource } from "@trailrouter/source-sqs";

/** The plugins every pipeline file can use without a `plugins:` entry. */
export function createDefaultRegistry(): PluginRegistry {
  return new PluginRegistry([
    ...builtinPlugins,
    cloudtrailDecoder,
    sqsSource,
    sqsSink,
    snsSink,
    eventBridgeSink,
  ]);
}
