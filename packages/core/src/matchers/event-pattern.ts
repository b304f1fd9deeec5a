import { type Static, Type } from "@sinclair/typebox";
import { compileEventPattern, compilePatterns, PatternError } from "@trailrouter/event-pattern";
import { TrailrouterError } from "../errors.js";
import type { MatcherSet } from "../interfaces.js";
import { definePlugin } from "../plugin.js";

const eventPatternMatcherSchema = Type.Object(
  {
    // Any JSON object: its grammar is the pattern library's, checked by `validate`.
    pattern: Type.Unsafe<Record<string, unknown>>({
      type: "object",
      description:
        'An EventBridge event pattern over the CloudTrail record\'s fields, e.g. { "eventSource": ["iam.amazonaws.com"], "eventName": [{ "prefix": "Create" }] }',
    }),
  },
  { additionalProperties: false },
);

/**
 * `pattern`: an EventBridge event pattern, applied to the CloudTrail record itself (not to an
 * EventBridge envelope).
 */
export type EventPatternMatcherConfig = Static<typeof eventPatternMatcherSchema>;

/** `match: { type: event-pattern, pattern: { eventName: [CreateUser] } }` */
export const eventPatternMatcher = definePlugin({
  kind: "matcher",
  type: "event-pattern",
  description: "Matches CloudTrail records with an EventBridge event pattern applied to the record itself",
  schema: eventPatternMatcherSchema,
  validate(config) {
    try {
      compileEventPattern(config.pattern);
      return [];
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      return [{ path: error.path === "" ? "pattern" : `pattern.${error.path}`, message: error.reason }];
    }
  },
  create(config) {
    return compileEventPattern(config.pattern);
  },
  /**
   * All the pipeline's event-pattern routes in one compiled set: one walk of each record for all
   * of them, and its prefilter as `mayMatch` when every pattern pins a literal. An invalid pattern
   * throws an `InvalidEventPattern` error with its path and the route's name in its context.
   */
  compileSet(routes): MatcherSet {
    let set: ReturnType<typeof compilePatterns>;
    try {
      set = compilePatterns(routes.map((route) => [route.name, route.config.pattern] as const));
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      throw new TrailrouterError(
        "pattern",
        error.code,
        error.message,
        { path: error.path, pattern: error.pattern, route: error.pattern },
        { cause: error },
      );
    }
    const prefilter = set.prefilter;
    return {
      matchIndices: (record) => set.matchIndices(record),
      ...(prefilter && { mayMatch: (recordJson: string) => prefilter.mayMatch(recordJson) }),
    };
  },
});
