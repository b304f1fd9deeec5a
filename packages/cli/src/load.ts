import {
  ConfigError,
  type LoadedPipelineFile,
  loadPipelineFile,
  PluginError,
  type PluginRegistry,
} from "@trailrouter/core";

export const EXIT_OK = 0;
export const EXIT_FAILURES = 1;
export const EXIT_CONFIG = 2;

/**
 * Loads and validates a pipeline file. A bad file is reported on `err` with every problem and
 * its path, and no stack trace; the caller exits 2.
 */
export async function loadOrReport(
  file: string,
  registry: PluginRegistry,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedPipelineFile | undefined> {
  try {
    return await loadPipelineFile(file, { registry, env });
  } catch (error) {
    if (error instanceof ConfigError) {
      err.write(`${formatConfigError(error, file)}\n`);
      return undefined;
    }
    // A plugin whose schema cannot be composed with the others: a plugin problem, not a crash.
    if (error instanceof PluginError) {
      err.write(`trailrouter: ${file}: ${error.message}\n`);
      return undefined;
    }
    throw error;
  }
}

export function formatConfigError(error: ConfigError, file: string): string {
  const count = error.problems.length;
  const lines = error.problems.map((p) => `  ${p.path || "(file)"}: ${p.message}`);
  return [
    `trailrouter: ${file} is not a valid pipeline file (${count} problem${count === 1 ? "" : "s"}):`,
    ...lines,
  ].join("\n");
}
