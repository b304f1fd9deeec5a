/**
 * Running one plugin outside a pipeline, as its tests do: a context like the runtime's, and AWS
 * clients that report every command they send.
 */
import {
  type AwsClientFactory,
  awsClientFactory,
  type PluginContext,
  PluginRegistry,
  RouterMetrics,
  systemClock,
} from "@trailrouter/core";
import { pino } from "pino";

/**
 * A PluginContext for pipeline `test` and block `test`: a silent logger, fresh metrics, the system
 * clock, the working directory as `baseDir`, and AWS clients with no settings of their own (the
 * SDK's chain: AWS_REGION, AWS_ENDPOINT_URL, ...). Any field given in `options` replaces its default.
 */
export function pluginContext(options: Partial<PluginContext> = {}): PluginContext {
  return {
    pipeline: "test",
    name: "test",
    container: new PluginRegistry().container,
    logger: pino({ level: "silent" }),
    metrics: new RouterMetrics().forPipeline(options.pipeline ?? "test"),
    clock: systemClock,
    aws: awsClientFactory({}),
    baseDir: process.cwd(),
    ...options,
  };
}

/** A command an SDK client sent: its name (`SendMessageBatchCommand`, ...) and a copy of its input. */
export interface SentCommand {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

/** `factory`'s clients, each reporting the commands it sends to `onCommand` before sending them. */
export function recordCommands(
  factory: AwsClientFactory,
  onCommand: (command: SentCommand) => void,
): AwsClientFactory {
  return {
    settings: factory.settings,
    client(Client, extra) {
      const client = factory.client(Client, extra) as {
        middlewareStack: { add(middleware: unknown, options: Record<string, unknown>): void };
      };
      client.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>, context: { commandName: string }) =>
          (args: { input: Record<string, unknown> }) => {
            onCommand({ name: context.commandName, input: structuredClone(args.input) });
            return next(args);
          },
        { step: "initialize", name: "recordCommands" },
      );
      return client as never;
    },
  };
}
