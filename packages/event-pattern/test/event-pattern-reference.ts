/**
 * A slow, literal interpreter of EventBridge event patterns, written from the rules in the
 * reference (not from the compiled matcher), to check the compiled matchers against.
 *
 * Arrays of objects: a pattern matches when, for SOME choice of one object element in every
 * array of the event, the pattern holds of the event seen through that choice. Seen through a
 * choice, a field's values are the scalars at its path, where arrays show all their scalar
 * elements and only their chosen object. Paths join keys with dots, so `{"a": {"b": 1}}` and
 * `{"a.b": 1}` both hold 1 at `a.b`.
 */
import { BlockList, isIP } from "node:net";

type Json = Record<string, unknown>;

export function referenceMatches(pattern: Json, event: unknown): boolean {
  for (const choice of choices(event)) {
    if (holds(pattern, "", fieldsOf(event, choice))) return true;
  }
  return false;
}

/** Every array of the event (arrays nested in arrays are part of their outer array). */
function arraysOf(value: unknown, found: unknown[][] = []): unknown[][] {
  if (Array.isArray(value)) {
    found.push(value);
    for (const object of objectsIn(value)) for (const v of Object.values(object)) arraysOf(v, found);
  } else if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) arraysOf(v, found);
  }
  return found;
}

/** The objects of an array, at any depth of nested arrays. */
function objectsIn(array: unknown[]): Json[] {
  return array.flatMap((element) =>
    Array.isArray(element)
      ? objectsIn(element)
      : typeof element === "object" && element !== null
        ? [element as Json]
        : [],
  );
}

/** Every way to choose one object of each array that has objects. */
function* choices(event: unknown): Generator<Map<unknown[], Json>> {
  const arrays = arraysOf(event).filter((array) => objectsIn(array).length > 0);
  function* from(i: number, chosen: Map<unknown[], Json>): Generator<Map<unknown[], Json>> {
    if (i === arrays.length) {
      yield chosen;
      return;
    }
    for (const object of objectsIn(arrays[i]!)) {
      yield* from(i + 1, new Map(chosen).set(arrays[i]!, object));
    }
  }
  yield* from(0, new Map());
}

function fieldsOf(event: unknown, choice: Map<unknown[], Json>): Map<string, unknown[]> {
  const fields = new Map<string, unknown[]>();
  const visit = (value: unknown, path: string | undefined, array?: unknown[]) => {
    if (Array.isArray(value)) {
      for (const element of value) {
        if (Array.isArray(element)) visit(element, path, array ?? value);
        else if (typeof element !== "object" || element === null) visit(element, path);
      }
      if (!array) {
        const chosen = choice.get(value);
        if (chosen) visit(chosen, path);
      }
    } else if (typeof value === "object" && value !== null) {
      for (const [key, v] of Object.entries(value)) visit(v, path === undefined ? key : `${path}.${key}`);
    } else if (path !== undefined) {
      fields.set(path, [...(fields.get(path) ?? []), value]);
    }
  };
  visit(event, undefined);
  return fields;
}

function holds(pattern: Json, prefix: string, fields: Map<string, unknown[]>): boolean {
  return Object.entries(pattern).every(([key, node]) => {
    if (key === "$or") return (node as Json[]).some((alternative) => holds(alternative, prefix, fields));
    const path = prefix === "" ? key : `${prefix}.${key}`;
    if (Array.isArray(node)) return leafHolds(node, fields.get(path) ?? []);
    return holds(node as Json, path, fields);
  });
}

function leafHolds(leaf: unknown[], values: unknown[]): boolean {
  if (values.length === 0) return leaf.some((part) => isObject(part) && part.exists === false);
  return leaf.some((part) => values.some((value) => partHolds(part, value)));
}

function partHolds(part: unknown, value: unknown): boolean {
  if (!isObject(part)) return part === value;
  const [operator, operand] = Object.entries(part)[0]!;
  const text = typeof value === "string" ? value : undefined;
  switch (operator) {
    case "exists":
      return operand === true;
    case "prefix":
    case "suffix":
    case "equals-ignore-case":
      return text !== undefined && compareText(operator, operand, text);
    case "wildcard":
      return text !== undefined && wildcardRegExp(operand as string).test(text);
    case "numeric":
      return typeof value === "number" && numericHolds(operand as unknown[], value);
    case "cidr":
      return text !== undefined && cidrHolds(operand as string, text);
    case "anything-but":
      return anythingBut(operand, value);
    default:
      throw new Error(`reference: unknown operator ${operator}`);
  }
}

/** prefix, suffix, equals-ignore-case; `{"prefix": {"equals-ignore-case": "X"}}` ignores case. */
function compareText(operator: string, operand: unknown, text: string): boolean {
  const ignoreCase = operator === "equals-ignore-case" || isObject(operand);
  const wanted = isObject(operand) ? (operand["equals-ignore-case"] as string) : (operand as string);
  const [a, b] = ignoreCase ? [text.toLowerCase(), wanted.toLowerCase()] : [text, wanted];
  if (operator === "prefix") return a.startsWith(b);
  if (operator === "suffix") return a.endsWith(b);
  return a === b;
}

function wildcardRegExp(wildcard: string): RegExp {
  let source = "";
  for (let i = 0; i < wildcard.length; i++) {
    const char = wildcard[i]!;
    if (char === "\\") source += escapeRegExp(wildcard[++i]!);
    else source += char === "*" ? ".*" : escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, "s");
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

function numericHolds(terms: unknown[], value: number): boolean {
  for (let i = 0; i < terms.length; i += 2) {
    const bound = terms[i + 1] as number;
    const ok = {
      "=": value === bound,
      "<": value < bound,
      "<=": value <= bound,
      ">": value > bound,
      ">=": value >= bound,
    }[terms[i] as "=" | "<" | "<=" | ">" | ">="];
    if (!ok) return false;
  }
  return true;
}

function cidrHolds(block: string, text: string): boolean {
  const [address, bits] = block.split("/") as [string, string];
  const family = isIP(text);
  if (family === 0) return false;
  const list = new BlockList();
  list.addSubnet(address, Number(bits), isIP(address) === 4 ? "ipv4" : "ipv6");
  return list.check(text, family === 4 ? "ipv4" : "ipv6");
}

/** A value of another type than the excluded ones is never excluded. */
function anythingBut(operand: unknown, value: unknown): boolean {
  if (!isObject(operand)) return !(Array.isArray(operand) ? operand : [operand]).includes(value);
  if (typeof value !== "string") return true;
  const [operator, inner] = Object.entries(operand)[0]!;
  const excluded = Array.isArray(inner) ? inner : [inner];
  if (operator === "wildcard") return !excluded.some((w) => wildcardRegExp(w as string).test(value));
  return !excluded.some((text) => compareText(operator, text, value));
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
