import { builtinPlugins, checkPipelineFile, PluginRegistry } from "@trailrouter/core";
import { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { eventBridgeSink } from "@trailrouter/sink-eventbridge";
import { sqsSource } from "@trailrouter/source-sqs";
import { describe, expect, it } from "vitest";

const registry = () => new PluginRegistry([...builtinPlugins, cloudtrailDecoder, sqsSource, eventBridgeSink]);

function pipelineFile(sink: Record<string, unknown>) {
  return {
    pipelines: [
      {
        name: "trail",
        source: { type: "sqs", queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail" },
        routes: [{ name: "users", match: { type: "event-name", names: ["CreateUser"] }, to: ["bus"] }],
        sinks: { bus: { type: "eventbridge", ...sink } },
      },
    ],
  };
}

const problems = (sink: Record<string, unknown>) => checkPipelineFile(pipelineFile(sink), registry());

describe("eventbridge sink options in a pipeline file", () => {
  it("fills in the defaults", () => {
    const file = pipelineFile({});
    expect(checkPipelineFile(file, registry())).toEqual([]);
    expect(file.pipelines[0]?.sinks.bus).toEqual({
      type: "eventbridge",
      eventBusName: "default",
      source: "trailrouter",
      detailType: "AWS API Call via CloudTrail",
      maxBatchEntries: 10,
      maxBatchBytes: 262_144,
      maxEntryBytes: 262_144,
      format: "record",
      lingerMs: 0,
    });
  });

  it("accepts bus names and bus ARNs of every partition", () => {
    for (const eventBusName of [
      "audit",
      "aws.partner/example.com/123/events",
      "arn:aws:events:us-east-1:111122223333:event-bus/audit",
      "arn:aws-us-gov:events:us-gov-west-1:111122223333:event-bus/default",
      "arn:aws-cn:events:cn-north-1:111122223333:event-bus/Audit_2-b.x",
    ]) {
      expect(problems({ eventBusName, detailType: "auto", resources: ["resources.ARN"] })).toEqual([]);
    }
  });

  it("refuses an unknown option, a bad bus, out-of-range limits and bad resource paths, each with its path", () => {
    expect(
      problems({
        eventbusName: "audit",
        eventBusName: "my bus!",
        maxBatchEntries: 11,
        maxEntryBytes: 2_000_000,
        detailType: "x".repeat(129),
        resources: ["resources..ARN"],
        format: "json",
      }),
    ).toEqual(
      expect.arrayContaining([
        {
          path: "pipelines[0].sinks.bus",
          message: 'unknown option "eventbusName" (did you mean "eventBusName"?)',
        },
        {
          path: "pipelines[0].sinks.bus.eventBusName",
          message: expect.stringMatching(/^must match pattern/),
        },
        { path: "pipelines[0].sinks.bus.maxBatchEntries", message: "must be <= 10" },
        { path: "pipelines[0].sinks.bus.maxEntryBytes", message: "must be <= 1048576" },
        { path: "pipelines[0].sinks.bus.detailType", message: expect.stringMatching(/128/) },
        {
          path: "pipelines[0].sinks.bus.resources[0]",
          message: expect.stringMatching(/^must match pattern/),
        },
        { path: "pipelines[0].sinks.bus.format", message: 'must be one of "record", "eventbridge"' },
      ]),
    );
  });

  it("refuses a source PutEvents would refuse", () => {
    expect(problems({ source: "aws.iam" })).toEqual([
      {
        path: "pipelines[0].sinks.bus.source",
        message: 'must not start with "aws." (PutEvents refuses AWS sources)',
      },
    ]);
    expect(problems({ source: "awsome.iam" })).toEqual([]);
  });
});
