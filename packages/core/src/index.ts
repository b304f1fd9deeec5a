export * from "./errors.js";
export * from "./interfaces.js";
export * from "./metrics.js";
export * from "./plugin.js";
export * from "./registry.js";
export * from "./services.js";
export type * from "./config/types.js";
