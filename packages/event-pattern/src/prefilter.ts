/**
 * A test on a record's raw JSON text that is false only when no pattern of a set can match the
 * record: the decoder then need not parse it.
 *
 * Each alternative of each pattern (after `$or` expansion) must hold for all its leaves, so one
 * leaf suffices to rule the alternative out. A leaf whose every accepted value is a string with
 * a known literal text (exact values, prefixes, suffixes, wildcards that pin their start, end or
 * whole) can only hold if the record's text holds that literal as a JSON string token: `"RunInstances"`,
 * `"Create` for a prefix, `.png"` for a suffix. That is exact as long as the record's text has no
 * backslash, for an escape (`\u0041`, `\/`) can spell the same string differently: a text with a
 * backslash always may match. Leaves that also accept numbers, booleans, null, absence or any
 * value (`exists`, `anything-but`, `numeric`, `cidr`), or that fold case, pin no literal text.
 *
 * Each alternative is ruled out by its most selective literal leaf (see `selectivityCost`); an
 * alternative without one leaves no prefilter at all. The needles of all chosen leaves are
 * searched at once, as one RegExp alternation.
 */
import type { Conjunction, FieldConstraint } from "./compile.js";
import { type Leaf, StringOperator } from "./leaf.js";

export interface RecordPrefilter {
  /** The JSON string tokens searched for, without duplicates. */
  readonly needles: readonly string[];
  /** False only if no pattern can match the record whose JSON text is `recordJson`. */
  mayMatch(recordJson: string): boolean;
}

/**
 * Fields of a CloudTrail record that take few distinct values (a handful of services, regions,
 * accounts), so that a literal of theirs is in many records. A leaf on another field is chosen
 * first: `eventName: [RunInstances]` rules out more records than `eventSource: [ec2.amazonaws.com]`.
 */
const COMMON_FIELDS = new Set([
  "eventSource",
  "awsRegion",
  "recipientAccountId",
  "eventType",
  "eventCategory",
  "eventVersion",
  "readOnly",
  "managementEvent",
  "userIdentity.type",
  "userIdentity.accountId",
  "userIdentity.invokedBy",
  "userAgent",
]);

/**
 * The prefilter of a set of alternatives, or undefined when some alternative has no literal leaf
 * (then any record may match).
 */
export function compilePrefilter(alternatives: readonly Conjunction[]): RecordPrefilter | undefined {
  const needles = new Set<string>();
  for (const conjunction of alternatives) {
    let best: readonly string[] | undefined;
    let bestCost = Infinity;
    for (const field of conjunction) {
      const literal = literalNeedles(field.leaf);
      if (literal === undefined) continue;
      const cost = selectivityCost(field, literal);
      if (cost < bestCost) {
        best = literal.needles;
        bestCost = cost;
      }
    }
    if (best === undefined) return undefined;
    for (const needle of best) needles.add(needle);
  }
  return new NeedlePrefilter([...needles]);
}

/** A leaf's needles, and whether all of them are whole values (not prefixes or suffixes). */
interface LiteralNeedles {
  readonly needles: readonly string[];
  readonly whole: boolean;
}

/**
 * The JSON tokens one of which the text of any string value satisfying `leaf` contains, or
 * undefined if the leaf accepts a value that is not such a string.
 */
function literalNeedles(leaf: Leaf): LiteralNeedles | undefined {
  const { exact } = leaf;
  if (leaf.matchesAnyValue || leaf.matchesAbsent) return undefined;
  if (exact.numbers.size > 0 || exact.true || exact.false || exact.null) return undefined;
  const needles = [...exact.strings].map((value) => JSON.stringify(value));
  let whole = true;
  for (const operator of leaf.operators) {
    if (!(operator instanceof StringOperator)) return undefined;
    const anchor = operator.anchor;
    if (anchor === undefined || anchor.ignoreCase) return undefined;
    if (anchor.at === "whole") {
      needles.push(JSON.stringify(anchor.text));
    } else {
      whole = false;
      needles.push(
        anchor.at === "start"
          ? JSON.stringify(withoutOpenSurrogate(anchor.text, "start")).slice(0, -1)
          : JSON.stringify(withoutOpenSurrogate(anchor.text, "end")).slice(1),
      );
    }
  }
  return { needles, whole };
}

/**
 * An affix compares UTF-16 units, so a prefix may end with the first half of a surrogate pair
 * (a suffix start with the second) that the text writes as one character, which JSON.stringify
 * of the lone half would escape: that half is left out of the needle.
 */
function withoutOpenSurrogate(affix: string, at: "start" | "end"): string {
  if (at === "start") {
    const last = affix.charCodeAt(affix.length - 1);
    return last >= 0xd800 && last <= 0xdbff ? affix.slice(0, -1) : affix;
  }
  const first = affix.charCodeAt(0);
  return first >= 0xdc00 && first <= 0xdfff ? affix.slice(1) : affix;
}

/**
 * A guess of how many records a leaf's needles let through, lower is better: needles on fields
 * whose values are common cost more, prefixes and suffixes more than whole values, then each
 * needle adds its share.
 */
function selectivityCost(field: FieldConstraint, literal: LiteralNeedles): number {
  const common = COMMON_FIELDS.has(field.segments.join(".")) ? 10_000 : 0;
  return common + (literal.whole ? 0 : 1_000) + literal.needles.length;
}

const BACKSLASH = "\\";

class NeedlePrefilter implements RecordPrefilter {
  private readonly search: RegExp;

  constructor(readonly needles: readonly string[]) {
    // No needle: no alternative, no match (`(?!)` never matches).
    this.search = new RegExp(needles.length === 0 ? "(?!)" : needles.map(escapeRegExp).join("|"));
  }

  mayMatch(recordJson: string): boolean {
    return recordJson.includes(BACKSLASH) || this.search.test(recordJson);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}
