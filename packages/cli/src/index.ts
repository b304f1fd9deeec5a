export { demoCommand } from "./commands/demo.js";
export { pluginReference } from "./commands/plugins.js";
export { type RunCommandOptions, runCommand, runLoaded } from "./commands/run.js";
export { validateCommand } from "./commands/validate.js";
export { EXIT_CONFIG, EXIT_FAILURES, EXIT_OK, formatConfigError, loadOrReport } from "./load.js";
export { createLogger } from "./logger.js";
export { type CliIo, main } from "./main.js";
export { createDefaultRegistry } from "./registry.js";
export { formatRunSummary } from "./summary.js";
