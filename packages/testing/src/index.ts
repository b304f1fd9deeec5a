/**
 * @trailrouter/testing: what a plugin's tests need, without AWS or an emulator.
 */
export { createPlugin, type PluginOptions } from "./create.js";
export {
  type CloudTrailKeyOptions,
  cloudTrailKey,
  encodeLogFile,
  type LogFile,
  type LogFileKind,
  type ToLogFilesOptions,
  toLogFiles,
} from "./log-files.js";
export {
  type MemoryMessage,
  type MemoryObject,
  type MemorySink,
  type MemorySourceOptions,
  type MessageOutcome,
  memorySink,
  memorySource,
  type PipelineRun,
  type RunPipelineOptions,
  runPipeline,
  type SinkActivity,
} from "./memory.js";
export { pluginContext, recordCommands, type SentCommand } from "./plugin-context.js";
export { TRAIL_RECORD_TIME, trailRecord } from "./records.js";
