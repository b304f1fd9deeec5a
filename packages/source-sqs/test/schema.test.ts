import { builtinPlugins, checkPipelineFile, definePlugin, PluginRegistry } from "@trailrouter/core";
import { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
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

const registry = () =>
  new PluginRegistry([...builtinPlugins, cloudtrailDecoder, sqsSource, anyMatcher, nullSink]);

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

/** Stands in for the sqs sink: only its type and queueUrl matter to the source's checks. */
const sqsSink = definePlugin({
  kind: "sink",
  type: "sqs",
  schema: {
    type: "object",
    properties: { queueUrl: { type: "string" } },
    required: ["queueUrl"],
    additionalProperties: false,
  },
  create: () => ({
    deliver: async (records) => ({ delivered: records.length, failed: [] }),
    close: async () => {},
  }),
});

const fileRegistry = () =>
  new PluginRegistry([...builtinPlugins, cloudtrailDecoder, sqsSource, anyMatcher, nullSink, sqsSink]);

function pipeline(
  name: string,
  queueUrl: string,
  sinks: Record<string, unknown> = { out: { type: "null" } },
) {
  return {
    name,
    source: { type: "sqs", queueUrl },
    routes: [{ name: "all", match: { type: "any" }, to: [Object.keys(sinks)[0]!] }],
    sinks,
  };
}

describe("sqs source checks across the file", () => {
  it("refuses a second pipeline reading the same queue, however its URL is spelled", () => {
    const file = {
      pipelines: [
        pipeline("a", "https://sqs.us-east-1.amazonaws.com/111122223333/trail"),
        pipeline("other", "https://sqs.us-east-1.amazonaws.com/111122223333/other"),
        pipeline("b", "https://queue.amazonaws.com/111122223333/trail/"),
        pipeline("c", "https://us-east-1.queue.amazonaws.com/111122223333/trail"),
      ],
    };
    expect(checkPipelineFile(file, fileRegistry())).toEqual([
      {
        path: "pipelines[2].source.queueUrl",
        message:
          'pipeline "b" reads the same queue as pipeline "a": a queue\'s messages go to one consumer, so "a" would take messages "b" never sees; route one trail several ways with several routes in one pipeline, or run separate processes',
      },
      {
        path: "pipelines[3].source.queueUrl",
        message:
          'pipeline "c" reads the same queue as pipeline "a": a queue\'s messages go to one consumer, so "a" would take messages "c" never sees; route one trail several ways with several routes in one pipeline, or run separate processes',
      },
    ]);
  });

  it("accepts pipelines reading queues that differ by region, account or name's case", () => {
    const file = {
      pipelines: [
        pipeline("a", "https://sqs.us-east-1.amazonaws.com/111122223333/trail"),
        pipeline("b", "https://sqs.eu-west-1.amazonaws.com/111122223333/trail"),
        pipeline("c", "https://sqs.us-east-1.amazonaws.com/444455556666/trail"),
        pipeline("d", "https://sqs.us-east-1.amazonaws.com/111122223333/Trail"),
      ],
    };
    expect(checkPipelineFile(file, fileRegistry())).toEqual([]);
  });

  it("refuses an sqs sink of any pipeline writing into a source's queue", () => {
    const file = {
      pipelines: [
        pipeline("p", "https://sqs.us-east-1.amazonaws.com/111122223333/trail", {
          elsewhere: { type: "sqs", queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/out" },
        }),
        pipeline("q", "https://sqs.us-east-1.amazonaws.com/111122223333/other", {
          out: { type: "sqs", queueUrl: "https://us-east-1.queue.amazonaws.com/111122223333/trail" },
        }),
      ],
    };
    expect(checkPipelineFile(file, fileRegistry())).toEqual([
      {
        path: "pipelines[0].source.queueUrl",
        message:
          'sink "out" of pipeline "q" (pipelines[1].sinks.out) writes to this source queue: its records would come back as notifications',
      },
    ]);
  });

  it("refuses a redelivery cap below the first delay, the default cap included", () => {
    const set = pipelineFile({
      queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
      redeliveryDelaySeconds: 60,
      maxRedeliveryDelaySeconds: 30,
    });
    expect(checkPipelineFile(set, registry())).toEqual([
      {
        path: "pipelines[0].source.maxRedeliveryDelaySeconds",
        message:
          "30 (900 when unset) is below redeliveryDelaySeconds (60): every redelivery would wait 30 s; raise maxRedeliveryDelaySeconds or lower redeliveryDelaySeconds",
      },
    ]);
    const byDefault = pipelineFile({
      queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
      redeliveryDelaySeconds: 1_200,
    });
    expect(checkPipelineFile(byDefault, registry())).toEqual([
      expect.objectContaining({ path: "pipelines[0].source.maxRedeliveryDelaySeconds" }),
    ]);
    const equal = pipelineFile({
      queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
      redeliveryDelaySeconds: 900,
    });
    expect(checkPipelineFile(equal, registry())).toEqual([]);
  });

  it("refuses a visibility timeout below 2 s, which the heartbeat cannot keep up", () => {
    for (const visibilityTimeout of [0, 1]) {
      const file = pipelineFile({
        queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
        visibilityTimeout,
      });
      expect(checkPipelineFile(file, registry())).toEqual([
        { path: "pipelines[0].source.visibilityTimeout", message: "must be >= 2" },
      ]);
    }
    const file = pipelineFile({
      queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
      visibilityTimeout: 2,
    });
    expect(checkPipelineFile(file, registry())).toEqual([]);
  });
});
