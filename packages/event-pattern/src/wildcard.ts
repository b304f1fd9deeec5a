import { PatternError } from "./errors.js";

/**
 * More `*` in one wildcard than this is refused the way EventBridge refuses rules whose matching
 * cost would explode. Matching here stays linear in the value for any count; the cap keeps
 * patterns portable to EventBridge.
 */
export const MAX_WILDCARDS = 20;

/**
 * A compiled `wildcard` operand: the literal pieces between the stars. `*` stands for zero or
 * more characters, `\*` for a literal star, `\\` for a literal backslash.
 */
export class Wildcard {
  /** The literal text before the first star, between stars, and after the last star. */
  readonly pieces: readonly string[];
  private readonly literalLength: number;

  constructor(operand: string, path: string) {
    this.pieces = parseWildcard(operand, path);
    this.literalLength = this.pieces.reduce((sum, piece) => sum + piece.length, 0);
  }

  test(value: string): boolean {
    const pieces = this.pieces;
    const last = pieces.length - 1;
    if (last === 0) return value === pieces[0];
    if (value.length < this.literalLength) return false;
    const head = pieces[0]!;
    const tail = pieces[last]!;
    if (!value.startsWith(head) || !value.endsWith(tail)) return false;
    // Middle pieces, leftmost first: with `*` as the only metacharacter the leftmost placement
    // leaves the most room for what follows, so no backtracking is needed.
    const end = value.length - tail.length;
    let position = head.length;
    for (let i = 1; i < last; i++) {
      const piece = pieces[i]!;
      const found = value.indexOf(piece, position);
      if (found < 0 || found + piece.length > end) return false;
      position = found + piece.length;
    }
    return true;
  }
}

function parseWildcard(operand: string, path: string): string[] {
  const pieces: string[] = [];
  let piece = "";
  let stars = 0;
  for (let i = 0; i < operand.length; i++) {
    const char = operand[i];
    if (char === "\\") {
      const next = operand[i + 1];
      if (next !== "*" && next !== "\\") throw new PatternError(path, `Invalid escape character at pos ${i}`);
      piece += next;
      i++;
    } else if (char === "*") {
      if (operand[i + 1] === "*")
        throw new PatternError(path, `Consecutive wildcard characters at pos ${i + 1}`);
      stars++;
      pieces.push(piece);
      piece = "";
    } else {
      piece += char;
    }
  }
  if (stars > MAX_WILDCARDS) {
    throw new PatternError(path, `Rule is too complex: more than ${MAX_WILDCARDS} wildcard characters`);
  }
  pieces.push(piece);
  return pieces;
}
