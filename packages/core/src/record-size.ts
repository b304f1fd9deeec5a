/**
 * A cheap lower bound of a record's JSON size, so the runtime can refuse a record too large for
 * every sink before any sink encodes it.
 */

/**
 * A lower bound of `Buffer.byteLength(JSON.stringify(value))`, found by walking the value without
 * serialising it. A string counts 2 + its UTF-16 units (UTF-8 takes at least one byte per unit,
 * and escapes only add), a key 3 + its units, a number its text; brackets, commas, `true`, `false`
 * and `null` are exact. The walk stops as soon as the count exceeds `cap` and returns it (a value
 * over `cap`), so a 150 MB record costs no more than the walk up to the cap. Iterative: a record
 * may be nested deeper than the call stack. A value with a cycle is walked until the cap: give a
 * finite one.
 */
export function jsonBytesAtLeast(value: unknown, cap: number): number {
  const top = jsonValueOf(value, "");
  // JSON.stringify gives no text at all for these.
  if (omitted(top)) return 0;
  let bytes = 0;
  const stack: unknown[] = [top];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "string") bytes += 2 + item.length;
    else if (typeof item === "number") bytes += Number.isFinite(item) ? String(item).length : 4;
    else if (typeof item === "boolean") bytes += item ? 4 : 5;
    else if (typeof item === "bigint") bytes += String(item).length;
    else if (item === null) bytes += 4;
    else if (Array.isArray(item)) {
      // Brackets and commas first: an array too long for the cap is not looked into.
      bytes += 2 + Math.max(0, item.length - 1);
      for (let index = item.length - 1; index >= 0 && bytes <= cap; index--) {
        const element = jsonValueOf(item[index], String(index));
        // An element with no JSON text is written as null.
        if (omitted(element)) bytes += 4;
        else stack.push(element);
      }
    } else {
      bytes += 2;
      const object = item as Record<string, unknown>;
      let members = 0;
      for (const key of Object.keys(object)) {
        const member = jsonValueOf(object[key], key);
        // A member with no JSON text is left out, key and all.
        if (omitted(member)) continue;
        bytes += 3 + key.length + (members > 0 ? 1 : 0);
        members++;
        stack.push(member);
        if (bytes > cap) return bytes;
      }
    }
    if (bytes > cap) return bytes;
  }
  return bytes;
}

/** What JSON.stringify writes for `value` found under `key`: its toJSON result, a boxed primitive unboxed. */
function jsonValueOf(value: unknown, key: string): unknown {
  const toJson = typeof value === "object" && value !== null ? (value as Partial<ToJson>).toJSON : undefined;
  const result = typeof toJson === "function" ? toJson.call(value, key) : value;
  if (result instanceof Number || result instanceof String || result instanceof Boolean)
    return result.valueOf();
  return result;
}

interface ToJson {
  toJSON(key: string): unknown;
}

function omitted(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}
