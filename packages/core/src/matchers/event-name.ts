import { type Static, Type } from "@sinclair/typebox";
import { definePlugin } from "../plugin.js";

const eventNameMatcherSchema = Type.Object(
  {
    names: Type.Array(Type.String({ minLength: 1 }), {
      description: "CloudTrail event names, matched exactly (case-sensitive)",
      minItems: 1,
      uniqueItems: true,
    }),
  },
  { additionalProperties: false },
);

/** `names`: the CloudTrail event names to match, e.g. `["CreateUser", "DeleteUser"]`. */
export type EventNameMatcherConfig = Static<typeof eventNameMatcherSchema>;

/** `match: { type: event-name, names: [CreateUser, DeleteUser] }`: the record's eventName is one of `names`. */
export const eventNameMatcher = definePlugin({
  kind: "matcher",
  type: "event-name",
  description: "Matches CloudTrail records whose eventName is one of the given names",
  schema: eventNameMatcherSchema,
  create(config) {
    const names = new Set(config.names);
    return {
      matches: (record) => typeof record.eventName === "string" && names.has(record.eventName),
    };
  },
});
