/**
 * Type-checked by single-source.test.ts (`tsc --noEmit -p` this folder): the config each built-in
 * plugin's `create` receives is the type of its schema, `Static<schema>`, and no hand-written
 * interface beside it. A plugin defined with a plain JSON Schema and a config type of its own
 * fails here: its schema is no TypeBox schema, or its config is not what the schema says.
 */
import {
  type ConfigOfPlugin,
  definePlugin,
  type eventNameMatcher,
  type eventPatternMatcher,
  type Static,
  type TSchema,
  Type,
} from "@trailrouter/core";
import type { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
import type { eventBridgeSink } from "@trailrouter/sink-eventbridge";
import type { snsSink } from "@trailrouter/sink-sns";
import type { sqsSink } from "@trailrouter/sink-sqs";
import type { sqsSource } from "@trailrouter/source-sqs";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** True when the plugin's config is exactly what its (TypeBox) schema says. */
type DerivedFromSchema<P extends { readonly schema: TSchema }> = Equal<
  ConfigOfPlugin<P>,
  Static<P["schema"]>
>;

/** Each built-in plugin, by `kind type`. */
export const checked = {
  "matcher event-name": true satisfies DerivedFromSchema<typeof eventNameMatcher>,
  "matcher event-pattern": true satisfies DerivedFromSchema<typeof eventPatternMatcher>,
  "decoder cloudtrail": true satisfies DerivedFromSchema<typeof cloudtrailDecoder>,
  "source sqs": true satisfies DerivedFromSchema<typeof sqsSource>,
  "sink sqs": true satisfies DerivedFromSchema<typeof sqsSink>,
  "sink sns": true satisfies DerivedFromSchema<typeof snsSink>,
  "sink eventbridge": true satisfies DerivedFromSchema<typeof eventBridgeSink>,
};

// The check can fail: a config written beside a plain JSON Schema (one that says `pth`, not `path`)...
const handWritten = definePlugin<"sink", { path: string }>({
  kind: "sink",
  type: "hand-written",
  schema: { type: "object", properties: { pth: { type: "string" } }, additionalProperties: false },
  create: () => ({
    deliver: async (records) => ({ delivered: records.length, failed: [] }),
    close: async () => {},
  }),
});
// @ts-expect-error ...has no TypeBox schema to derive from
export type HandWritten = DerivedFromSchema<typeof handWritten>;

// ...and a config that is not the schema's type is told apart from one that is.
const schema = Type.Object({ path: Type.String() });
export const notTheSchemas = false satisfies Equal<{ pth: string }, Static<typeof schema>>;
