import { builtinPlugins, checkPipelineFile, definePlugin, PluginRegistry } from "@trailrouter/core";
import { sqsSource } from "@trailrouter/source-sqs";
import { describe, expect, it } from "vitest";

const anyMatcher = definePlugin({
  kind: "matcher",
  type: "any",
  schema: { type: "object", properties: {}, additionalProperties: false },
  create: () => ({ matches: () => true }),
});
const nullSink = definePlugin({
  kind: "sink",
  type: "null",
  schema: { type: "object", properties: {}, additionalProperties: false },
  create: () => ({
    deliver: async (records) => ({ delivered: records.length, failed: [] }),
    close: async () => {},
  }),
});

function pipelineFile(source: Record<string, unknown>) {
  return {
    pipelines: [
      {
        name: "trail",
        source: { type: "sqs", ...source },
        routes: [{ name: "all", match: { type: "any" }, to: ["out"] }],
        sinks: { out: { type: "null" } },
      },
    ],
  };
}

const registry = () => new PluginRegistry([...builtinPlugins, sqsSource, anyMatcher, nullSink]);

describe("sqs source options in a pipeline file", () => {
  it("fills in the defaults", () => {
    const file = pipelineFile({ queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail" });
    expect(checkPipelineFile(file, registry())).toEqual([]);
    expect(file.pipelines[0]!.source).toEqual({
      type: "sqs",
      queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
      waitTimeSeconds: 20,
      maxMessages: 10,
      concurrency: 10,
      ignoreDigests: true,
      redeliveryDelaySeconds: 10,
      maxRedeliveryDelaySeconds: 900,
      maxObjectBytes: 268_435_456,
    });
  });

  it("names each bad option by its path", () => {
    const file = pipelineFile({
      queueURL: "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
      waitTimeSeconds: 25,
      concurrency: 0,
      allowedBuckets: [],
      aws: { region: "us-east-1", profile: "prod" },
    });
    expect(checkPipelineFile(file, registry())).toEqual(
      expect.arrayContaining([
        { path: "pipelines[0].source", message: 'unknown option "queueURL" (did you mean "queueUrl"?)' },
        { path: "pipelines[0].source", message: 'missing required option "queueUrl"' },
        { path: "pipelines[0].source.waitTimeSeconds", message: "must be <= 20" },
        { path: "pipelines[0].source.concurrency", message: "must be >= 1" },
        { path: "pipelines[0].source.allowedBuckets", message: "must not be empty" },
        { path: "pipelines[0].source.aws", message: 'unknown option "profile"' },
      ]),
    );
  });
});
