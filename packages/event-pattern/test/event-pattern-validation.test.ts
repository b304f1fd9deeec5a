import {
  compileEventPattern,
  expandEventPattern,
  MAX_PATTERN_ALTERNATIVES,
  MAX_PATTERN_DEPTH,
  PatternError,
} from "@trailrouter/event-pattern";
import { describe, expect, it } from "vitest";

/** [pattern, path of the error inside the pattern, reason] */
type Invalid = [unknown, string, string | RegExp];

function rejects(cases: Invalid[]) {
  it.each(
    cases.map(([pattern, path, reason]) => [
      JSON.stringify(pattern) ?? String(pattern),
      pattern,
      path,
      reason,
    ]),
  )("%s", (_name, pattern, path, reason) => {
    let error: unknown;
    try {
      compileEventPattern(pattern);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(PatternError);
    const patternError = error as PatternError;
    expect(patternError.path).toBe(path);
    if (typeof reason === "string") expect(patternError.reason).toBe(reason);
    else expect(patternError.reason).toMatch(reason);
    expect(patternError.code).toBe("InvalidEventPattern");
    expect(patternError.message).toBe(path ? `${path}: ${patternError.reason}` : patternError.reason);
    expect(patternError.pattern).toBeUndefined();
  });
}

describe("invalid pattern structure", () => {
  rejects([
    [null, "", "Event pattern must be a JSON object"],
    [[{ a: ["x"] }], "", "Event pattern must be a JSON object"],
    ['{"a": ["x"]}', "", "Event pattern must be a JSON object"],
    [{}, "", "Empty objects are not allowed"],
    [{ a: "x" }, "a", '"a" must be an object or an array'],
    [{ a: 5 }, "a", '"a" must be an object or an array'],
    [{ a: null }, "a", '"a" must be an object or an array'],
    [{ a: true }, "a", '"a" must be an object or an array'],
    [{ a: new Date(0) }, "a", '"a" must be an object or an array'],
    [{ a: [] }, "a", "Empty arrays are not allowed"],
    [{ a: {} }, "a", "Empty objects are not allowed"],
    [{ detail: { eventName: [] } }, "detail.eventName", "Empty arrays are not allowed"],
    [
      { detail: { eventName: "CreateUser" } },
      "detail.eventName",
      '"eventName" must be an object or an array',
    ],
    [
      { detail: { eventName: ["x", ["y"]] } },
      "detail.eventName[1]",
      "Match value must be String, number, true, false, or null",
    ],
    [{ a: [Number.POSITIVE_INFINITY] }, "a[0]", "Match value must be String, number, true, false, or null"],
    [{ a: [new Map()] }, "a[0]", "Match value must be String, number, true, false, or null"],
    [{ a: [{}] }, "a[0]", "Empty objects are not allowed"],
    [{ a: [{ prefix: "x", suffix: "y" }] }, "a[0]", "Only one key allowed in match expression"],
    [{ a: ["ok", { FOO: 1 }] }, "a[1].FOO", "Unrecognized match type FOO"],
    [{ a: [{ EXISTS: true }] }, "a[0].EXISTS", "Unrecognized match type EXISTS"],
    [{ a: [{ Prefix: "x" }] }, "a[0].Prefix", "Unrecognized match type Prefix"],
    [{ a: [{ exact: "x" }] }, "a[0].exact", "Unrecognized match type exact"],
    [{ a: [{ $or: [{ b: ["x"] }, { c: ["y"] }] }] }, "a[0].$or", "Unrecognized match type $or"],
  ]);
});

describe("invalid operators", () => {
  rejects([
    [{ a: [{ prefix: 5 }] }, "a[0].prefix", "prefix match pattern must be a string"],
    [{ a: [{ prefix: null }] }, "a[0].prefix", "prefix match pattern must be a string"],
    [{ a: [{ prefix: ["x"] }] }, "a[0].prefix", "prefix match pattern must be a string"],
    [{ a: [{ prefix: {} }] }, "a[0].prefix", "Empty objects are not allowed"],
    [{ a: [{ prefix: { wildcard: "x*" } }] }, "a[0].prefix.wildcard", "Unsupported prefix pattern: wildcard"],
    [
      { a: [{ prefix: { "equals-ignore-case": 5 } }] },
      "a[0].prefix.equals-ignore-case",
      "equals-ignore-case match pattern must be a string",
    ],
    [{ a: [{ suffix: 5 }] }, "a[0].suffix", "suffix match pattern must be a string"],
    [{ a: [{ suffix: { prefix: "x" } }] }, "a[0].suffix.prefix", "Unsupported suffix pattern: prefix"],
    [
      { a: [{ "equals-ignore-case": ["a"] }] },
      "a[0].equals-ignore-case",
      "equals-ignore-case match pattern must be a string",
    ],
    [
      { a: [{ "equals-ignore-case": null }] },
      "a[0].equals-ignore-case",
      "equals-ignore-case match pattern must be a string",
    ],
    [{ a: [{ wildcard: 5 }] }, "a[0].wildcard", "wildcard match pattern must be a string"],
    [{ a: [{ wildcard: "a**b" }] }, "a[0].wildcard", "Consecutive wildcard characters at pos 2"],
    [{ a: [{ wildcard: "a\\b" }] }, "a[0].wildcard", "Invalid escape character at pos 1"],
    [{ a: [{ wildcard: "a\\" }] }, "a[0].wildcard", "Invalid escape character at pos 1"],
    [{ a: [{ wildcard: "*a".repeat(21) }] }, "a[0].wildcard", /^Rule is too complex/],
    [{ a: [{ exists: "true" }] }, "a[0].exists", "exists match pattern must be either true or false."],
    [{ a: [{ exists: 1 }] }, "a[0].exists", "exists match pattern must be either true or false."],
    [{ a: [{ exists: null }] }, "a[0].exists", "exists match pattern must be either true or false."],
  ]);
});

describe("invalid anything-but", () => {
  rejects([
    [{ a: [{ "anything-but": null }] }, "a[0].anything-but", /^Value of anything-but must be/],
    [{ a: [{ "anything-but": true }] }, "a[0].anything-but", /^Value of anything-but must be/],
    [{ a: [{ "anything-but": [] }] }, "a[0].anything-but", "Empty arrays are not allowed"],
    [
      { a: [{ "anything-but": ["a", 1] }] },
      "a[0].anything-but",
      "Inside anything but list, either all values are number or string, mixed type is not supported",
    ],
    [
      { a: [{ "anything-but": ["a", null] }] },
      "a[0].anything-but[1]",
      "Inside anything but list, start|null|boolean is not supported.",
    ],
    [
      { a: [{ "anything-but": [true] }] },
      "a[0].anything-but[0]",
      "Inside anything but list, start|null|boolean is not supported.",
    ],
    [
      { a: [{ "anything-but": [["a"]] }] },
      "a[0].anything-but[0]",
      "Inside anything but list, start|null|boolean is not supported.",
    ],
    [{ a: [{ "anything-but": {} }] }, "a[0].anything-but", "Empty objects are not allowed"],
    [
      { a: [{ "anything-but": { prefix: "a", suffix: "b" } }] },
      "a[0].anything-but",
      "Only one key allowed in match expression",
    ],
    [{ a: [{ "anything-but": { prefix: "" } }] }, "a[0].anything-but.prefix", "Null prefix not allowed"],
    [{ a: [{ "anything-but": { suffix: "" } }] }, "a[0].anything-but.suffix", "Null suffix not allowed"],
    [
      { a: [{ "anything-but": { prefix: 5 } }] },
      "a[0].anything-but.prefix",
      "prefix match pattern must be a string",
    ],
    [
      { a: [{ "anything-but": { prefix: { "equals-ignore-case": "x" } } }] },
      "a[0].anything-but.prefix",
      /^Unsupported anything-but pattern: prefix with equals-ignore-case/,
    ],
    [
      { a: [{ "anything-but": { numeric: [">", 1] } }] },
      "a[0].anything-but.numeric",
      "Unsupported anything-but pattern: numeric",
    ],
    [
      { a: [{ "anything-but": { exists: true } }] },
      "a[0].anything-but.exists",
      "Unsupported anything-but pattern: exists",
    ],
    [
      { a: [{ "anything-but": { cidr: "10.0.0.0/8" } }] },
      "a[0].anything-but.cidr",
      "Unsupported anything-but pattern: cidr",
    ],
    [
      { a: [{ "anything-but": { "equals-ignore-case": 5 } }] },
      "a[0].anything-but.equals-ignore-case",
      "equals-ignore-case match pattern must be a string",
    ],
    [
      { a: [{ "anything-but": { "equals-ignore-case": [] } }] },
      "a[0].anything-but.equals-ignore-case",
      "Empty arrays are not allowed",
    ],
    [
      { a: [{ "anything-but": { "equals-ignore-case": ["a", 5] } }] },
      "a[0].anything-but.equals-ignore-case[1]",
      "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    ],
    [
      { a: [{ "anything-but": { wildcard: "a**" } }] },
      "a[0].anything-but.wildcard",
      "Consecutive wildcard characters at pos 2",
    ],
    [
      { a: [{ "anything-but": { wildcard: ["*.png", "a**"] } }] },
      "a[0].anything-but.wildcard[1]",
      "Consecutive wildcard characters at pos 2",
    ],
  ]);
});

describe("invalid numeric", () => {
  rejects([
    [{ a: [{ numeric: ">" }] }, "a[0].numeric", "Value of numeric must be an array."],
    [{ a: [{ numeric: [] }] }, "a[0].numeric", "Empty arrays are not allowed"],
    [{ a: [{ numeric: [5] }] }, "a[0].numeric[0]", "Invalid member in numeric match: 5"],
    [{ a: [{ numeric: ["!", 5] }] }, "a[0].numeric[0]", "Unrecognized numeric range operator: !"],
    [{ a: [{ numeric: ["==", 5] }] }, "a[0].numeric[0]", "Unrecognized numeric range operator: =="],
    [{ a: [{ numeric: [">", "5"] }] }, "a[0].numeric[1]", "Value of > must be numeric"],
    [{ a: [{ numeric: [">"] }] }, "a[0].numeric[1]", "Value of > must be numeric"],
    [{ a: [{ numeric: ["=", null] }] }, "a[0].numeric[1]", "Value of = must be numeric"],
    [{ a: [{ numeric: ["=", 5, "<", 6] }] }, "a[0].numeric[2]", "Too many elements in numeric expression"],
    [{ a: [{ numeric: ["<", 5, ">", 0] }] }, "a[0].numeric[2]", "Too many elements in numeric expression"],
    [{ a: [{ numeric: [">", 0, ">", 5] }] }, "a[0].numeric[2]", "Bad numeric range operator: >"],
    [{ a: [{ numeric: [">", 0, "=", 5] }] }, "a[0].numeric[2]", "Bad numeric range operator: ="],
    [{ a: [{ numeric: [">", 0, 5] }] }, "a[0].numeric[2]", "Bad value in numeric range: 5"],
    [{ a: [{ numeric: [">", 0, "<", "x"] }] }, "a[0].numeric[3]", "Value of < must be numeric"],
    [{ a: [{ numeric: [">", 0, "<"] }] }, "a[0].numeric[3]", "Value of < must be numeric"],
    [
      { a: [{ numeric: [">", 0, "<", 5, "<", 6] }] },
      "a[0].numeric[4]",
      "Too many terms in numeric range expression",
    ],
    [{ a: [{ numeric: [">", 5, "<", 5] }] }, "a[0].numeric", "Bottom must be less than top"],
    [{ a: [{ numeric: [">=", 6, "<=", 5] }] }, "a[0].numeric", "Bottom must be less than top"],
  ]);
});

describe("invalid cidr", () => {
  rejects([
    [{ a: [{ cidr: 5 }] }, "a[0].cidr", "cidr match pattern must be a string"],
    [{ a: [{ cidr: "10.0.0.0" }] }, "a[0].cidr", "Malformed CIDR, one '/' required"],
    [{ a: [{ cidr: "10.0.0.0/24/1" }] }, "a[0].cidr", "Malformed CIDR, one '/' required"],
    [{ a: [{ cidr: "" }] }, "a[0].cidr", "Malformed CIDR, one '/' required"],
    [
      { a: [{ cidr: "10.0.0.0/33" }] },
      "a[0].cidr",
      "Malformed CIDR, mask bits must be an integer from 0 to 32",
    ],
    [
      { a: [{ cidr: "10.0.0.0/x" }] },
      "a[0].cidr",
      "Malformed CIDR, mask bits must be an integer from 0 to 32",
    ],
    [
      { a: [{ cidr: "10.0.0.0/-1" }] },
      "a[0].cidr",
      "Malformed CIDR, mask bits must be an integer from 0 to 32",
    ],
    [
      { a: [{ cidr: "10.0.0.0/" }] },
      "a[0].cidr",
      "Malformed CIDR, mask bits must be an integer from 0 to 32",
    ],
    [
      { a: [{ cidr: "2001:db8::/129" }] },
      "a[0].cidr",
      "Malformed CIDR, mask bits must be an integer from 0 to 128",
    ],
    [{ a: [{ cidr: "10.0.0.256/24" }] }, "a[0].cidr", "Malformed CIDR, invalid IP address 10.0.0.256"],
    [{ a: [{ cidr: "2001:db8:::/64" }] }, "a[0].cidr", "Malformed CIDR, invalid IP address 2001:db8:::"],
    [{ a: [{ cidr: "example.com/24" }] }, "a[0].cidr", "Malformed CIDR, invalid IP address example.com"],
  ]);
});

describe("invalid $or", () => {
  const manyOrs = Object.fromEntries(
    Array.from({ length: 11 }, (_, i) => [`f${i}`, { $or: [{ a: [1] }, { b: [1] }] }]),
  );
  rejects([
    [{ $or: { a: ["x"] } }, "$or", "$or must be an array of at least 2 objects"],
    [{ $or: [{ a: ["x"] }] }, "$or", "$or must be an array of at least 2 objects"],
    [{ $or: [] }, "$or", "$or must be an array of at least 2 objects"],
    [{ $or: [{ a: ["x"] }, "b"] }, "$or[1]", "$or alternatives must be objects"],
    [{ $or: [{ a: ["x"] }, ["b"]] }, "$or[1]", "$or alternatives must be objects"],
    [{ $or: [{ a: ["x"] }, {}] }, "$or[1]", "Empty objects are not allowed"],
    [{ $or: [{ a: ["x"] }, { b: [] }] }, "$or[1].b", "Empty arrays are not allowed"],
    [
      { detail: { $or: [{ a: ["x"] }, { b: { c: "x" } }] } },
      "detail.$or[1].b.c",
      '"c" must be an object or an array',
    ],
    [
      { $or: [{ a: ["x"] }, { $or: [{ b: ["y"] }, { c: [{ prefix: 1 }] }] }] },
      "$or[1].$or[1].c[0].prefix",
      "prefix match pattern must be a string",
    ],
    [manyOrs, "f9", /^Rule is too complex/],
  ]);

  it("accepts as many alternatives as the limit", () => {
    const ors = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`f${i}`, { $or: [{ a: [1] }, { b: [1] }] }]),
    );
    expect(expandEventPattern(ors)).toHaveLength(2 ** 9);
    expect(2 ** 9).toBeLessThanOrEqual(MAX_PATTERN_ALTERNATIVES);
  });
});

describe("patterns nested too deeply", () => {
  const nested = (depth: number, leaf: unknown): Record<string, unknown> => {
    let pattern: unknown = leaf;
    for (let i = 0; i < depth; i++) pattern = { a: pattern };
    return pattern as Record<string, unknown>;
  };

  it("refuses a pattern nested deeper than the limit with its path, without overflowing the stack", () => {
    for (const depth of [MAX_PATTERN_DEPTH + 1, 100_000]) {
      const error = (() => {
        try {
          expandEventPattern(nested(depth, ["x"]));
        } catch (thrown) {
          return thrown as PatternError;
        }
        throw new Error("accepted");
      })();
      expect(error).toBeInstanceOf(PatternError);
      expect(error.reason).toBe(`Event pattern is nested more than ${MAX_PATTERN_DEPTH} levels deep`);
      expect(error.path).toBe(Array(MAX_PATTERN_DEPTH).fill("a").join("."));
    }
  });

  it("accepts a pattern nested as deep as the limit, also through $or", () => {
    expect(expandEventPattern(nested(MAX_PATTERN_DEPTH - 1, ["x"]))).toHaveLength(1);
    const throughOr = { $or: [nested(MAX_PATTERN_DEPTH - 2, ["x"]), { b: ["y"] }] };
    expect(expandEventPattern(throughOr)).toHaveLength(2);
    expect(() => expandEventPattern({ $or: [nested(MAX_PATTERN_DEPTH, ["x"]), { b: ["y"] }] })).toThrow(
      PatternError,
    );
  });
});

describe("expandEventPattern", () => {
  it("splits dotted keys into segments and expands $or into conjunctions", () => {
    const conjunctions = expandEventPattern({ "a.b": ["x"], c: { $or: [{ d: [1] }, { "e.f": [2] }] } });
    expect(conjunctions.map((c) => c.map((constraint) => constraint.segments))).toEqual([
      [
        ["a", "b"],
        ["c", "d"],
      ],
      [
        ["a", "b"],
        ["c", "e", "f"],
      ],
    ]);
    const leaf = conjunctions[0]![0]!.leaf;
    expect([...leaf.exact.strings]).toEqual(["x"]);
    expect(leaf.test("x")).toBe(true);
    expect(leaf.test("y")).toBe(false);
  });
});
