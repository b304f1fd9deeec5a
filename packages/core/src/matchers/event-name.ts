import { definePlugin } from "../plugin.js";

export interface EventNameMatcherConfig {
  /** The CloudTrail event names to match, e.g. `["CreateUser", "DeleteUser"]`. */
  names: string[];
}

/** `match: { type: event-name, names: [CreateUser, DeleteUser] }`: the record's eventName is one of `names`. */
export const eventNameMatcher = definePlugin<"matcher", EventNameMatcherConfig>({
  kind: "matcher",
  type: "event-name",
  description: "Matches CloudTrail records whose eventName is one of the given names",
  schema: {
    type: "object",
    properties: {
      names: {
        type: "array",
        description: "CloudTrail event names, matched exactly (case-sensitive)",
        items: { type: "string", minLength: 1 },
        minItems: 1,
        uniqueItems: true,
      },
    },
    required: ["names"],
    additionalProperties: false,
  },
  create(config) {
    const names = new Set(config.names);
    return {
      matches: (record) => typeof record.eventName === "string" && names.has(record.eventName),
    };
  },
});
