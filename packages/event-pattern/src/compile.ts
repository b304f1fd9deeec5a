/**
 * EventBridge event patterns, compiled once and matched against parsed JSON events.
 *
 * Compilation validates the pattern, expands `$or` into alternatives (each a list of field
 * constraints that must all hold) and arranges each alternative's fields as a tree of path
 * segments. Matching walks that tree over the event. Two EventBridge rules shape the walk:
 * - a field's path is its keys joined by dots, however the event nests them: `{"a": {"b": 1}}`
 *   and `{"a.b": 1}` both hold `a.b`;
 * - matching is array-consistent: the fields a pattern reads under an array of objects must all
 *   come from the same element.
 */
import { PatternError } from "./errors.js";
import { compileLeaf, type Leaf } from "./leaf.js";
import { fieldPath, indexPath, isPlainObject } from "./paths.js";

/** A compiled event pattern. */
export interface CompiledPattern {
  /**
   * Whether the event (a parsed JSON value) matches. Works in scratch space kept by the compiled
   * pattern: nothing is allocated per call, except inside node's check of an IPv6 `cidr`.
   */
  matches(event: unknown): boolean;
}

/** One field constraint of a pattern: the leaf that the value at `segments` must satisfy. */
export interface FieldConstraint {
  /** The field's path split on dots: `{"a": {"b.c": [...]}}` gives `["a", "b", "c"]`. */
  readonly segments: readonly string[];
  readonly leaf: Leaf;
}

/** A pattern without `$or`: field constraints that must all hold. */
export type Conjunction = readonly FieldConstraint[];

/**
 * `$or` multiplies: a pattern expanding to more alternatives than this is refused, as EventBridge
 * refuses rules too costly to evaluate.
 */
export const MAX_PATTERN_ALTERNATIVES = 1000;

/**
 * How deep objects may nest in a pattern. A CloudTrail field sits a few levels down; the
 * expansion recurses, so a pattern nested thousands of levels deep is refused with its path
 * instead of overflowing the stack.
 */
export const MAX_PATTERN_DEPTH = 100;

/** Validate a pattern and compile it for matching. Throws a PatternError pointing inside the pattern. */
export function compileEventPattern(pattern: unknown): CompiledPattern {
  return new TreeMatcher(expandEventPattern(pattern).map(buildTree));
}

/** Compile one alternative of an expanded pattern (see `expandEventPattern`) on its own. */
export function compileConjunction(conjunction: Conjunction): CompiledPattern {
  return new TreeMatcher([buildTree(conjunction)]);
}

/**
 * Validate a pattern and expand its `$or`s: the pattern matches an event when any of the returned
 * conjunctions does. Throws a PatternError pointing inside the pattern.
 */
export function expandEventPattern(pattern: unknown): Conjunction[] {
  if (!isPlainObject(pattern)) throw new PatternError("", "Event pattern must be a JSON object");
  return expandObject(pattern, [], "", 1);
}

function expandObject(
  pattern: Record<string, unknown>,
  prefix: readonly string[],
  path: string,
  depth: number,
): Conjunction[] {
  if (depth > MAX_PATTERN_DEPTH) {
    throw new PatternError(path, `Event pattern is nested more than ${MAX_PATTERN_DEPTH} levels deep`);
  }
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new PatternError(path, "Empty objects are not allowed");
  let alternatives: Conjunction[] = [[]];
  for (const key of keys) {
    const value = pattern[key];
    const keyPath = fieldPath(path, key);
    if (key === "$or") {
      alternatives = product(alternatives, expandOr(value, prefix, keyPath, depth), keyPath);
      continue;
    }
    const segments = [...prefix, ...key.split(".")];
    if (Array.isArray(value)) {
      const constraint: FieldConstraint = { segments, leaf: compileLeaf(value, keyPath) };
      alternatives = alternatives.map((conjunction) => [...conjunction, constraint]);
    } else if (isPlainObject(value)) {
      alternatives = product(alternatives, expandObject(value, segments, keyPath, depth + 1), keyPath);
    } else {
      throw new PatternError(keyPath, `"${key}" must be an object or an array`);
    }
  }
  return alternatives;
}

/** `"$or": [{...}, {...}]`: alternatives at the level of the object holding it. */
function expandOr(value: unknown, prefix: readonly string[], path: string, depth: number): Conjunction[] {
  if (!Array.isArray(value) || value.length < 2) {
    throw new PatternError(path, "$or must be an array of at least 2 objects");
  }
  const alternatives: Conjunction[] = [];
  value.forEach((alternative: unknown, index) => {
    const alternativePath = indexPath(path, index);
    if (!isPlainObject(alternative))
      throw new PatternError(alternativePath, "$or alternatives must be objects");
    alternatives.push(...expandObject(alternative, prefix, alternativePath, depth + 1));
    tooComplex(alternatives.length, path);
  });
  return alternatives;
}

function product(left: readonly Conjunction[], right: readonly Conjunction[], path: string): Conjunction[] {
  tooComplex(left.length * right.length, path);
  return left.flatMap((a) => right.map((b) => [...a, ...b]));
}

function tooComplex(alternatives: number, path: string): void {
  if (alternatives > MAX_PATTERN_ALTERNATIVES) {
    throw new PatternError(
      path,
      `Rule is too complex: $or expands to more than ${MAX_PATTERN_ALTERNATIVES} alternatives`,
    );
  }
}

/** Where a field is read from: the objects of the event along its path. */
interface FieldPath {
  /** Number of segments in the path; the root (the event itself) has 0. */
  readonly depth: number;
  /**
   * `keys[i]` reads this field from an object found at depth `i`: the segments from `i` on,
   * joined by dots (`b.c` from the object at `a`, `a.b.c` from the event).
   */
  readonly keys: readonly string[];
  /** `keys[i]` also names an Object.prototype member (`constructor`): read it only as an own property. */
  readonly ownOnly: readonly boolean[];
}

function fieldPathOf(segments: readonly string[]): FieldPath {
  const keys = segments.map((_, from) => segments.slice(from).join("."));
  return { depth: segments.length, keys, ownOnly: keys.map((key) => key in Object.prototype) };
}

/** The value of the field at `path` in an object of the event found at `depth` of that path. */
function readField(object: Record<string, unknown>, path: FieldPath, depth: number): unknown {
  const key = path.keys[depth]!;
  if (path.ownOnly[depth] && !Object.hasOwn(object, key)) return undefined;
  return object[key];
}

/** A field path of one conjunction: the leaves at that path and the longer paths below it. */
interface FieldNode extends FieldPath {
  readonly leaves: readonly Leaf[];
  readonly children: readonly FieldNode[];
}

interface MutableFieldNode extends FieldNode {
  readonly leaves: Leaf[];
  readonly children: MutableFieldNode[];
  readonly bySegment: Map<string, MutableFieldNode>;
}

function buildTree(conjunction: Conjunction): FieldNode {
  const root = newNode([]);
  for (const { segments, leaf } of conjunction) {
    let node = root;
    for (let depth = 1; depth <= segments.length; depth++) {
      const segment = segments[depth - 1]!;
      let child = node.bySegment.get(segment);
      if (!child) {
        child = newNode(segments.slice(0, depth));
        node.bySegment.set(segment, child);
        node.children.push(child);
      }
      node = child;
    }
    node.leaves.push(leaf);
  }
  return root;
}

function newNode(segments: readonly string[]): MutableFieldNode {
  return {
    ...fieldPathOf(segments),
    leaves: [],
    children: [],
    bySegment: new Map(),
  };
}

type JsonObject = Record<string, unknown>;

/** What one field holds in the objects that can see it: no leaf value, leaf values but none matching, a match. */
const ABSENT = 0;
const PRESENT = 1;
const MATCHED = 2;

/**
 * Matches the trees of a pattern's alternatives against an event.
 *
 * The walk keeps a stack of frames: objects of the event, each with the depth of the path that
 * leads to it. Every frame an ancestor field sees is also seen by its descendants, since a key
 * holding dots (`"b.c"`) reaches down several segments at once. The stack lives in the matcher
 * and is reused, so `matches` allocates nothing; it runs synchronously, so calls never overlap.
 */
class TreeMatcher implements CompiledPattern {
  private readonly frameObjects: JsonObject[] = [];
  private readonly frameDepths: number[] = [];
  /** Arrays of objects met at the field being entered, whose elements are tried one at a time. */
  private readonly arrays: unknown[][] = [];
  private arrayTop = 0;

  constructor(private readonly roots: readonly FieldNode[]) {}

  matches(event: unknown): boolean {
    const roots = this.roots;
    for (let r = 0; r < roots.length; r++) {
      if (this.matchRoot(roots[r]!, event)) return true;
    }
    return false;
  }

  private matchRoot(root: FieldNode, event: unknown): boolean {
    this.arrayTop = 0;
    if (typeof event !== "object" || event === null) return this.matchChildren(root, 0, 0);
    if (Array.isArray(event)) {
      this.arrays[0] = event;
      this.arrayTop = 1;
      return this.tryArrays(root, 0, 0, 0, 1);
    }
    this.frameObjects[0] = event as JsonObject;
    this.frameDepths[0] = 0;
    return this.matchChildren(root, 0, 1);
  }

  /** Every child field of `node` holds, reading from frames `[low, high)`. */
  private matchChildren(node: FieldNode, low: number, high: number): boolean {
    const children = node.children;
    for (let c = 0; c < children.length; c++) {
      if (!this.matchField(children[c]!, low, high)) return false;
    }
    return true;
  }

  /** The leaves at `node` and every field below it hold, reading from frames `[low, high)`. */
  private matchField(node: FieldNode, low: number, high: number): boolean {
    const leaves = node.leaves;
    for (let l = 0; l < leaves.length; l++) {
      if (!this.matchLeaf(leaves[l]!, node, low, high)) return false;
    }
    if (node.children.length === 0) return true;

    // The objects at this path become frames for the fields below it.
    let top = high;
    const arraysLow = this.arrayTop;
    for (let f = low; f < high; f++) {
      const value = readField(this.frameObjects[f]!, node, this.frameDepths[f]!);
      if (typeof value !== "object" || value === null) continue;
      if (Array.isArray(value)) {
        this.arrays[this.arrayTop++] = value;
      } else {
        this.frameObjects[top] = value as JsonObject;
        this.frameDepths[top] = node.depth;
        top++;
      }
    }
    const arraysHigh = this.arrayTop;
    const matched =
      arraysLow === arraysHigh
        ? this.matchChildren(node, low, top)
        : this.tryArrays(node, low, top, arraysLow, arraysHigh);
    this.arrayTop = arraysLow;
    return matched;
  }

  /** Choose one object element of each array in `[next, end)`, then match the children of `node`. */
  private tryArrays(node: FieldNode, low: number, top: number, next: number, end: number): boolean {
    if (next === end) return this.matchChildren(node, low, top);
    const array = this.arrays[next]!;
    if (!containsObject(array)) return this.tryArrays(node, low, top, next + 1, end);
    return this.tryElements(array, node, low, top, next, end);
  }

  private tryElements(
    array: readonly unknown[],
    node: FieldNode,
    low: number,
    top: number,
    next: number,
    end: number,
  ): boolean {
    for (let e = 0; e < array.length; e++) {
      const element = array[e];
      if (typeof element !== "object" || element === null) continue;
      if (Array.isArray(element)) {
        if (this.tryElements(element, node, low, top, next, end)) return true;
        continue;
      }
      this.frameObjects[top] = element as JsonObject;
      this.frameDepths[top] = node.depth;
      if (this.tryArrays(node, low, top + 1, next + 1, end)) return true;
    }
    return false;
  }

  private matchLeaf(leaf: Leaf, node: FieldNode, low: number, high: number): boolean {
    let seen = ABSENT;
    for (let f = low; f < high; f++) {
      const value = readField(this.frameObjects[f]!, node, this.frameDepths[f]!);
      if (value === undefined) continue;
      const result = testLeafValues(leaf, value);
      if (result === MATCHED) return true;
      if (result === PRESENT) seen = PRESENT;
    }
    return seen === ABSENT && leaf.matchesAbsent;
  }
}

/** Test the leaf values of one field value: the value itself, or the scalars of an array, at any nesting. */
function testLeafValues(leaf: Leaf, value: unknown): number {
  if (typeof value !== "object" || value === null) return leaf.test(value) ? MATCHED : PRESENT;
  if (!Array.isArray(value)) return ABSENT;
  let seen = ABSENT;
  for (let i = 0; i < value.length; i++) {
    const result = testLeafValues(leaf, value[i]);
    if (result === MATCHED) return MATCHED;
    if (result === PRESENT) seen = PRESENT;
  }
  return seen;
}

function containsObject(array: readonly unknown[]): boolean {
  for (let i = 0; i < array.length; i++) {
    const element = array[i];
    if (
      typeof element === "object" &&
      element !== null &&
      (!Array.isArray(element) || containsObject(element))
    ) {
      return true;
    }
  }
  return false;
}
