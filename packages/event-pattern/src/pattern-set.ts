/**
 * Many event patterns compiled into one structure, so that matching a record against all of
 * them costs about the same for ten patterns as for a thousand: the way aws/event-ruler runs
 * one machine for all its rules.
 *
 * Each pattern is expanded into its alternatives (`$or`), each a set of leaves on field paths.
 * Leaves that are found by the same values on the same path (`eventSource: ["iam.amazonaws.com"]`
 * in a hundred patterns) form one group, filed once in the index of its path: a hash of exact
 * values, tries of prefixes and suffixes, a segment tree of numeric ranges, CIDR blocks by
 * prefix length. Matching walks the event once, along the paths the patterns read, collecting
 * each path's leaf values and looking each up, which marks the groups found.
 *
 * Each alternative is triggered by one of its groups: when that group is found, the alternative
 * becomes a candidate. The trigger is the group least often found: at first as judged from the
 * patterns (exact values before ranges, anything-but last, groups few alternatives share), then
 * from how often each group was found in the events matched so far, re-planned now and then, as
 * a query planner uses statistics. Any group would give the same answers; the rarest one gives
 * the fewest candidates. After the walk, a candidate whose groups were all found is checked, leaf
 * by leaf against the values collected at each path, unless the index already proves every
 * leaf. Where a candidate's fields come from objects inside arrays, the choice of
 * one element per array matters, and the candidate is matched in full by the same code as
 * `compileEventPattern`. Leaves with `exists: false` are in no group (no value finds them);
 * alternatives made of nothing else are candidates for every event.
 */
import { type CompiledPattern, type Conjunction, compileConjunction, expandEventPattern } from "./compile.js";
import { PatternError } from "./errors.js";
import { type CandidateSink, FieldIndex, type LeafFiling, leafFiling } from "./field-index.js";
import type { Leaf } from "./leaf.js";
import { compilePrefilter, type RecordPrefilter } from "./prefilter.js";

/** Patterns by name: an object, or `[name, pattern]` pairs. Names must be unique. */
export type NamedPatterns = Readonly<Record<string, unknown>> | Iterable<readonly [string, unknown]>;

export interface CompiledPatternSet {
  /** The pattern names, in the order given. */
  readonly names: readonly string[];
  /** Names of the patterns the event matches, in the order of `names`. */
  match(event: unknown): string[];
  /** Positions in `names` of the patterns the event matches, ascending. */
  matchIndices(event: unknown): readonly number[];
  /**
   * A test on a record's JSON text, false only for records that no pattern can match; undefined
   * when some alternative pins no literal text (see prefilter.ts).
   */
  readonly prefilter: RecordPrefilter | undefined;
}

/**
 * Validate and compile named patterns into one matcher. An invalid pattern throws its
 * PatternError, with the pattern's name as its `pattern`; two patterns of one name throw an Error.
 */
export function compilePatterns(patterns: NamedPatterns): CompiledPatternSet {
  const entries: (readonly [string, unknown])[] =
    Symbol.iterator in patterns
      ? [...(patterns as Iterable<readonly [string, unknown]>)]
      : Object.entries(patterns);
  const names = entries.map(([name]) => name);
  const seen = new Set<string>();
  const alternatives: AlternativeSource[] = [];
  entries.forEach(([name, pattern], patternIndex) => {
    if (seen.has(name)) {
      throw new Error(`two patterns are named "${name}"`);
    }
    seen.add(name);
    let conjunctions: ReturnType<typeof expandEventPattern>;
    try {
      conjunctions = expandEventPattern(pattern);
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      throw new PatternError(error.path, error.reason, { pattern: name });
    }
    for (const conjunction of conjunctions) {
      alternatives.push({
        patternIndex,
        matcher: compileConjunction(conjunction),
        fields: conjunction,
      });
    }
  });
  return new PatternSet(
    names,
    alternatives,
    compilePrefilter(alternatives.map((alternative) => alternative.fields)),
  );
}

interface AlternativeSource {
  readonly patternIndex: number;
  /** Matches the alternative in full. */
  readonly matcher: CompiledPattern;
  readonly fields: Conjunction;
}

/** One alternative as matching checks it. */
interface Alternative {
  readonly patternIndex: number;
  readonly matcher: CompiledPattern;
  /** `leaves[i]` must hold of the values collected at `nodes[i]`. */
  readonly nodes: readonly PathNode[];
  readonly leaves: readonly Leaf[];
  /** The groups of its leaves: all must be found. Ordered by the plan, least often found first. */
  groups: number[];
  /** Its groups all found, the alternative holds (unless array elements matter): no leaf is left to check. */
  readonly decisive: boolean;
}

/** Leaves found by the same values on the same path, in any number of alternatives. */
interface Group {
  readonly node: PathNode;
  readonly filing: LeafFiling;
  /** How many alternatives have a leaf in the group. */
  sharing: number;
}

/** A field path that some pattern reads, and the paths below it. */
interface PathNode {
  /** The path's segments joined by dots. */
  readonly path: string;
  readonly children: PathNode[];
  readonly bySegment: Map<string, PathNode>;
  /** Some alternative has a leaf at this path: look its values up. */
  read: boolean;
  /** Some alternative checks a leaf at this path against its values: keep them. */
  keep: boolean;
  index: FieldIndex | undefined;
  /** The leaf values found at this path in the event of `valuesStamp`: the first `valueCount`. */
  readonly values: unknown[];
  valueCount: number;
  valuesStamp: number;
  /** The event in which some value at this path came from an object inside an array. */
  inArrayStamp: number;
  /** The last event whose walk marked this path's `present` groups. */
  presentStamp: number;
}

function pathNode(segments: readonly string[]): PathNode {
  return {
    path: segments.join("."),
    children: [],
    bySegment: new Map(),
    read: false,
    keep: false,
    index: undefined,
    values: [],
    valueCount: 0,
    valuesStamp: 0,
    inArrayStamp: 0,
    presentStamp: 0,
  };
}

type JsonObject = Record<string, unknown>;

const NOTHING: readonly number[] = Object.freeze([]);

/** Triggers are re-planned after this many events, then twice as many, up to `MAX_REPLAN_INTERVAL`. */
const FIRST_REPLAN = 256;
const MAX_REPLAN_INTERVAL = 65_536;

class PatternSet implements CompiledPatternSet, CandidateSink {
  private readonly root = pathNode([]);
  private readonly alternatives: readonly Alternative[];
  /** The alternatives each group triggers, by group id. */
  private triggers: readonly (readonly number[])[];
  /** Before statistics: how many events each group is expected to let through, relatively. */
  private readonly staticCosts: Float64Array;
  /** How many events each group was found in, since the last plan. */
  private readonly groupHits: Float64Array;
  private eventsUntilReplan = FIRST_REPLAN;
  private replanInterval = FIRST_REPLAN;
  /** Alternatives with no leaf a value can find: candidates for every event. */
  private readonly everywhere: number[] = [];

  // Scratch space of one match: matching runs synchronously, so calls never overlap.
  private stamp = 0;
  /** The event in which some value came from an object inside an array. */
  private inArrayStamp = 0;
  private readonly groupStamps: Uint32Array;
  private readonly candidateStamps: Uint32Array;
  private readonly patternStamps: Uint32Array;
  /** The candidates of the event: the first `candidateCount`. */
  private readonly candidates: number[] = [];
  private candidateCount = 0;

  constructor(
    readonly names: readonly string[],
    sources: readonly AlternativeSource[],
    readonly prefilter: RecordPrefilter | undefined,
  ) {
    const groups: Group[] = [];
    const groupIds = new Map<string, number>();
    const groupOf = (node: PathNode, filing: LeafFiling): number => {
      const key = `${node.path}\u0000${[...new Set(filing.parts.map((part) => part.key))].sort().join("\u0000")}`;
      let id = groupIds.get(key);
      if (id === undefined) {
        id = groups.length;
        groups.push({ node, filing, sharing: 0 });
        groupIds.set(key, id);
      }
      return id;
    };
    const leafGroups = sources.map(({ fields }) => {
      const ids = new Set<number>();
      for (const { segments, leaf } of fields) {
        const filing = leafFiling(leaf);
        if (filing) ids.add(groupOf(this.node(segments), filing));
      }
      for (const id of ids) groups[id]!.sharing++;
      return [...ids];
    });

    this.alternatives = sources.map(({ patternIndex, matcher, fields }, id) => {
      const nodes = fields.map(({ segments }) => this.node(segments));
      for (const node of nodes) node.read = true;
      const leaves = fields.map(({ leaf }) => leaf);
      const decisive = leaves.every((leaf) => leafFiling(leaf)?.decisive === true);
      if (!decisive) for (const node of nodes) node.keep = true;
      if (leafGroups[id]!.length === 0) this.everywhere.push(id);
      return { patternIndex, matcher, nodes, leaves, groups: leafGroups[id]!, decisive };
    });

    const indexes = new Set<FieldIndex>();
    groups.forEach(({ node, filing }, id) => {
      node.index ??= new FieldIndex();
      indexes.add(node.index);
      node.index.add(filing, id);
    });
    for (const index of indexes) index.seal();
    this.staticCosts = Float64Array.from(
      groups,
      ({ filing, sharing }) => filing.parts.reduce((sum, part) => sum + part.weight, 0) * sharing,
    );
    this.groupHits = new Float64Array(groups.length);
    this.triggers = this.plan();
    this.groupStamps = new Uint32Array(groups.length);
    this.candidateStamps = new Uint32Array(sources.length);
    this.patternStamps = new Uint32Array(names.length);
  }

  /**
   * Each alternative's trigger: the group found in the fewest events since the last plan, ties
   * (groups never found, before any event) broken by the patterns' own estimate. Its other
   * groups are checked in the same order, so that a candidate is rejected early.
   */
  private plan(): number[][] {
    const triggers: number[][] = Array.from(this.staticCosts, () => []);
    const { groupHits, staticCosts } = this;
    const rarestFirst = (a: number, b: number) =>
      groupHits[a]! - groupHits[b]! || staticCosts[a]! - staticCosts[b]!;
    this.alternatives.forEach((alternative, id) => {
      alternative.groups.sort(rarestFirst);
      const trigger = alternative.groups[0];
      if (trigger !== undefined) triggers[trigger]!.push(id);
    });
    return triggers;
  }

  private replanWhenDue(): void {
    if (--this.eventsUntilReplan > 0) return;
    this.triggers = this.plan();
    this.groupHits.fill(0);
    this.replanInterval = Math.min(this.replanInterval * 2, MAX_REPLAN_INTERVAL);
    this.eventsUntilReplan = this.replanInterval;
  }

  match(event: unknown): string[] {
    return this.matchIndices(event).map((index) => this.names[index]!);
  }

  matchIndices(event: unknown): readonly number[] {
    this.replanWhenDue();
    this.nextStamp();
    const candidates = this.candidates;
    this.candidateCount = 0;
    for (let i = 0; i < this.everywhere.length; i++) candidates[this.candidateCount++] = this.everywhere[i]!;
    this.walk(event);

    let matched: number[] | undefined;
    const stamp = this.stamp;
    for (let c = 0; c < this.candidateCount; c++) {
      const alternative = this.alternatives[candidates[c]!]!;
      const pattern = alternative.patternIndex;
      if (this.patternStamps[pattern] === stamp) continue;
      if (this.holds(alternative, event)) {
        this.patternStamps[pattern] = stamp;
        if (!matched) matched = [pattern];
        else insertInOrder(matched, pattern);
      }
    }
    return matched ?? NOTHING;
  }

  /**
   * Every group of the alternative was found, and every leaf holds of the values collected at
   * its path. When some of those values come from objects inside arrays, the alternative must
   * take all its fields under an array from one element: the compiled alternative decides.
   */
  private holds(alternative: Alternative, event: unknown): boolean {
    const stamp = this.stamp;
    const groups = alternative.groups;
    for (let i = 0; i < groups.length; i++) {
      if (this.groupStamps[groups[i]!] !== stamp) return false;
    }
    const { nodes, leaves } = alternative;
    if (this.inArrayStamp === stamp) {
      for (let i = 0; i < nodes.length; i++) {
        if (nodes[i]!.inArrayStamp === stamp) return alternative.matcher.matches(event);
      }
    }
    if (alternative.decisive) return true;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      const leaf = leaves[i]!;
      if (node.valuesStamp !== stamp) {
        if (!leaf.matchesAbsent) return false;
        continue;
      }
      const values = node.values;
      const count = node.valueCount;
      let found = false;
      for (let v = 0; v < count && !found; v++) found = leaf.test(values[v]);
      if (!found) return false;
    }
    return true;
  }

  /** CandidateSink: mark each group found, once per event; the alternatives it triggers become candidates. */
  add(groupIds: readonly number[]): void {
    const stamp = this.stamp;
    const { groupStamps, candidateStamps, candidates } = this;
    for (let i = 0; i < groupIds.length; i++) {
      const group = groupIds[i]!;
      if (groupStamps[group] === stamp) continue;
      groupStamps[group] = stamp;
      this.groupHits[group]!++;
      const triggered = this.triggers[group]!;
      for (let t = 0; t < triggered.length; t++) {
        const id = triggered[t]!;
        if (candidateStamps[id] === stamp) continue;
        candidateStamps[id] = stamp;
        candidates[this.candidateCount++] = id;
      }
    }
  }

  private nextStamp(): void {
    if (this.stamp === 0xffffffff) {
      this.stamp = 0;
      this.inArrayStamp = 0;
      this.groupStamps.fill(0);
      this.candidateStamps.fill(0);
      this.patternStamps.fill(0);
      this.resetPathStamps(this.root);
    }
    this.stamp++;
  }

  private resetPathStamps(node: PathNode): void {
    node.presentStamp = 0;
    node.valuesStamp = 0;
    node.inArrayStamp = 0;
    for (const child of node.children) this.resetPathStamps(child);
  }

  private node(segments: readonly string[]): PathNode {
    let node = this.root;
    for (let depth = 1; depth <= segments.length; depth++) {
      const segment = segments[depth - 1]!;
      let child = node.bySegment.get(segment);
      if (!child) {
        child = pathNode(segments.slice(0, depth));
        node.bySegment.set(segment, child);
        node.children.push(child);
      }
      node = child;
    }
    return node;
  }

  /**
   * Collect and look up every leaf value of the event at the paths the patterns read. As in
   * `compileEventPattern`, a path is the event's keys joined by dots, however the event nests
   * them (`{"a.b": 1}` and `{"a": {"b": 1}}` both hold 1 at `a.b`), through arrays; unlike it,
   * every element of an array is visited: `holds` sends the alternatives for which that matters
   * to the compiled matcher. Each object's own keys are enumerated once and looked up among the
   * paths, so that the walk costs what the event holds on those paths, however many there are.
   */
  private walk(event: unknown): void {
    if (typeof event === "object" && event !== null) this.take(event, this.root, false);
  }

  /** A value found at `node`. `inArray`: it comes from an object inside an array. */
  private take(value: unknown, node: PathNode, inArray: boolean): void {
    if (typeof value !== "object" || value === null) {
      if (node.read) this.collect(value, node, inArray);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const element = value[i];
        const isObject = typeof element === "object" && element !== null && !Array.isArray(element);
        this.take(element, node, inArray || isObject);
      }
    } else if (node.children.length > 0) {
      const object = value as JsonObject;
      const bySegment = node.bySegment;
      for (const key in object) {
        const child = bySegment.get(key) ?? (key.includes(".") ? descend(node, key) : undefined);
        if (child !== undefined) this.take(object[key], child, inArray);
      }
    }
  }

  private collect(value: unknown, node: PathNode, inArray: boolean): void {
    const stamp = this.stamp;
    if (node.keep) {
      if (node.valuesStamp !== stamp) {
        node.valuesStamp = stamp;
        node.valueCount = 0;
      }
      node.values[node.valueCount++] = value;
    }
    if (inArray) {
      node.inArrayStamp = stamp;
      this.inArrayStamp = stamp;
    }
    const index = node.index;
    if (index) {
      if (index.present.length > 0 && node.presentStamp !== stamp) {
        node.presentStamp = stamp;
        this.add(index.present);
      }
      index.lookup(value, this);
    }
  }
}

/** Insert into an ascending array: matches are few, so this beats sorting them. */
function insertInOrder(sorted: number[], value: number): void {
  let i = sorted.length;
  sorted.push(value);
  while (i > 0 && sorted[i - 1]! > value) {
    sorted[i] = sorted[i - 1]!;
    i--;
  }
  sorted[i] = value;
}

/** The node a dotted key leads to from `node` (`"b.c"` from `a` is `a.b.c`), if some pattern reads there. */
function descend(node: PathNode, key: string): PathNode | undefined {
  let found: PathNode | undefined = node;
  for (const segment of key.split(".")) {
    found = found.bySegment.get(segment);
    if (found === undefined) return undefined;
  }
  return found;
}
