import { Command, CommanderError, Option } from "commander";
import type { LevelWithSilent } from "pino";
import { EXIT_CONFIG, EXIT_FAILURES, formatConfigError } from "./load.js";
import { createLogger, LOG_LEVELS } from "./logger.js";

// Commands load what they need when they run: the AWS SDK clients and the embedded emulator
// take a second to import, which `test-pattern` and `--help` should not pay.
const commands = {
  demo: () => import("./commands/demo.js"),
  newPlugin: () => import("./commands/new-plugin.js"),
  plugins: () => import("./commands/plugins.js"),
  run: () => import("./commands/run.js"),
  schema: () => import("./commands/schema.js"),
  testPattern: () => import("./commands/test-pattern.js"),
  validate: () => import("./commands/validate.js"),
  registry: () => import("./registry.js"),
};

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Runs the `trailrouter` command line and resolves to the process exit code. */
export async function main(
  argv: string[],
  io: CliIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  quietNodeVersionWarning();
  let exitCode = 0;
  const logLevel = new Option("--log-level <level>", "log level (or LOG_LEVEL)")
    .choices(LOG_LEVELS)
    .env("LOG_LEVEL")
    .default("info");

  const program = new Command("trailrouter")
    .description("Route AWS CloudTrail records from S3 log files to queues, topics and event buses")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .showHelpAfterError();

  program
    .command("run")
    .description("run every pipeline of a pipeline file")
    .requiredOption("-c, --config <file>", "pipeline file (YAML or JSON)")
    .option(
      "--once",
      "stop when every source queue answers empty; print a summary; exit 1 if any envelope failed",
    )
    .addOption(logLevel)
    .action(async (opts: { config: string; once?: boolean; logLevel: LevelWithSilent }) => {
      const logger = createLogger(opts.logLevel);
      const [{ runCommand }, { createDefaultRegistry }] = await Promise.all([
        commands.run(),
        commands.registry(),
      ]);
      exitCode = await runCommand(opts.config, {
        once: Boolean(opts.once),
        registry: createDefaultRegistry(),
        logger,
        ...io,
      });
    });

  program
    .command("validate")
    .description("check a pipeline file: exit 0, or 2 with every problem and its path")
    .requiredOption("-c, --config <file>", "pipeline file (YAML or JSON)")
    .action(async (opts: { config: string }) => {
      const [{ validateCommand }, { createDefaultRegistry }] = await Promise.all([
        commands.validate(),
        commands.registry(),
      ]);
      exitCode = await validateCommand(opts.config, createDefaultRegistry(), io);
    });

  program
    .command("plugins")
    .description("print the reference of every plugin and its options (Markdown)")
    .option("-c, --config <file>", "also the plugins this pipeline file loads (its plugins: list)")
    .action(async (opts: { config?: string }) => {
      const [{ pluginReference }, registry] = await Promise.all([
        commands.plugins(),
        fileRegistry(opts.config),
      ]);
      if (!registry) {
        exitCode = EXIT_CONFIG;
        return;
      }
      io.out.write(pluginReference(registry));
    });

  program
    .command("schema")
    .description(
      "print the JSON Schema of a pipeline file, for editors (# yaml-language-server: $schema=FILE)",
    )
    .option("-c, --config <file>", "with the plugins this pipeline file loads (its plugins: list)")
    .action(async (opts: { config?: string }) => {
      const [{ schemaText }, registry] = await Promise.all([commands.schema(), fileRegistry(opts.config)]);
      if (!registry) {
        exitCode = EXIT_CONFIG;
        return;
      }
      io.out.write(schemaText(registry));
    });

  program
    .command("test-pattern")
    .description(
      "test an event pattern against one event (a CloudTrail record): print true or false; exit 2 with the error's path if the pattern is invalid",
    )
    .requiredOption("-p, --pattern <pattern>", "the event pattern: a JSON file, or inline JSON")
    .requiredOption("-e, --event <event>", "the event: a JSON file, or inline JSON")
    .action(async (opts: { pattern: string; event: string }) => {
      const { testPatternCommand } = await commands.testPattern();
      exitCode = await testPatternCommand(opts, io);
    });

  program
    .command("demo")
    .description("run examples/cmdb against a local AWS emulator started in-process (no account needed)")
    .addOption(logLevel.default("warn"))
    .action(async (opts: { logLevel: LevelWithSilent }) => {
      const { demoCommand } = await commands.demo();
      exitCode = await demoCommand({ logger: createLogger(opts.logLevel), ...io });
    });

  program
    .command("new-plugin")
    .description(
      "write a plugin package to start from: the plugin, a unit test with @trailrouter/testing, a README",
    )
    .argument("<kind>", "the kind of plugin: sink")
    .argument("<name>", "its type in pipeline files (lowercase letters, digits and -), e.g. webhook")
    .option(
      "-d, --dir <dir>",
      "where to write it, a new or empty directory (default: ./trailrouter-KIND-NAME)",
    )
    .action(async (kind: string, name: string, opts: { dir?: string }) => {
      const { newPluginCommand } = await commands.newPlugin();
      exitCode = await newPluginCommand(kind, name, opts, io);
    });

  /** The default registry, plus the plugins `file` lists; undefined (reported) when they cannot load. */
  async function fileRegistry(file: string | undefined) {
    const { createDefaultRegistry } = await commands.registry();
    const registry = createDefaultRegistry();
    if (file === undefined) return registry;
    const { loadFilePlugins, ConfigError } = await import("@trailrouter/core");
    const problems = await loadFilePlugins(file, { registry });
    if (problems.length === 0) return registry;
    io.err.write(`${formatConfigError(new ConfigError(problems, file), file)}\n`);
    return undefined;
  }

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; usage mistakes are configuration mistakes.
      return error.exitCode === 0 ? 0 : EXIT_CONFIG;
    }
    io.err.write(`trailrouter: ${(error as Error).message}\n`);
    return EXIT_FAILURES;
  }
}

/**
 * The AWS SDK warns on every start that its 2027 releases need Node 22. The code has no Node 20
 * assumption, so in a CLI's output the warning is noise; the SDK's own switch turns it off.
 */
function quietNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
