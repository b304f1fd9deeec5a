// The log-file factories and the plugin context moved to @trailrouter/testing; named here too.
export {
  type CloudTrailKeyOptions,
  cloudTrailKey,
  encodeLogFile,
  type LogFile,
  type LogFileKind,
  pluginContext,
  recordCommands,
  type SentCommand,
  type ToLogFilesOptions,
  toLogFiles,
} from "@trailrouter/testing";
export * from "./emulator.js";
export * from "./fault-proxy.js";
export * from "./moto.js";
export * from "./notifications.js";
export * from "./samples.js";
export {
  DEFAULT_ACCOUNT_IDS,
  DEFAULT_REGIONS,
  generateTraffic,
  streamTraffic,
  type TrafficOptions,
} from "./traffic.js";
export * from "./world.js";
