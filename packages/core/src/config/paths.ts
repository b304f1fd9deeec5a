/**
 * Paths into a pipeline file, written one way everywhere: `pipelines[0].sinks.users.queueUrl`,
 * with keys that are not plain identifiers quoted (`sinks["my sink"]`). The root is "".
 */

/** One step into a document: an array index or an object key. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["pipelines", 0, "sinks", "my sink"]` → `pipelines[0].sinks["my sink"]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let path = "";
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += path === "" ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** `["pipelines", 0, "sinks", "a/b"]` → `/pipelines/0/sinks/a~1b`, as ajv writes `instancePath`. */
export function formatPointer(segments: readonly PathSegment[]): string {
  return segments.map((s) => `/${String(s).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/**
 * The segments of a JSON pointer (ajv's `instancePath`, e.g. `/pipelines/0/sinks/my sink`).
 * A pointer cannot tell an array index from an object key made of digits; given the document it
 * points into, digits are an index only where the container is an array.
 */
export function pointerSegments(pointer: string, document?: unknown): PathSegment[] {
  if (pointer === "") return [];
  const segments: PathSegment[] = [];
  let container: unknown = document;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    const isIndex = /^(0|[1-9][0-9]*)$/.test(key) && (document === undefined || Array.isArray(container));
    segments.push(isIndex ? Number(key) : key);
    container =
      container !== null && typeof container === "object"
        ? (container as Record<string, unknown>)[key]
        : undefined;
  }
  return segments;
}

/** A JSON pointer as a path: `/pipelines/0/sinks/users` → `pipelines[0].sinks.users`. */
export function pointerToPath(pointer: string, document?: unknown): string {
  return formatPath(pointerSegments(pointer, document));
}

/** A path relative to `base` (as a plugin's `validate` hook reports it), made absolute. */
export function joinPath(base: string, relative: string): string {
  if (relative === "") return base;
  if (base === "" || relative.startsWith("[")) return `${base}${relative}`;
  return `${base}.${relative}`;
}
