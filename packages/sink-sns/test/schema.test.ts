import {
  builtinPlugins,
  ConfigError,
  checkPipelineFile,
  PluginRegistry,
  parsePipelineText,
} from "@trailrouter/core";
import { cloudtrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { snsSink } from "@trailrouter/sink-sns";
import { sqsSource } from "@trailrouter/source-sqs";
import { describe, expect, it } from "vitest";

const registry = () => new PluginRegistry([...builtinPlugins, cloudtrailDecoder, sqsSource, snsSink]);

function pipelineFile(sink: Record<string, unknown>) {
  return {
    pipelines: [
      {
        name: "trail",
        source: { type: "sqs", queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail" },
        routes: [{ name: "users", match: { type: "event-name", names: ["CreateUser"] }, to: ["users"] }],
        sinks: { users: { type: "sns", ...sink } },
      },
    ],
  };
}

async function problemsOf(yaml: string) {
  try {
    await parsePipelineText(yaml, { registry: registry(), env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("the file was accepted");
}

describe("sns sink options in a pipeline file", () => {
  it("fills in the defaults", () => {
    const file = pipelineFile({ topicArn: "arn:aws:sns:us-east-1:111122223333:users" });
    expect(checkPipelineFile(file, registry())).toEqual([]);
    expect(file.pipelines[0]?.sinks.users).toEqual({
      type: "sns",
      topicArn: "arn:aws:sns:us-east-1:111122223333:users",
      maxBatchEntries: 10,
      maxBatchBytes: 262_144,
      maxMessageBytes: 262_144,
      messageGroupIdField: "recipientAccountId",
      format: "record",
      lingerMs: 0,
    });
  });

  it("accepts FIFO topics and the other partitions", () => {
    for (const topicArn of [
      "arn:aws:sns:eu-west-1:111122223333:users.fifo",
      "arn:aws-us-gov:sns:us-gov-west-1:111122223333:users",
      "arn:aws-cn:sns:cn-north-1:111122223333:Users_2-b",
    ]) {
      expect(checkPipelineFile(pipelineFile({ topicArn, format: "eventbridge" }), registry())).toEqual([]);
    }
  });

  it("refuses a bad topicArn, an unknown option and out-of-range limits, each with its path", async () => {
    const problems = await problemsOf(`
pipelines:
  - name: trail
    source: { type: sqs, queueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/trail" }
    routes: [{ name: users, match: { type: event-name, names: [CreateUser] }, to: [users, audit] }]
    sinks:
      users: { type: sns, topicArn: "arn:aws:sqs:us-east-1:111122223333:users", maxBatchEntries: 11 }
      audit: { type: sns, topicArn: "arn:aws:sns:us-east-1:111122223333:audit", queueUrl: "https://x", maxMessageBytes: 2000000, format: xml }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: "pipelines[0].sinks.users.topicArn", message: expect.stringContaining("must match pattern") },
        { path: "pipelines[0].sinks.users.maxBatchEntries", message: "must be <= 10" },
        { path: "pipelines[0].sinks.audit", message: 'unknown option "queueUrl"' },
        { path: "pipelines[0].sinks.audit.maxMessageBytes", message: "must be <= 1048576" },
        { path: "pipelines[0].sinks.audit.format", message: 'must be one of "record", "eventbridge"' },
      ]),
    );
    expect(problems).toHaveLength(5);
  });
});
