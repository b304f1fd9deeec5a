/**
 * The index of one field path over many patterns: given one leaf value of the event at that
 * path, it names the leaves that value may satisfy, in time that depends on the value (its
 * length, the distinct prefix lengths of the CIDR blocks...) and on the leaves found, not on how
 * many patterns read the field. Answers are a superset: whatever they name is checked after.
 */
import { isIP } from "node:net";
import { CidrBlock } from "./cidr.js";
import { ipv4ToInteger, parseIpv4, parseIpv6, wordMask } from "./ip.js";
import { type Leaf, StringOperator } from "./leaf.js";
import { NumericRange } from "./numeric.js";

/** Receives the ids of the leaves a lookup finds; the same id may come more than once. */
export interface CandidateSink {
  add(ids: readonly number[]): void;
}

/**
 * How a leaf is filed in the index of its path: under each of its values and operators, or
 * (`present`) under "any value", for leaves with an operator there is nothing to look up by
 * (anything-but, a wildcard between two stars, case folding beyond ASCII) and for
 * `exists: true`. Undefined for a leaf with `exists: false`, which holds when the field has no
 * value and so cannot be found by looking a value up.
 */
export function leafFiling(leaf: Leaf): LeafFiling | undefined {
  if (leaf.matchesAbsent) return undefined;
  if (leaf.matchesAnyValue) return ANY_VALUE;
  const parts: Part[] = [];
  const exact = leaf.exact;
  for (const text of exact.strings)
    parts.push(exactPart(`s:${text}`, (index) => listIn(index.strings, text)));
  for (const number of exact.numbers)
    parts.push(exactPart(`n:${number}`, (index) => listIn(index.numbers, number)));
  if (exact.true) parts.push(exactPart("true", (index) => index.trueIds));
  if (exact.false) parts.push(exactPart("false", (index) => index.falseIds));
  if (exact.null) parts.push(exactPart("null", (index) => index.nullIds));
  let decisive = true;
  for (const operator of leaf.operators) {
    const part = operatorPart(operator);
    if (!part) return SOME_VALUE;
    parts.push(part);
    decisive &&= operator.kind !== "wildcard" && operator.kind !== "cidr";
  }
  return { parts, decisive };
}

export interface LeafFiling {
  readonly parts: readonly Part[];
  /** A lookup that finds the leaf proves it holds of that value (no anything-but, wildcard, CIDR). */
  readonly decisive: boolean;
}

/**
 * One value or operator of a leaf. `key` names what is looked up (two leaves with a part of the
 * same key on the same path are found together), `weight` how many events it lets through,
 * roughly, relative to an exact value.
 */
interface Part {
  readonly key: string;
  readonly weight: number;
  file(index: FieldIndex, id: number): void;
}

const EXACT_WEIGHT = 1;
const ANCHOR_WEIGHT = 2;
const RANGE_WEIGHT = 4;
const PRESENT_WEIGHT = 64;

const present: Part = { key: "present", weight: PRESENT_WEIGHT, file: (index, id) => index.present.push(id) };
/** `exists: true`: any value satisfies the leaf. */
const ANY_VALUE: LeafFiling = { parts: [present], decisive: true };
/** Found by any value, checked after. */
const SOME_VALUE: LeafFiling = { parts: [present], decisive: false };

function exactPart(key: string, list: (index: FieldIndex) => number[]): Part {
  return { key, weight: EXACT_WEIGHT, file: (index, id) => list(index).push(id) };
}

function operatorPart(operator: Leaf["operators"][number]): Part | undefined {
  if (operator instanceof StringOperator) {
    const anchor = operator.anchor;
    if (!anchor || (anchor.ignoreCase && !isAscii(anchor.text))) return undefined;
    const { at, text, ignoreCase } = anchor;
    return {
      key: `${ignoreCase ? "i" : "c"}${at}:${text}`,
      weight: at === "whole" ? EXACT_WEIGHT : ANCHOR_WEIGHT,
      file: (index, id) => {
        if (at === "whole" && !ignoreCase) listIn(index.strings, text).push(id);
        else index.trie(at === "end", ignoreCase).add(text, at === "whole", id);
      },
    };
  }
  if (operator instanceof NumericRange) {
    const { lower, lowerInclusive, upper, upperInclusive } = operator;
    return {
      key: `numeric:${lowerInclusive ? "[" : "("}${lower},${upper}${upperInclusive ? "]" : ")"}`,
      weight: RANGE_WEIGHT,
      file: (index, id) => {
        index.numeric ??= new NumericIndex();
        index.numeric.add(operator, id);
      },
    };
  }
  if (operator instanceof CidrBlock) {
    return {
      key: `cidr:${operator.address}/${operator.prefixLength}`,
      weight: RANGE_WEIGHT,
      file: (index, id) => {
        index.cidr ??= new CidrIndex();
        index.cidr.add(operator, id);
      },
    };
  }
  // anything-but: any value but a few.
  return undefined;
}

function listIn<K>(map: Map<K, number[]>, key: K): number[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

export class FieldIndex {
  readonly strings = new Map<string, number[]>();
  /** Keyed by value: 300 and 300.0 are one key. */
  readonly numbers = new Map<number, number[]>();
  readonly trueIds: number[] = [];
  readonly falseIds: number[] = [];
  readonly nullIds: number[] = [];
  /** Found by any leaf value; the walk over the event adds them once per event. */
  readonly present: number[] = [];
  numeric: NumericIndex | undefined;
  cidr: CidrIndex | undefined;
  /** Some group is found by particular values, not only by any value: lookups have work to do. */
  private byValue = false;
  /** Tries by direction (from the end for suffixes) and case-sensitivity. */
  private readonly tries: (CharTrie | undefined)[] = [undefined, undefined, undefined, undefined];
  /** The tries in use. */
  private readonly triesInUse: CharTrie[] = [];

  /** File a leaf under `id`, so that a lookup of any value that may satisfy it finds `id`. */
  add(filing: LeafFiling, id: number): void {
    for (const part of filing.parts) part.file(this, id);
  }

  trie(fromEnd: boolean, ignoreCase: boolean): CharTrie {
    const slot = (fromEnd ? 2 : 0) + (ignoreCase ? 1 : 0);
    let trie = this.tries[slot];
    if (!trie) {
      trie = new CharTrie(fromEnd, ignoreCase);
      this.tries[slot] = trie;
      this.triesInUse.push(trie);
    }
    return trie;
  }

  /** Ready the structures that are built once every leaf is known. */
  seal(): void {
    this.numeric?.seal();
    this.byValue =
      this.strings.size > 0 ||
      this.numbers.size > 0 ||
      this.trueIds.length + this.falseIds.length + this.nullIds.length > 0 ||
      this.triesInUse.length > 0 ||
      this.numeric !== undefined ||
      this.cidr !== undefined;
  }

  /** Adds to `sink` the leaves that the leaf value `value` (not an object, not an array) may satisfy. */
  lookup(value: unknown, sink: CandidateSink): void {
    if (!this.byValue) return;
    switch (typeof value) {
      case "string": {
        const exact = this.strings.size > 0 ? this.strings.get(value) : undefined;
        if (exact) sink.add(exact);
        const tries = this.triesInUse;
        for (let t = 0; t < tries.length; t++) tries[t]!.lookup(value, sink);
        this.cidr?.lookup(value, sink);
        return;
      }
      case "number": {
        const exact = this.numbers.get(value);
        if (exact) sink.add(exact);
        this.numeric?.lookup(value, sink);
        return;
      }
      case "boolean": {
        const ids = value ? this.trueIds : this.falseIds;
        if (ids.length > 0) sink.add(ids);
        return;
      }
      default:
        if (value === null && this.nullIds.length > 0) sink.add(this.nullIds);
    }
  }
}

interface TrieNode {
  /** The characters that lead further, and where: few per node, so a scan beats a hash. */
  readonly codes: number[];
  readonly next: TrieNode[];
  /** Leaves whose text ends at this node and may be followed by more of the value. */
  readonly open: number[];
  /** Leaves whose text must be the whole value. */
  readonly whole: number[];
}

function trieNode(): TrieNode {
  return { codes: [], next: [], open: [], whole: [] };
}

/**
 * Texts by their characters, read from the start (prefixes) or from the end (suffixes). One
 * walk along the value finds every text it starts (or ends) with.
 *
 * Ignoring case, only ASCII texts are indexed (others are found through the field's `present`
 * list): an ASCII letter equals, under Unicode simple case folding, its other case and for `k`
 * and `s` also KELVIN SIGN and LATIN SMALL LETTER LONG S, nothing else. Folding those few code
 * units keeps the walk exact without a case-folding table.
 */
class CharTrie {
  private readonly root = trieNode();

  constructor(
    private readonly fromEnd: boolean,
    private readonly ignoreCase: boolean,
  ) {}

  add(text: string, whole: boolean, id: number): void {
    let node = this.root;
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const code = this.code(text, this.fromEnd ? length - 1 - i : i);
      let at = node.codes.indexOf(code);
      if (at < 0) {
        at = node.codes.length;
        node.codes.push(code);
        node.next.push(trieNode());
      }
      node = node.next[at]!;
    }
    (whole ? node.whole : node.open).push(id);
  }

  lookup(value: string, sink: CandidateSink): void {
    let node = this.root;
    if (node.open.length > 0) sink.add(node.open);
    const length = value.length;
    for (let i = 0; i < length; i++) {
      const code = this.code(value, this.fromEnd ? length - 1 - i : i);
      const codes = node.codes;
      let at = 0;
      while (at < codes.length && codes[at] !== code) at++;
      if (at === codes.length) return;
      node = node.next[at]!;
      if (node.open.length > 0) sink.add(node.open);
    }
    if (node.whole.length > 0) sink.add(node.whole);
  }

  /** The code unit at `i`, folded to ASCII lower case when ignoring case (-1: equals no ASCII character). */
  private code(text: string, i: number): number {
    const code = text.charCodeAt(i);
    if (!this.ignoreCase) return code;
    if (code >= 65 && code <= 90) return code + 32;
    if (code < 128) return code;
    if (code === 0x212a) return 107; // KELVIN SIGN ≡ k
    if (code === 0x017f) return 115; // LATIN SMALL LETTER LONG S ≡ s
    return -1;
  }
}

/**
 * Numeric ranges on one field, as a segment tree over the elementary intervals their bounds
 * cut the number line into: a lookup walks one path from a leaf to the root, O(log ranges)
 * plus the ranges found.
 */
class NumericIndex {
  private readonly ranges: { range: NumericRange; id: number }[] = [];
  /** The distinct finite bounds, ascending: slot 2i+1 is bounds[i] itself, slot 2i the gap below it. */
  private bounds: number[] = [];
  private size = 0;
  private nodes: (number[] | undefined)[] = [];

  add(range: NumericRange, id: number): void {
    this.ranges.push({ range, id });
  }

  seal(): void {
    const finite = this.ranges.flatMap(({ range }) => [range.lower, range.upper]).filter(Number.isFinite);
    this.bounds = [...new Set(finite)].sort((a, b) => a - b);
    const slots = 2 * this.bounds.length + 1;
    this.size = 1;
    while (this.size < slots) this.size *= 2;
    this.nodes = new Array(2 * this.size);
    for (const { range, id } of this.ranges) {
      const low =
        range.lower === Number.NEGATIVE_INFINITY
          ? 0
          : 2 * this.bounds.indexOf(range.lower) + (range.lowerInclusive ? 1 : 2);
      const high =
        range.upper === Number.POSITIVE_INFINITY
          ? slots - 1
          : 2 * this.bounds.indexOf(range.upper) + (range.upperInclusive ? 1 : 0);
      this.insert(low, high, id);
    }
  }

  lookup(value: number, sink: CandidateSink): void {
    // Infinities and NaN (never in JSON) satisfy no range.
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let low = 0;
    let high = bounds.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (bounds[middle]! < value) low = middle + 1;
      else high = middle;
    }
    const slot = low < bounds.length && bounds[low] === value ? 2 * low + 1 : 2 * low;
    for (let node = slot + this.size; node >= 1; node >>>= 1) {
      const ids = this.nodes[node];
      if (ids) sink.add(ids);
    }
  }

  /** Adds `id` to the O(log n) nodes covering slots `[low, high]`. */
  private insert(low: number, high: number, id: number): void {
    let left = low + this.size;
    let right = high + this.size + 1;
    while (left < right) {
      if (left & 1) this.nodeIds(left++).push(id);
      if (right & 1) this.nodeIds(--right).push(id);
      left >>>= 1;
      right >>>= 1;
    }
  }

  private nodeIds(node: number): number[] {
    let ids = this.nodes[node];
    if (!ids) {
      ids = [];
      this.nodes[node] = ids;
    }
    return ids;
  }
}

/**
 * CIDR blocks on one field, by prefix length: an address is masked once per distinct length and
 * looked up. IPv4 and IPv6 meet through IPv4-mapped addresses (::ffff:a.b.c.d), as in BlockList.
 */
class CidrIndex {
  /**
   * IPv4 blocks, by prefix length, then by the network's upper and lower 16 bits: 32-bit keys
   * would be heap numbers, allocated at each lookup.
   */
  private readonly ipv4: BlocksOfLength<number, Map<number, number[]>>[] = [];
  /** IPv6 blocks, by prefix length. */
  private readonly ipv6: BlocksOfLength<string, number[]>[] = [];
  /** Blocks whose address this index cannot parse: tried for every address. */
  private readonly unparsed: number[] = [];
  private readonly words = new Uint32Array(4);

  add(block: CidrBlock, id: number): void {
    const length = block.prefixLength;
    if (block.family === 4) {
      const network = (ipv4ToInteger(block.address) & wordMask(length)) >>> 0;
      const upper = blocksOfLength(this.ipv4, length);
      let lower = upper.get(network >>> 16);
      if (!lower) {
        lower = new Map();
        upper.set(network >>> 16, lower);
      }
      listIn(lower, network & 0xffff).push(id);
    } else if (parseIpv6(block.address, this.words)) {
      listIn(blocksOfLength(this.ipv6, length), ipv6Key(this.words, length)).push(id);
    } else {
      this.unparsed.push(id);
    }
  }

  lookup(value: string, sink: CandidateSink): void {
    const address = parseIpv4(value);
    if (address < 0 && !(value.includes(":") && isIP(value) === 6)) return;
    if (this.unparsed.length > 0) sink.add(this.unparsed);
    const words = this.words;
    if (address >= 0) {
      this.lookupIpv4(address, sink);
      if (this.ipv6.length === 0) return;
      words[0] = 0;
      words[1] = 0;
      words[2] = 0xffff;
      words[3] = address;
    } else {
      if (!parseIpv6(value, words)) {
        for (const { blocks } of this.ipv4) {
          for (const lower of blocks.values()) for (const ids of lower.values()) sink.add(ids);
        }
        for (const { blocks } of this.ipv6) for (const ids of blocks.values()) sink.add(ids);
        return;
      }
      if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) this.lookupIpv4(words[3]!, sink);
    }
    for (let i = 0; i < this.ipv6.length; i++) {
      const { length, blocks } = this.ipv6[i]!;
      const ids = blocks.get(ipv6Key(words, length));
      if (ids) sink.add(ids);
    }
  }

  private lookupIpv4(address: number, sink: CandidateSink): void {
    for (let i = 0; i < this.ipv4.length; i++) {
      const { mask, blocks } = this.ipv4[i]!;
      const network = address & mask;
      const ids = blocks.get(network >>> 16)?.get(network & 0xffff);
      if (ids) sink.add(ids);
    }
  }
}

interface BlocksOfLength<K, V> {
  readonly length: number;
  /** The mask of the first `length` bits of a 32-bit address. */
  readonly mask: number;
  readonly blocks: Map<K, V>;
}

function blocksOfLength<K, V>(all: BlocksOfLength<K, V>[], length: number): Map<K, V> {
  let entry = all.find((candidate) => candidate.length === length);
  if (!entry) {
    entry = { length, mask: wordMask(length), blocks: new Map() };
    all.push(entry);
  }
  return entry.blocks;
}

/** The first `length` bits of a 128-bit address, as a map key. */
function ipv6Key(words: Uint32Array, length: number): string {
  let key = "";
  for (let w = 0; w < 4; w++) {
    key += `${(words[w]! & wordMask(length - 32 * w)) >>> 0}.`;
  }
  return key;
}
