export {
  type CompiledPattern,
  type Conjunction,
  compileEventPattern,
  expandEventPattern,
  type FieldConstraint,
  MAX_PATTERN_ALTERNATIVES,
  MAX_PATTERN_DEPTH,
} from "./compile.js";
export { compileLeaf, type ExactValues, Leaf, type ValuePredicate } from "./leaf.js";
export { type CompiledPatternSet, compilePatterns, type NamedPatterns } from "./pattern-set.js";
export { type EventPatternMatcherConfig, eventPatternMatcher } from "./plugin.js";
export { compilePrefilter, type RecordPrefilter } from "./prefilter.js";
export { MAX_WILDCARDS } from "./wildcard.js";
