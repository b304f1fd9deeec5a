import { compileEventPattern, PatternError } from "@trailrouter/event-pattern";
import { definePlugin } from "../plugin.js";

export interface EventPatternMatcherConfig {
  /** An EventBridge event pattern, applied to the CloudTrail record itself (not to an EventBridge envelope). */
  pattern: Record<string, unknown>;
}

/** `match: { type: event-pattern, pattern: { eventName: [CreateUser] } }` */
export const eventPatternMatcher = definePlugin<"matcher", EventPatternMatcherConfig>({
  kind: "matcher",
  type: "event-pattern",
  description: "Matches CloudTrail records with an EventBridge event pattern applied to the record itself",
  schema: {
    type: "object",
    properties: {
      pattern: {
        type: "object",
        description:
          'An EventBridge event pattern over the CloudTrail record\'s fields, e.g. { "eventSource": ["iam.amazonaws.com"], "eventName": [{ "prefix": "Create" }] }',
      },
    },
    required: ["pattern"],
    additionalProperties: false,
  },
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
});
