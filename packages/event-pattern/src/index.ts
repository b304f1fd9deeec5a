/**
 * The EventBridge event-pattern language, on its own: validate a pattern, compile it, match it
 * against parsed JSON events; or compile many named patterns into one set matched in one pass.
 */
export {
  type CompiledPattern,
  type Conjunction,
  compileEventPattern,
  expandEventPattern,
  type FieldConstraint,
  MAX_PATTERN_ALTERNATIVES,
  MAX_PATTERN_DEPTH,
} from "./compile.js";
export { PatternError } from "./errors.js";
export { type CompiledPatternSet, compilePatterns, type NamedPatterns } from "./pattern-set.js";
export type { RecordPrefilter } from "./prefilter.js";
export { MAX_WILDCARDS } from "./wildcard.js";
