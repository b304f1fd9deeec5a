/**
 * @trailrouter/core: the contracts of a pipeline's plugins, what they are given, the errors they
 * throw, the plugin registry, the pipeline file and the runtime. Named exports only: what is not
 * here is internal and may change.
 */

// Writing a plugin: its definition and options schema (TypeBox, the runtime's copy), and what
// `create` receives.
// The types of the schemas `Type` builds, so a plugin package's declarations name them through core.
export type {
  TArray,
  TBoolean,
  TInteger,
  TLiteral,
  TNumber,
  TOptional,
  TRecord,
  TString,
  TUnion,
  TUnknown,
  TUnsafe,
} from "@sinclair/typebox";
export { type Static, type TObject, type TSchema, Type } from "@sinclair/typebox";
export { isRetryableError } from "./aws-errors.js";
// The built-in matchers.
export { builtinPlugins } from "./builtins.js";
export {
  type LoadPipelineOptions,
  loadFilePlugins,
  loadPipelineFile,
  MAX_FILE_DEPTH,
  type ParsePipelineOptions,
  type PipelineFileFormat,
  parsePipelineText,
} from "./config/load.js";
// Paths into a pipeline file as problems give them (`pipelines[0].sinks.users`), for validate hooks.
export { formatPath, type PathSegment } from "./config/paths.js";
export {
  buildPipelineSchema,
  checkPipelineFile,
  DEFAULT_DECODER,
  DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
  type WithoutDefaults,
  withDefaults,
} from "./config/schema.js";
export type {
  LoadedPipelineFile,
  PipelineConfig,
  PipelineFile,
  PluginConfig,
  RouteConfig,
} from "./config/types.js";

// Errors: typed, with their stage and context, recognised across copies of core.
export {
  asTrailrouterError,
  ConfigError,
  type ConfigProblem,
  DecodeError,
  DeliveryError,
  type ErrorContext,
  isTrailrouterError,
  NotificationError,
  ObjectFetchError,
  PluginError,
  type Stage,
  TrailrouterError,
} from "./errors.js";
// The contracts: what a source, a decoder, a matcher and a sink are.
export type {
  DecodeOptions,
  Decoder,
  DeliveryResult,
  Envelope,
  FailedDelivery,
  Matcher,
  MatcherSet,
  MessageDeadLetter,
  ObjectLocation,
  ReceiveOptions,
  Sink,
  Source,
  SourceObject,
  TrailRecord,
} from "./interfaces.js";
export { type EventNameMatcherConfig, eventNameMatcher } from "./matchers/event-name.js";
export { type EventPatternMatcherConfig, eventPatternMatcher } from "./matchers/event-pattern.js";
export { RouterMetrics } from "./metrics.js";
export {
  type AnyPlugin,
  awsSettingsSchema,
  type ConfigOf,
  type ConfigOfPlugin,
  definePlugin,
  type JsonSchema,
  type MatcherSetRoute,
  PLUGIN_KINDS,
  type Plugin,
  type PluginContext,
  type PluginKind,
  type PluginKinds,
  type PluginSchema,
  type PluginValidateContext,
} from "./plugin.js";
export { jsonBytesAtLeast } from "./record-size.js";
// The registry, the pipeline file, the runtime and its counters.
export { PluginRegistry } from "./registry.js";
export { RoutedBatch, Router, type SetRoute } from "./runtime/router.js";
export { type RunPipelinesOptions, runPipelines } from "./runtime/run.js";
export type { PipelineSummary, RunSummary } from "./runtime/summary.js";
export {
  type AwsClientFactory,
  type AwsSettings,
  awsClientFactory,
  type Clock,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type LabelledCounter,
  type LabelledHistogram,
  type Logger,
  mergeAwsSettings,
  type PipelineMetrics,
  type PluginMetrics,
  systemClock,
  TOKENS,
} from "./services.js";
