export * from "./emulator.js";
export * from "./fault-proxy.js";
export * from "./log-files.js";
export * from "./moto.js";
export * from "./notifications.js";
export * from "./plugin-harness.js";
export * from "./samples.js";
export {
  DEFAULT_ACCOUNT_IDS,
  DEFAULT_REGIONS,
  generateTraffic,
  streamTraffic,
  type TrafficOptions,
} from "./traffic.js";
export * from "./world.js";
