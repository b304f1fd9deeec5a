/** Paths inside a pattern, as PatternError reports them: `detail.eventName[0].prefix`. */

export function fieldPath(parent: string, key: string): string {
  return parent === "" ? key : `${parent}.${key}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** Plain JSON object: not an array, not null, not a class instance (Date, Map, ...). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A value JSON can spell as a number (YAML may also produce Infinity or NaN, which JSON cannot). */
export function isJsonNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** Short JSON rendering of a pattern value for an error message. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
