import type { AwsSettings } from "../services.js";

/** A plugin's block in the pipeline file: `type` plus the plugin's own options. */
export interface PluginConfig {
  type: string;
  aws?: AwsSettings;
  [option: string]: unknown;
}

export interface RouteConfig {
  name: string;
  match: PluginConfig;
  /** Names of sinks of the same pipeline. */
  to: string[];
}

export interface PipelineConfig {
  name: string;
  aws?: AwsSettings;
  source: PluginConfig;
  decoder: PluginConfig;
  routes: RouteConfig[];
  sinks: Record<string, PluginConfig>;
  /** The sink that takes records another sink refused for good, wrapped with their error. */
  recordDeadLetter?: { sink: string };
}

/** The whole pipeline file, after interpolation and validation. */
export interface PipelineFile {
  aws?: AwsSettings;
  /** Module specifiers (relative to the file, or package names) exporting more plugins. */
  plugins?: string[];
  /** After SIGTERM/SIGINT, how long envelopes in flight may take to finish before they are given back. */
  shutdownTimeoutSeconds?: number;
  pipelines: PipelineConfig[];
}

/** A validated file and where it came from. */
export interface LoadedPipelineFile {
  /** Absolute path, or `<inline>`. */
  readonly path: string;
  /** Directory that relative paths in the file resolve against. */
  readonly baseDir: string;
  readonly config: PipelineFile;
}
