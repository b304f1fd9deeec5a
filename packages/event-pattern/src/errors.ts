/** An event pattern that EventBridge would refuse. `path` points inside the pattern. */
export class PatternError extends Error {
  override readonly name = "PatternError";
  /** A stable, machine-readable code. */
  readonly code = "InvalidEventPattern";
  /** Where in the pattern: `detail.eventName[0].prefix`; empty for the pattern as a whole. */
  readonly path: string;
  /** What is wrong there, without the path. */
  readonly reason: string;
  /** The pattern's name, when it was compiled in a set by `compilePatterns`. */
  readonly pattern: string | undefined;

  constructor(path: string, reason: string, options: { pattern?: string } = {}) {
    super(path ? `${path}: ${reason}` : reason);
    this.path = path;
    this.reason = reason;
    this.pattern = options.pattern;
  }
}
