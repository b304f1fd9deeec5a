/**
 * Typed errors. Every failure carries the stage it happened in and the context needed to find
 * the input again (message id, bucket, key, pipeline, sink), so a log line is enough to act on.
 */

export type Stage =
  | "config"
  | "pattern"
  | "plugin"
  | "receive"
  | "unwrap"
  | "fetch"
  | "decode"
  | "match"
  | "deliver"
  | "ack"
  | "process";

export interface ErrorContext {
  pipeline?: string;
  messageId?: string;
  bucket?: string;
  key?: string;
  sink?: string;
  route?: string;
  [extra: string]: unknown;
}

/**
 * Marks trailrouter's errors by the names of their classes, under a key every copy of this
 * module shares (`Symbol.for`): a plugin package that bundles or installs its own copy of core
 * throws errors the runtime's `instanceof` still recognises.
 */
const KINDS = Symbol.for("trailrouter.error.kinds");

/** The error class names of `errorClass` and its ancestors up to TrailrouterError. */
function kindsOf(errorClass: unknown): readonly string[] {
  const kinds: string[] = [];
  for (let c = errorClass as { errorKind?: unknown } | null; c; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, "errorKind") && typeof c.errorKind === "string") kinds.push(c.errorKind);
  }
  return kinds;
}

export class TrailrouterError extends Error {
  /** The name `instanceof` goes by, across copies of core; each subclass sets its own. */
  static readonly errorKind: string = "TrailrouterError";

  /** `instanceof` by brand: true for an error of this class made by any copy of core. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (value === null || typeof value !== "object") return false;
    const kinds = (value as { [KINDS]?: unknown })[KINDS];
    // A class of its own kind (not a plugin's subclass that set none) is recognised by brand;
    // any other as JavaScript does.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class right of `instanceof`, often a subclass
    if (Object.hasOwn(this, "errorKind") && Array.isArray(kinds) && kinds.includes(this.errorKind)) {
      return true;
    }
    // biome-ignore lint/complexity/noThisInStatic: as above
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  override readonly name: string = "TrailrouterError";
  /** A stable, machine-readable code, e.g. `NoSuchKey`, `RecordTooLarge`. */
  readonly code: string;
  readonly stage: Stage;
  readonly context: ErrorContext;

  constructor(
    stage: Stage,
    code: string,
    message: string,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.stage = stage;
    this.code = code;
    this.context = context;
    Object.defineProperty(this, KINDS, { value: kindsOf(new.target) });
  }

  /** A plain object for structured logs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      stage: this.stage,
      message: this.message,
      ...this.context,
      ...(this.cause instanceof Error ? { cause: this.cause.message } : {}),
    };
  }
}

/** One problem found in a pipeline file, with its path (`pipelines[0].sinks.users.queueUrl`). */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** The pipeline file is unusable. Lists every problem found, not only the first. */
export class ConfigError extends TrailrouterError {
  static override readonly errorKind: string = "ConfigError";
  override readonly name = "ConfigError";
  readonly file: string | undefined;
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], file?: string) {
    const where = file ? ` in ${file}` : "";
    const lines = problems.map((p) => `  ${p.path || "(root)"}: ${p.message}`);
    super(
      "config",
      "InvalidConfig",
      `${problems.length} problem${problems.length === 1 ? "" : "s"}${where}:\n${lines.join("\n")}`,
      file ? { file } : {},
    );
    this.file = file;
    this.problems = problems;
  }
}

/** A plugin could not be loaded, found or created. */
export class PluginError extends TrailrouterError {
  static override readonly errorKind: string = "PluginError";
  override readonly name = "PluginError";
  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super("plugin", code, message, context, options);
  }
}

/** A source message whose body is not a notification we understand. It stays in the queue. */
export class NotificationError extends TrailrouterError {
  static override readonly errorKind: string = "NotificationError";
  override readonly name = "NotificationError";
  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super("unwrap", code, message, context, options);
  }
}

/** An announced object could not be read (missing, refused, too large, network). */
export class ObjectFetchError extends TrailrouterError {
  static override readonly errorKind: string = "ObjectFetchError";
  override readonly name = "ObjectFetchError";
  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super("fetch", code, message, context, options);
  }
}

/** An object's bytes are not a CloudTrail log (corrupt gzip, bad JSON, over the size cap). */
export class DecodeError extends TrailrouterError {
  static override readonly errorKind: string = "DecodeError";
  override readonly name = "DecodeError";
  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super("decode", code, message, context, options);
  }
}

/** Records did not reach a sink. Carries how many failed and the first errors. */
export class DeliveryError extends TrailrouterError {
  static override readonly errorKind: string = "DeliveryError";
  override readonly name = "DeliveryError";
  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super("deliver", code, message, context, options);
  }
}

/** True for an error of trailrouter's, made by any copy of core. */
export function isTrailrouterError(value: unknown): value is TrailrouterError {
  return value instanceof TrailrouterError;
}

/** Turn anything thrown into a TrailrouterError, keeping typed errors as they are. */
export function asTrailrouterError(
  error: unknown,
  stage: Stage,
  context: ErrorContext = {},
): TrailrouterError {
  if (error instanceof TrailrouterError) {
    Object.assign(error.context, { ...context, ...error.context });
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code =
    (error as { name?: string; code?: string } | undefined)?.code ?? (error as Error)?.name ?? "Error";
  return new TrailrouterError(stage, String(code), message, context, { cause: error });
}
