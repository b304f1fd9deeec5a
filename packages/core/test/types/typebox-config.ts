/**
 * Type-checked by typebox-plugin.test.ts (`tsc --noEmit -p` this folder): the config a plugin
 * with a TypeBox schema receives has the schema's types, an option with a default is always
 * there, and a misuse is a type error (each `@ts-expect-error` must find one).
 */
import { definePlugin, Type } from "@trailrouter/core";

export const webhook = definePlugin({
  kind: "sink",
  type: "webhook",
  schema: Type.Object({
    url: Type.String({ format: "uri" }),
    timeoutMs: Type.Integer({ default: 5000 }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  }),
  create(config) {
    const url: string = config.url;
    const timeoutMs: number = config.timeoutMs;
    const headers: Record<string, string> | undefined = config.headers;
    // @ts-expect-error an optional option may be missing
    const always: Record<string, string> = config.headers;
    // @ts-expect-error options have the schema's types
    const wrong: string = config.timeoutMs;
    // @ts-expect-error no option the schema does not declare
    void config.urll;
    void [url, timeoutMs, headers, always, wrong];
    return { deliver: async (records) => ({ delivered: records.length, failed: [] }), close: async () => {} };
  },
});
