import { BlockList } from "node:net";
import { compileEventPattern } from "@trailrouter/event-pattern";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPatternCases } from "./pattern-cases.js";

/** One leaf of operators, and the values of field `a` it must and must not match (`MISSING`: no field). */
const MISSING = Symbol("missing");
type LeafCase = [string, unknown[], [unknown, boolean][]];

function checkLeaves(cases: LeafCase[]) {
  const rows = cases.flatMap(([name, leaf, values]) =>
    values.map(
      ([value, expected]) => [`${name}: ${show(value)} → ${expected}`, leaf, value, expected] as const,
    ),
  );
  checkPatternCases(
    rows.map(([name, leaf, value, expected]) => [
      name,
      { a: leaf },
      value === MISSING ? { other: 1 } : { a: value },
      expected,
    ]),
  );
}

function show(value: unknown): string {
  return value === MISSING ? "(missing)" : JSON.stringify(value);
}

describe("prefix", () => {
  checkLeaves([
    [
      "prefix us-",
      [{ prefix: "us-" }],
      [
        ["us-east-1", true],
        ["us-", true],
        ["eu-west-1", false],
        ["US-east-1", false],
        ["xus-east-1", false],
        [5, false],
        [null, false],
        [MISSING, false],
        [["eu-west-1", "us-west-2"], true],
      ],
    ],
    [
      "empty prefix matches every string",
      [{ prefix: "" }],
      [
        ["", true],
        ["anything", true],
        [0, false],
        [null, false],
      ],
    ],
    [
      "prefix ignoring case",
      [{ prefix: { "equals-ignore-case": "EVENT" } }],
      [
        ["eventName", true],
        ["EvEnTx", true],
        ["xevent", false],
        ["even", false],
        [5, false],
      ],
    ],
    [
      "prefix with regular-expression characters",
      [{ prefix: { "equals-ignore-case": "a.*(" } }],
      [
        ["A.*(b", true],
        ["abc", false],
      ],
    ],
  ]);
});

describe("suffix", () => {
  checkLeaves([
    [
      "suffix .png",
      [{ suffix: ".png" }],
      [
        ["image.png", true],
        [".png", true],
        ["image.PNG", false],
        ["png", false],
        ["image.png.jpg", false],
        [5, false],
      ],
    ],
    [
      "suffix ignoring case",
      [{ suffix: { "equals-ignore-case": ".PNG" } }],
      [
        ["image.png", true],
        ["image.PnG", true],
        ["image.jpg", false],
        [true, false],
      ],
    ],
    [
      "empty suffix matches every string",
      [{ suffix: "" }],
      [
        ["x", true],
        [null, false],
      ],
    ],
  ]);
});

describe("equals-ignore-case", () => {
  checkLeaves([
    [
      "equals-ignore-case alice",
      [{ "equals-ignore-case": "alice" }],
      [
        ["alice", true],
        ["ALICE", true],
        ["Alice", true],
        ["alicex", false],
        ["alic", false],
        [MISSING, false],
        [null, false],
      ],
    ],
    [
      "regular-expression characters are literal",
      [{ "equals-ignore-case": "a.c" }],
      [
        ["A.C", true],
        ["abc", false],
      ],
    ],
    [
      "letters beyond ASCII",
      [{ "equals-ignore-case": "école" }],
      [
        ["ÉCOLE", true],
        ["ecole", false],
      ],
    ],
  ]);
});

describe("wildcard", () => {
  checkLeaves([
    [
      "Start*Instance*",
      [{ wildcard: "Start*Instance*" }],
      [
        ["StartInstances", true],
        ["StartDBInstance", true],
        ["StartInstance", true],
        ["StopInstances", false],
        ["startInstances", false],
        ["xStartInstances", false],
        [5, false],
      ],
    ],
    [
      "a lone star matches every string",
      [{ wildcard: "*" }],
      [
        ["", true],
        ["anything", true],
        [null, false],
      ],
    ],
    [
      "no star is an exact match",
      [{ wildcard: "abc" }],
      [
        ["abc", true],
        ["abcd", false],
      ],
    ],
    [
      "an empty wildcard matches the empty string",
      [{ wildcard: "" }],
      [
        ["", true],
        ["x", false],
      ],
    ],
    [
      "a*b",
      [{ wildcard: "a*b" }],
      [
        ["ab", true],
        ["aXYb", true],
        ["aXbY", false],
        ["ba", false],
      ],
    ],
    [
      "pieces may not overlap",
      [{ wildcard: "ab*ba" }],
      [
        ["aba", false],
        ["abba", true],
      ],
    ],
    [
      "repeated pieces",
      [{ wildcard: "*ab*ab*" }],
      [
        ["abab", true],
        ["xabyabz", true],
        ["aba", false],
      ],
    ],
    [
      "pieces in order",
      [{ wildcard: "a*b*c" }],
      [
        ["abc", true],
        ["abbbc", true],
        ["acb", false],
        ["acbc", true],
      ],
    ],
    [
      "an escaped star is literal",
      [{ wildcard: "a\\*b" }],
      [
        ["a*b", true],
        ["axb", false],
      ],
    ],
    [
      "an escaped backslash is literal",
      [{ wildcard: "a\\\\*" }],
      [
        ["a\\", true],
        ["a\\bc", true],
        ["ab", false],
      ],
    ],
  ]);
});

describe("anything-but", () => {
  checkLeaves([
    [
      "anything-but a string",
      [{ "anything-but": "x" }],
      [
        ["y", true],
        ["x", false],
        ["X", true],
        [MISSING, false],
        [null, true],
        [5, true],
        [true, true],
        [["x", "y"], true],
        [["x"], false],
        [[], false],
        [{ b: "y" }, false],
      ],
    ],
    [
      "anything-but a number",
      [{ "anything-but": 5 }],
      [
        [5, false],
        [5.0, false],
        [6, true],
        ["5", true],
      ],
    ],
    [
      "anything-but strings",
      [{ "anything-but": ["a", "b"] }],
      [
        ["a", false],
        ["b", false],
        ["c", true],
        [1, true],
        [null, true],
      ],
    ],
    [
      "anything-but numbers",
      [{ "anything-but": [1, 2] }],
      [
        [1, false],
        [3, true],
        ["1", true],
      ],
    ],
    [
      "anything-but a prefix",
      [{ "anything-but": { prefix: "init" } }],
      [
        ["initialize", false],
        ["init", false],
        ["start", true],
        [5, true],
        [null, true],
        [MISSING, false],
      ],
    ],
    [
      "anything-but a suffix",
      [{ "anything-but": { suffix: ".png" } }],
      [
        ["a.png", false],
        ["a.jpg", true],
      ],
    ],
    [
      "anything-but equals-ignore-case, one string",
      [{ "anything-but": { "equals-ignore-case": "x" } }],
      [
        ["X", false],
        ["x", false],
        ["y", true],
        [5, true],
      ],
    ],
    [
      "anything-but equals-ignore-case, strings",
      [{ "anything-but": { "equals-ignore-case": ["a", "b"] } }],
      [
        ["A", false],
        ["B", false],
        ["c", true],
      ],
    ],
    [
      "anything-but a wildcard",
      [{ "anything-but": { wildcard: "*.png" } }],
      [
        ["a.png", false],
        ["a.jpg", true],
        [null, true],
      ],
    ],
    [
      "anything-but wildcards",
      [{ "anything-but": { wildcard: ["*.png", "*.jpg"] } }],
      [
        ["a.jpg", false],
        ["a.png", false],
        ["a.gif", true],
      ],
    ],
  ]);
});

describe("numeric", () => {
  checkLeaves([
    [
      "> 0 and <= 5",
      [{ numeric: [">", 0, "<=", 5] }],
      [
        [0, false],
        [0.1, true],
        [5, true],
        [5.1, false],
        [-1, false],
        ["3", false],
        [null, false],
        [MISSING, false],
        [[7, 3], true],
        [[7, 9], false],
      ],
    ],
    [
      ">= 0 and < 5",
      [{ numeric: [">=", 0, "<", 5] }],
      [
        [0, true],
        [5, false],
        [4.999, true],
      ],
    ],
    [
      "= 301.8",
      [{ numeric: ["=", 301.8] }],
      [
        [301.8, true],
        [301.9, false],
        ["301.8", false],
      ],
    ],
    [
      "= 300 against 300.0",
      [{ numeric: ["=", 300] }],
      [
        [JSON.parse("300.0"), true],
        [300.5, false],
      ],
    ],
    [
      "lower bound alone",
      [{ numeric: [">=", 10] }],
      [
        [10, true],
        [9.99, false],
        [1e12, true],
      ],
    ],
    [
      "upper bound alone",
      [{ numeric: ["<", 0] }],
      [
        [-1, true],
        [0, false],
        [-1e12, true],
      ],
    ],
    [
      "upper bound alone, inclusive",
      [{ numeric: ["<=", 0] }],
      [
        [0, true],
        [0.001, false],
      ],
    ],
  ]);
});

describe("cidr", () => {
  checkLeaves([
    [
      "IPv4 /24",
      [{ cidr: "10.0.0.0/24" }],
      [
        ["10.0.0.0", true],
        ["10.0.0.255", true],
        ["10.0.1.0", false],
        ["9.255.255.255", false],
        ["::ffff:10.0.0.7", true],
        ["10.0.0.1/32", false],
        ["not an address", false],
        [167772161, false],
        [null, false],
        [MISSING, false],
        [["192.168.0.1", "10.0.0.9"], true],
      ],
    ],
    [
      "IPv4 block written with host bits",
      [{ cidr: "10.0.0.5/24" }],
      [
        ["10.0.0.9", true],
        ["10.0.1.5", false],
      ],
    ],
    [
      "IPv4 /32",
      [{ cidr: "10.0.0.1/32" }],
      [
        ["10.0.0.1", true],
        ["10.0.0.2", false],
      ],
    ],
    [
      "IPv4 /0",
      [{ cidr: "0.0.0.0/0" }],
      [
        ["203.0.113.9", true],
        ["2001:db8::1", false],
      ],
    ],
    [
      "IPv6 /64",
      [{ cidr: "2001:db8::/64" }],
      [
        ["2001:db8::1", true],
        ["2001:DB8::1", true],
        ["2001:0db8:0000:0000:0000:0000:0000:0001", true],
        ["2001:db8:0:0:ffff:ffff:ffff:ffff", true],
        ["2001:db8:0:1::1", false],
        ["10.0.0.1", false],
      ],
    ],
    [
      "IPv6 block spelled in full",
      [{ cidr: "2001:0DB8:0000:0000:0000:0000:0000:0000/32" }],
      [
        ["2001:db8:ffff::1", true],
        ["2001:db9::1", false],
      ],
    ],
  ]);
});

describe("cidr agrees with node's BlockList", () => {
  it("for random IPv4 blocks and addresses", () => {
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.integer({ min: 0, max: 32 }),
        fc.ipV4(),
        fc.boolean(),
        (network, bits, other, near) => {
          // Half the addresses share the block's first octets, so both answers are common.
          const address = near ? `${network.split(".").slice(0, 3).join(".")}.${other.split(".")[3]}` : other;
          const reference = new BlockList();
          reference.addSubnet(network, bits, "ipv4");
          const pattern = compileEventPattern({ a: [{ cidr: `${network}/${bits}` }] });
          expect(pattern.matches({ a: address })).toBe(reference.check(address, "ipv4"));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("exists", () => {
  checkLeaves([
    [
      "exists: true",
      [{ exists: true }],
      [
        ["x", true],
        ["", true],
        [0, true],
        [false, true],
        [null, true],
        [["x"], true],
        [[null], true],
        [MISSING, false],
        [{}, false],
        [{ b: 1 }, false],
        [[], false],
        [[{ b: 1 }], false],
      ],
    ],
    [
      "exists: false",
      [{ exists: false }],
      [
        [MISSING, true],
        [{ b: 1 }, true],
        [[], true],
        [[{ b: 1 }], true],
        ["x", false],
        [null, false],
        [["x"], false],
      ],
    ],
    [
      "exists: false or a value",
      ["x", { exists: false }],
      [
        [MISSING, true],
        ["x", true],
        ["y", false],
      ],
    ],
  ]);

  const cases: [string, unknown, unknown, boolean][] = [
    ["nested absent field, no parent", { a: { b: [{ exists: false }] } }, {}, true],
    ["nested absent field, empty parent", { a: { b: [{ exists: false }] } }, { a: {} }, true],
    ["nested absent field, parent is a string", { a: { b: [{ exists: false }] } }, { a: "x" }, true],
    ["nested field present", { a: { b: [{ exists: false }] } }, { a: { b: 1 } }, false],
    ["nested field present under a dotted key", { a: { b: [{ exists: false }] } }, { "a.b": 1 }, false],
    [
      "absent in one element of an array of objects",
      { a: { b: [{ exists: false }] } },
      { a: [{ b: 1 }, { c: 2 }] },
      true,
    ],
    [
      "present in every element of an array of objects",
      { a: { b: [{ exists: false }] } },
      { a: [{ b: 1 }] },
      false,
    ],
    [
      "absent field and present field from the same element",
      { a: { b: [{ exists: false }], c: [2] } },
      { a: [{ b: 1, c: 2 }, { c: 3 }] },
      false,
    ],
    ["absent field next to a matching field", { x: ["1"], y: [{ exists: false }] }, { x: "1" }, true],
    ["exists: true on a dotted path", { "a.b": [{ exists: true }] }, { a: { b: null } }, true],
  ];
  checkPatternCases(cases);
});

describe("several operators in one leaf are ORed", () => {
  checkLeaves([
    [
      "exact, prefix, numeric",
      ["exact", { prefix: "pre" }, { numeric: [">", 100] }],
      [
        ["exact", true],
        ["prefix", true],
        [150, true],
        [50, false],
        ["other", false],
      ],
    ],
    [
      "two numeric ranges",
      [{ numeric: ["<", 0] }, { numeric: [">", 10] }],
      [
        [-1, true],
        [11, true],
        [5, false],
      ],
    ],
  ]);
});

describe("$or", () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ["first alternative", { $or: [{ a: ["x"] }, { b: ["y"] }] }, { a: "x" }, true],
    ["second alternative", { $or: [{ a: ["x"] }, { b: ["y"] }] }, { b: "y" }, true],
    ["no alternative", { $or: [{ a: ["x"] }, { b: ["y"] }] }, { a: "y", b: "x" }, false],
    ["ANDed with a sibling field", { c: ["z"], $or: [{ a: ["x"] }, { b: ["y"] }] }, { c: "z", a: "x" }, true],
    [
      "ANDed with a sibling field that fails",
      { c: ["z"], $or: [{ a: ["x"] }, { b: ["y"] }] },
      { a: "x" },
      false,
    ],
    ["inside a field", { a: { $or: [{ b: ["x"] }, { c: ["y"] }] } }, { a: { c: "y" } }, true],
    [
      "inside a field, alternative at the wrong level",
      { a: { $or: [{ b: ["x"] }, { c: ["y"] }] } },
      { c: "y" },
      false,
    ],
    ["nested $or", { $or: [{ a: ["x"] }, { $or: [{ b: ["y"] }, { c: ["z"] }] }] }, { c: "z" }, true],
    [
      "nested $or, nothing",
      { $or: [{ a: ["x"] }, { $or: [{ b: ["y"] }, { c: ["z"] }] }] },
      { d: "z" },
      false,
    ],
    [
      "alternatives with operators: numeric",
      { $or: [{ a: [{ numeric: [">", 5] }] }, { a: [{ prefix: "x" }] }] },
      { a: 6 },
      true,
    ],
    [
      "alternatives with operators: prefix",
      { $or: [{ a: [{ numeric: [">", 5] }] }, { a: [{ prefix: "x" }] }] },
      { a: "xy" },
      true,
    ],
    [
      "alternatives with operators: neither",
      { $or: [{ a: [{ numeric: [">", 5] }] }, { a: [{ prefix: "x" }] }] },
      { a: 4 },
      false,
    ],
    [
      "two $or in different fields, both hold",
      { a: { $or: [{ b: [1] }, { c: [1] }] }, d: { $or: [{ e: [1] }, { f: [1] }] } },
      { a: { c: 1 }, d: { e: 1 } },
      true,
    ],
    [
      "two $or in different fields, one fails",
      { a: { $or: [{ b: [1] }, { c: [1] }] }, d: { $or: [{ e: [1] }, { f: [1] }] } },
      { a: { c: 1 }, d: { g: 1 } },
      false,
    ],
    [
      "array-consistent with the fields beside it",
      { a: { b: ["1"], $or: [{ c: ["2"] }, { d: ["3"] }] } },
      {
        a: [
          { b: "1", c: "0" },
          { b: "0", c: "2" },
        ],
      },
      false,
    ],
    [
      "array-consistent with the fields beside it, one element",
      { a: { b: ["1"], $or: [{ c: ["2"] }, { d: ["3"] }] } },
      { a: [{ b: "0" }, { b: "1", d: "3" }] },
      true,
    ],
  ];
  checkPatternCases(cases);
});

describe("a compiled pattern", () => {
  it("gives the same answers when reused across many events", () => {
    const pattern = compileEventPattern({
      detail: { items: { name: [{ prefix: "a" }], size: [{ numeric: [">", 1] }] } },
      $or: [{ source: ["s1"] }, { source: ["s2"] }],
    });
    const event = (source: string, items: unknown[]) => ({ source, detail: { items } });
    const good = event("s2", [
      { name: "b", size: 5 },
      { name: "ab", size: 2 },
    ]);
    const bad = event("s1", [
      { name: "ab", size: 1 },
      { name: "b", size: 2 },
    ]);
    for (let i = 0; i < 1000; i++) {
      expect(pattern.matches(i % 2 ? good : bad)).toBe(i % 2 === 1);
    }
  });
});
