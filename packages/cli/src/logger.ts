import { type LevelWithSilent, type Logger, pino } from "pino";
import pretty from "pino-pretty";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * Logs go to stderr: JSON lines for machines, or readable lines when stderr is a terminal.
 * Synchronous writes, so nothing is lost when the process exits right after an error.
 */
export function createLogger(level: LevelWithSilent, options: { pretty?: boolean } = {}): Logger {
  const readable = options.pretty ?? Boolean(process.stderr.isTTY);
  const destination = readable
    ? pretty({ destination: 2, sync: true, colorize: Boolean(process.stderr.isTTY), ignore: "pid,hostname" })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: { service: "trailrouter" } }, destination);
}
