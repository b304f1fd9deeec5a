/**
 * @trailrouter/testing: what a plugin's tests need, without AWS or an emulator.
 */
export {
  type CloudTrailKeyOptions,
  cloudTrailKey,
  encodeLogFile,
  type LogFile,
  type LogFileKind,
  type ToLogFilesOptions,
  toLogFiles,
} from "./log-files.js";
export { pluginContext, recordCommands, type SentCommand } from "./plugin-context.js";
export { TRAIL_RECORD_TIME, trailRecord } from "./records.js";
