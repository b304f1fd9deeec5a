import { readFile } from "node:fs/promises";
import { compileEventPattern, PatternError } from "@trailrouter/event-pattern";
import { EXIT_CONFIG, EXIT_OK } from "../load.js";

export interface TestPatternOptions {
  /** The event pattern: a JSON file's path, or inline JSON. */
  readonly pattern: string;
  /** The event (a CloudTrail record): a JSON file's path, or inline JSON. */
  readonly event: string;
}

/**
 * `trailrouter test-pattern`, like `aws events test-event-pattern` but applied to the record
 * itself: prints `true` or `false` and exits 0; an invalid pattern, or an argument that is not
 * JSON, is reported with where it is wrong, exit 2.
 */
export async function testPatternCommand(
  options: TestPatternOptions,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  let pattern: unknown;
  let event: unknown;
  try {
    pattern = await readJsonArgument("--pattern", options.pattern);
    event = await readJsonArgument("--event", options.event);
  } catch (error) {
    io.err.write(`trailrouter: ${(error as Error).message}\n`);
    return EXIT_CONFIG;
  }
  let matches: boolean;
  try {
    matches = compileEventPattern(pattern).matches(event);
  } catch (error) {
    if (!(error instanceof PatternError)) throw error;
    io.err.write(`trailrouter: invalid event pattern: ${error.path || "(pattern)"}: ${error.reason}\n`);
    return EXIT_CONFIG;
  }
  io.out.write(`${matches}\n`);
  return EXIT_OK;
}

/** Inline JSON when the argument starts like a JSON object or array, else a file holding JSON. */
async function readJsonArgument(option: string, argument: string): Promise<unknown> {
  const inline = /^\s*[{[]/.test(argument);
  let text = argument;
  if (!inline) {
    try {
      text = await readFile(argument, "utf8");
    } catch (error) {
      throw new Error(`${option}: cannot read ${argument}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const source = inline ? "inline value" : argument;
    throw new Error(`${option}: ${source} is not valid JSON: ${(error as Error).message}`);
  }
}
