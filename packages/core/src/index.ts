// The schema builder plugins write their options with, so that they use the runtime's copy.

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
export * from "./aws-errors.js";
export * from "./builtins.js";
export * from "./config/interpolate.js";
export * from "./config/load.js";
export * from "./config/paths.js";
export * from "./config/schema.js";
export type * from "./config/types.js";
export * from "./errors.js";
export * from "./interfaces.js";
export * from "./matchers/event-name.js";
export * from "./matchers/event-pattern.js";
export * from "./metrics.js";
export * from "./plugin.js";
export * from "./record-size.js";
export * from "./registry.js";
export * from "./runtime/index.js";
export * from "./services.js";
