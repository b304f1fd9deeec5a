import { PatternError } from "./errors.js";
import { indexPath, isJsonNumber, show } from "./paths.js";

const NUMERIC_OPERATORS = new Set(["=", "<", "<=", ">", ">="]);

/**
 * A `numeric` operand: `["=", x]`, a lower bound (`>`/`>=`) optionally followed by an upper
 * bound (`<`/`<=`), or an upper bound alone. Only JSON numbers match.
 */
export class NumericRange {
  readonly kind = "numeric";

  private constructor(
    readonly lower: number,
    readonly lowerInclusive: boolean,
    readonly upper: number,
    readonly upperInclusive: boolean,
  ) {}

  test(value: unknown): boolean {
    if (typeof value !== "number") return false;
    if (this.lowerInclusive ? value < this.lower : value <= this.lower) return false;
    return this.upperInclusive ? value <= this.upper : value < this.upper;
  }

  static compile(operand: unknown, path: string): NumericRange {
    if (!Array.isArray(operand)) throw new PatternError(path, "Value of numeric must be an array.");
    if (operand.length === 0) throw new PatternError(path, "Empty arrays are not allowed");
    const terms: readonly unknown[] = operand;

    const operator = terms[0];
    if (typeof operator !== "string") {
      throw new PatternError(indexPath(path, 0), `Invalid member in numeric match: ${show(operator)}`);
    }
    if (!NUMERIC_OPERATORS.has(operator)) {
      throw new PatternError(indexPath(path, 0), `Unrecognized numeric range operator: ${operator}`);
    }
    const value = boundValue(terms, 1, operator, path);

    if (operator === "=") {
      noMoreTerms(terms, 2, path, "Too many elements in numeric expression");
      return new NumericRange(value, true, value, true);
    }
    if (operator === "<" || operator === "<=") {
      noMoreTerms(terms, 2, path, "Too many elements in numeric expression");
      return new NumericRange(Number.NEGATIVE_INFINITY, false, value, operator === "<=");
    }
    // A lower bound, alone or followed by an upper bound.
    const lowerInclusive = operator === ">=";
    if (terms.length === 2) return new NumericRange(value, lowerInclusive, Number.POSITIVE_INFINITY, false);
    const upperOperator = terms[2];
    if (typeof upperOperator !== "string") {
      throw new PatternError(indexPath(path, 2), `Bad value in numeric range: ${show(upperOperator)}`);
    }
    if (upperOperator !== "<" && upperOperator !== "<=") {
      throw new PatternError(indexPath(path, 2), `Bad numeric range operator: ${upperOperator}`);
    }
    const upper = boundValue(terms, 3, upperOperator, path);
    noMoreTerms(terms, 4, path, "Too many terms in numeric range expression");
    if (value >= upper) throw new PatternError(path, "Bottom must be less than top");
    return new NumericRange(value, lowerInclusive, upper, upperOperator === "<=");
  }
}

function boundValue(terms: readonly unknown[], index: number, operator: string, path: string): number {
  const value = terms[index];
  if (!isJsonNumber(value))
    throw new PatternError(indexPath(path, index), `Value of ${operator} must be numeric`);
  return value;
}

function noMoreTerms(terms: readonly unknown[], count: number, path: string, reason: string): void {
  if (terms.length > count) throw new PatternError(indexPath(path, count), reason);
}
