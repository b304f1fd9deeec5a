/**
 * Leaves of an event pattern: the arrays of values and operators (`["a", {"prefix": "b"}]`) that
 * one field must satisfy. A leaf is compiled on its own, without the rest of the pattern, so a
 * matcher that merges many patterns can index and share leaves.
 */

import { CidrBlock } from "./cidr.js";
import { PatternError } from "./errors.js";
import { NumericRange } from "./numeric.js";
import { fieldPath, indexPath, isJsonNumber, isPlainObject } from "./paths.js";
import { Wildcard } from "./wildcard.js";

/** One operator of a leaf, tested against one leaf value of the event (string, number, boolean or null). */
export interface ValuePredicate {
  /** The operator: `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`, `numeric`, `cidr`. */
  readonly kind: string;
  test(value: unknown): boolean;
}

/** The exact values of a leaf, by type: the string "300" and the number 300 never meet. */
export interface ExactValues {
  readonly strings: ReadonlySet<string>;
  /** Compared by value: 300 and 300.0 are the same number. */
  readonly numbers: ReadonlySet<number>;
  readonly true: boolean;
  readonly false: boolean;
  readonly null: boolean;
}

/**
 * A compiled leaf: the values and operators of one leaf array, ORed. A field's leaf values are
 * its scalar value, or the scalar elements of its array value; objects are not leaf values.
 */
export class Leaf {
  constructor(
    readonly exact: ExactValues,
    readonly operators: readonly ValuePredicate[],
    /** `{"exists": true}`: any leaf value satisfies the leaf. */
    readonly matchesAnyValue: boolean,
    /** `{"exists": false}`: the leaf holds when the field has no leaf value at all. */
    readonly matchesAbsent: boolean,
  ) {}

  /** Whether one leaf value of the event satisfies the leaf. */
  test(value: unknown): boolean {
    if (this.matchesAnyValue) return true;
    const exact = this.exact;
    switch (typeof value) {
      case "string":
        if (exact.strings.has(value)) return true;
        break;
      case "number":
        if (exact.numbers.has(value)) return true;
        break;
      case "boolean":
        if (value ? exact.true : exact.false) return true;
        break;
      default:
        if (value === null && exact.null) return true;
    }
    const operators = this.operators;
    for (let i = 0; i < operators.length; i++) {
      if (operators[i]!.test(value)) return true;
    }
    return false;
  }
}

/** Compile one leaf array of a pattern. `path` is the leaf's path, for errors. */
export function compileLeaf(values: readonly unknown[], path: string): Leaf {
  if (values.length === 0) throw new PatternError(path, "Empty arrays are not allowed");
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const exact = { strings, numbers, true: false, false: false, null: false };
  const operators: ValuePredicate[] = [];
  let matchesAnyValue = false;
  let matchesAbsent = false;

  values.forEach((value: unknown, index) => {
    const valuePath = indexPath(path, index);
    if (typeof value === "string") strings.add(value);
    else if (isJsonNumber(value)) numbers.add(value);
    else if (typeof value === "boolean") exact[value ? "true" : "false"] = true;
    else if (value === null) exact.null = true;
    else if (isPlainObject(value)) {
      const [name, operand] = matchExpression(value, valuePath);
      const operatorPath = fieldPath(valuePath, name);
      if (name === "exists") {
        if (typeof operand !== "boolean") {
          throw new PatternError(operatorPath, "exists match pattern must be either true or false.");
        }
        if (operand) matchesAnyValue = true;
        else matchesAbsent = true;
      } else {
        operators.push(compileOperator(name, operand, operatorPath));
      }
    } else {
      throw new PatternError(valuePath, "Match value must be String, number, true, false, or null");
    }
  });
  return new Leaf(exact, operators, matchesAnyValue, matchesAbsent);
}

/** The single `name: operand` pair of a match expression such as `{"prefix": "us-"}`. */
function matchExpression(expression: Record<string, unknown>, path: string): [string, unknown] {
  const names = Object.keys(expression);
  if (names.length === 0) throw new PatternError(path, "Empty objects are not allowed");
  if (names.length > 1) throw new PatternError(path, "Only one key allowed in match expression");
  const name = names[0]!;
  return [name, expression[name]];
}

function compileOperator(name: string, operand: unknown, path: string): ValuePredicate {
  switch (name) {
    case "prefix":
    case "suffix":
      return compileAffix(name, operand, path);
    case "equals-ignore-case": {
      const text = requireString(name, operand, path);
      return new StringOperator(name, ignoreCase(text, "whole"), { at: "whole", text, ignoreCase: true });
    }
    case "wildcard": {
      const wildcard = new Wildcard(requireString(name, operand, path), path);
      return new StringOperator(name, (value) => wildcard.test(value), wildcardAnchor(wildcard));
    }
    case "anything-but":
      return compileAnythingBut(operand, path);
    case "numeric":
      return NumericRange.compile(operand, path);
    case "cidr":
      return new CidrBlock(operand, path);
    default:
      throw new PatternError(path, `Unrecognized match type ${name}`);
  }
}

/** `{"prefix": "us-"}` or `{"prefix": {"equals-ignore-case": "US-"}}`, and the same for suffix. */
function compileAffix(name: "prefix" | "suffix", operand: unknown, path: string): ValuePredicate {
  if (isPlainObject(operand)) {
    const [inner, text] = matchExpression(operand, path);
    const innerPath = fieldPath(path, inner);
    if (inner !== "equals-ignore-case")
      throw new PatternError(innerPath, `Unsupported ${name} pattern: ${inner}`);
    const affix = requireString(inner, text, innerPath);
    return new StringOperator(name, ignoreCase(affix, name), {
      at: name === "prefix" ? "start" : "end",
      text: affix,
      ignoreCase: true,
    });
  }
  const affix = requireString(name, operand, path);
  return new StringOperator(
    name,
    name === "prefix" ? (value) => value.startsWith(affix) : (value) => value.endsWith(affix),
    { at: name === "prefix" ? "start" : "end", text: affix, ignoreCase: false },
  );
}

/**
 * The literal text a wildcard pins to the value's start, end or whole: its first piece, else
 * its last piece; none for a wildcard that starts and ends with a star.
 */
function wildcardAnchor(wildcard: Wildcard): StringAnchor | undefined {
  const pieces = wildcard.pieces;
  const head = pieces[0]!;
  if (pieces.length === 1) return { at: "whole", text: head, ignoreCase: false };
  if (head !== "") return { at: "start", text: head, ignoreCase: false };
  const tail = pieces[pieces.length - 1]!;
  return tail === "" ? undefined : { at: "end", text: tail, ignoreCase: false };
}

/**
 * `anything-but`: the field must have a leaf value that is not excluded. Values of another type
 * than the excluded ones (null, booleans, numbers against strings) are never excluded.
 */
function compileAnythingBut(operand: unknown, path: string): ValuePredicate {
  if (typeof operand === "string" || isJsonNumber(operand)) return anythingButValues([operand], path);
  if (Array.isArray(operand)) return anythingButValues(operand, path);
  if (!isPlainObject(operand)) {
    throw new PatternError(
      path,
      "Value of anything-but must be a string, a number, an array of strings or of numbers, or an object",
    );
  }
  const [name, inner] = matchExpression(operand, path);
  const innerPath = fieldPath(path, name);
  switch (name) {
    case "prefix":
    case "suffix": {
      if (isPlainObject(inner)) {
        throw new PatternError(
          innerPath,
          `Unsupported anything-but pattern: ${name} with equals-ignore-case`,
        );
      }
      const affix = requireString(name, inner, innerPath);
      if (affix === "") throw new PatternError(innerPath, `Null ${name} not allowed`);
      return new AnythingButString(
        name === "prefix" ? (value) => value.startsWith(affix) : (value) => value.endsWith(affix),
      );
    }
    case "equals-ignore-case":
      return new AnythingButString(
        anyOf(stringList(name, inner, innerPath).map((text) => ignoreCase(text, "whole"))),
      );
    case "wildcard":
      return new AnythingButString(
        anyOf(
          stringList(name, inner, innerPath).map((text, index) => {
            const wildcard = new Wildcard(
              text,
              Array.isArray(inner) ? indexPath(innerPath, index) : innerPath,
            );
            return (value: string) => wildcard.test(value);
          }),
        ),
      );
    default:
      throw new PatternError(innerPath, `Unsupported anything-but pattern: ${name}`);
  }
}

/** `{"anything-but": "x" | 5 | ["a", "b"] | [1, 2]}`: all strings or all numbers. */
function anythingButValues(values: readonly unknown[], path: string): ValuePredicate {
  if (values.length === 0) throw new PatternError(path, "Empty arrays are not allowed");
  const strings = new Set<string>();
  const numbers = new Set<number>();
  values.forEach((value, index) => {
    if (typeof value === "string") strings.add(value);
    else if (isJsonNumber(value)) numbers.add(value);
    else
      throw new PatternError(
        indexPath(path, index),
        "Inside anything but list, start|null|boolean is not supported.",
      );
  });
  if (strings.size > 0 && numbers.size > 0) {
    throw new PatternError(
      path,
      "Inside anything but list, either all values are number or string, mixed type is not supported",
    );
  }
  return new AnythingButValues(strings, numbers);
}

/** A string, or a non-empty array of strings (anything-but's equals-ignore-case and wildcard). */
function stringList(name: string, operand: unknown, path: string): string[] {
  if (!Array.isArray(operand)) return [requireString(name, operand, path)];
  if (operand.length === 0) throw new PatternError(path, "Empty arrays are not allowed");
  return operand.map((value: unknown, index) => {
    if (typeof value !== "string") {
      throw new PatternError(
        indexPath(path, index),
        `Inside anything-but/${name} list, number|start|null|boolean is not supported.`,
      );
    }
    return value;
  });
}

function requireString(name: string, operand: unknown, path: string): string {
  if (typeof operand !== "string") throw new PatternError(path, `${name} match pattern must be a string`);
  return operand;
}

/** A case-insensitive comparison (Unicode simple case folding) that allocates nothing per call. */
function ignoreCase(text: string, anchor: "whole" | "prefix" | "suffix"): (value: string) => boolean {
  const escaped = text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
  const source = anchor === "whole" ? `^${escaped}$` : anchor === "prefix" ? `^${escaped}` : `${escaped}$`;
  const expression = new RegExp(source, "iu");
  return (value) => expression.test(value);
}

function anyOf(tests: readonly ((value: string) => boolean)[]): (value: string) => boolean {
  if (tests.length === 1) return tests[0]!;
  return (value) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(value)) return true;
    return false;
  };
}

/**
 * Literal text that a string operator requires at the value's start, end or whole: every value
 * the operator accepts has it there. An index over many patterns looks operators up by it.
 */
export interface StringAnchor {
  readonly at: "start" | "end" | "whole";
  readonly text: string;
  /** Compared ignoring case (Unicode simple case folding), as the operator compares. */
  readonly ignoreCase: boolean;
}

/** An operator that only strings can satisfy: prefix, suffix, equals-ignore-case, wildcard. */
export class StringOperator implements ValuePredicate {
  constructor(
    readonly kind: string,
    private readonly matchString: (value: string) => boolean,
    /** Absent when the operator pins no text (a wildcard between two stars). */
    readonly anchor: StringAnchor | undefined,
  ) {}

  test(value: unknown): boolean {
    return typeof value === "string" && this.matchString(value);
  }
}

/** anything-but over strings: every non-string value passes. */
class AnythingButString implements ValuePredicate {
  readonly kind = "anything-but";
  constructor(private readonly excluded: (value: string) => boolean) {}

  test(value: unknown): boolean {
    return typeof value !== "string" || !this.excluded(value);
  }
}

/** anything-but over exact values: values of another type pass. */
class AnythingButValues implements ValuePredicate {
  readonly kind = "anything-but";
  constructor(
    private readonly strings: ReadonlySet<string>,
    private readonly numbers: ReadonlySet<number>,
  ) {}

  test(value: unknown): boolean {
    if (typeof value === "string") return !this.strings.has(value);
    if (typeof value === "number") return !this.numbers.has(value);
    return true;
  }
}
