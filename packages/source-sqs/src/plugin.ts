import { definePlugin } from "@trailrouter/core";
import { checkSqsSourceConfig, resolveSqsSourceOptions, sqsSourceSchema } from "./options.js";
import { SqsSource } from "./source.js";

/** Source plugin `sqs`: CloudTrail notifications from an SQS queue, objects from S3. */
export const sqsSource = definePlugin({
  kind: "source",
  type: "sqs",
  description: "Long-polls an SQS queue for notifications of CloudTrail log files and reads them from S3",
  schema: sqsSourceSchema,
  validate: (config, context) => checkSqsSourceConfig(config, context),
  create: (config, context) => new SqsSource(resolveSqsSourceOptions(config), context),
});
