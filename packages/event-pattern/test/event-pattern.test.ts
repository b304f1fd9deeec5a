import { compileEventPattern } from "@trailrouter/event-pattern";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadSampleRecords, type SampleRecord } from "./fixtures/cloudtrail-samples.js";
import { checkPatternCases } from "./pattern-cases.js";

const json = (text: string): unknown => JSON.parse(text);
const check = checkPatternCases;

describe("event patterns: fields", () => {
  check([
    ["a named field with a listed value", { a: ["x"] }, { a: "x" }, true],
    ["a named field with another value", { a: ["x"] }, { a: "y" }, false],
    ["a named field missing from the event", { a: ["x"] }, {}, false],
    ["the value under another field", { a: ["x"] }, { b: "x" }, false],
    ["fields the pattern does not name are ignored", { a: ["x"] }, { a: "x", b: 1, c: { d: [] } }, true],
    ["fields ANDed: all hold", { a: ["x"], b: ["y"] }, { a: "x", b: "y" }, true],
    ["fields ANDed: one differs", { a: ["x"], b: ["y"] }, { a: "x", b: "z" }, false],
    ["fields ANDed: one missing", { a: ["x"], b: ["y"] }, { a: "x" }, false],
    ["values ORed: second value", { a: ["x", "y"] }, { a: "y" }, true],
    ["values ORed: none", { a: ["x", "y"] }, { a: "z" }, false],
    ["keys are case-sensitive", { EventName: ["CreateUser"] }, { eventName: "CreateUser" }, false],
    ["values are case-sensitive", { eventName: ["CreateUser"] }, { eventName: "createuser" }, false],
    ["an inherited property name is not a field", { constructor: ["x"] }, {}, false],
    ["an own field named like an inherited property", { constructor: ["x"] }, { constructor: "x" }, true],
    ["__proto__ as an own field", json('{"__proto__": ["x"]}'), json('{"__proto__": "x"}'), true],
    ["__proto__ missing", json('{"__proto__": [{"exists": true}]}'), {}, false],
    ["an event that is not an object has no fields", { a: ["x"] }, "x", false],
    ["null has no fields", { a: [null] }, null, false],
  ]);
});

describe("event patterns: exact values are type-strict", () => {
  check([
    ['string "300" against number 300', { a: ["300"] }, { a: 300 }, false],
    ['number 300 against string "300"', { a: [300] }, { a: "300" }, false],
    ["number against the same number", { a: [300] }, { a: 300 }, true],
    ["300 against 300.0", { a: [300] }, json('{"a": 300.0}'), true],
    ["300.0 against 300", json('{"a": [300.0]}'), { a: 300 }, true],
    ["3e2 against 300", json('{"a": [3e2]}'), { a: 300 }, true],
    ["0.1 against 0.10", { a: [0.1] }, json('{"a": 0.10}'), true],
    ["301.8 against 301.9", { a: [301.8] }, { a: 301.9 }, false],
    ["true against true", { a: [true] }, { a: true }, true],
    ['true against "true"', { a: [true] }, { a: "true" }, false],
    ["true against 1", { a: [true] }, { a: 1 }, false],
    ["false against false", { a: [false] }, { a: false }, true],
    ["false against 0", { a: [false] }, { a: 0 }, false],
    ["false against null", { a: [false] }, { a: null }, false],
    ["null against null", { a: [null] }, { a: null }, true],
    ["null against a missing field", { a: [null] }, {}, false],
    ['null against ""', { a: [null] }, { a: "" }, false],
    ['null against "null"', { a: [null] }, { a: "null" }, false],
    ["null against 0", { a: [null] }, { a: 0 }, false],
    ["null against false", { a: [null] }, { a: false }, false],
    ['"" against ""', { a: [""] }, { a: "" }, true],
    ['"" against null', { a: [""] }, { a: null }, false],
    ['"" against a missing field', { a: [""] }, {}, false],
    ["mixed types in one leaf: the number", { a: ["x", 5, true, null] }, { a: 5 }, true],
    ["mixed types in one leaf: null", { a: ["x", 5, true, null] }, { a: null }, true],
    ['mixed types in one leaf: "5"', { a: ["x", 5, true, null] }, { a: "5" }, false],
  ]);
});

describe("event patterns: nested objects", () => {
  check([
    ["nested field", { a: { b: ["x"] } }, { a: { b: "x" } }, true],
    ["nested field, other value", { a: { b: ["x"] } }, { a: { b: "y" } }, false],
    ["nested field, parent is a string", { a: { b: ["x"] } }, { a: "x" }, false],
    ["nested field, sibling key", { a: { b: ["x"] } }, { a: { c: "x" } }, false],
    ["nested field at the top level", { a: { b: ["x"] } }, { b: "x" }, false],
    ["three levels", { a: { b: { c: [1] } } }, { a: { b: { c: 1 } } }, true],
    ["three levels, other value", { a: { b: { c: [1] } } }, { a: { b: { c: 2 } } }, false],
    ["a leaf never matches an object", { a: ["x"] }, { a: { b: "x" } }, false],
    ["JSON inside a string is not parsed", { detail: { a: ["x"] } }, { detail: '{"a": "x"}' }, false],
    ["nested fields ANDed", { a: { b: ["x"], c: ["y"] }, d: [1] }, { a: { b: "x", c: "y" }, d: 1 }, true],
    [
      "nested fields ANDed, one differs",
      { a: { b: ["x"], c: ["y"] }, d: [1] },
      { a: { b: "x", c: "n" }, d: 1 },
      false,
    ],
  ]);
});

describe("event patterns: array values", () => {
  check([
    ["any element matches", { a: ["x"] }, { a: ["y", "x"] }, true],
    ["no element matches", { a: ["x"] }, { a: ["y", "z"] }, false],
    ["any pattern value against any element", { a: ["x", "y"] }, { a: ["z", "y"] }, true],
    ["an empty array matches no value", { a: ["x"] }, { a: [] }, false],
    ["[null] does not match []", { a: [null] }, { a: [] }, false],
    ["[null] matches [null]", { a: [null] }, { a: [null] }, true],
    ["numbers in an array", { a: [2] }, { a: [1, 2.0, 3] }, true],
    ["elements of nested arrays", { a: [1] }, { a: [[0, 1]] }, true],
    ["objects in the array are not leaf values", { a: ["x"] }, { a: [{ b: "x" }] }, false],
    ["a field inside an array of objects", { a: { b: ["x"] } }, { a: [{ b: "y" }, { b: "x" }] }, true],
    [
      "a field inside an array of objects, no match",
      { a: { b: ["x"] } },
      { a: [{ b: "y" }, { c: "x" }] },
      false,
    ],
    [
      "array-consistent: two fields from different elements",
      { a: { b: ["x"], c: ["y"] } },
      {
        a: [
          { b: "x", c: "n" },
          { b: "n", c: "y" },
        ],
      },
      false,
    ],
    [
      "array-consistent: two fields from one element",
      { a: { b: ["x"], c: ["y"] } },
      {
        a: [
          { b: "x", c: "n" },
          { b: "x", c: "y" },
        ],
      },
      true,
    ],
    [
      "array-consistent through deeper levels",
      { a: { b: { c: ["1"] }, d: ["2"] } },
      {
        a: [
          { b: [{ c: "1" }], d: "3" },
          { b: [{ c: "0" }], d: "2" },
        ],
      },
      false,
    ],
    [
      "array-consistent through deeper levels, consistent element",
      { a: { b: { c: ["1"] }, d: ["2"] } },
      { a: [{ b: [{ c: "0" }, { c: "1" }], d: "2" }] },
      true,
    ],
    [
      "different arrays choose their elements independently",
      { a: { b: ["x"] }, c: { d: ["y"] } },
      { a: [{ b: "x" }, { b: "n" }], c: [{ d: "n" }, { d: "y" }] },
      true,
    ],
    ["an event that is an array of objects", { a: ["x"] }, [{ a: "y" }, { a: "x" }], true],
  ]);
});

describe("event patterns: nested and dotted keys are the same path", () => {
  check([
    ["nested pattern, dotted event key", { a: { b: ["x"] } }, { "a.b": "x" }, true],
    ["dotted pattern key, nested event", { "a.b": ["x"] }, { a: { b: "x" } }, true],
    ["dotted pattern key, dotted event key", { "a.b": ["x"] }, { "a.b": "x" }, true],
    ["dotted pattern key, other value", { "a.b": ["x"] }, { a: { b: "y" } }, false],
    ["dotted pattern key, dotted event key, other value", { "a.b": ["x"] }, { "a.b": "y" }, false],
    ["partly dotted on both sides", { a: { "b.c": ["x"] } }, { "a.b": { c: "x" } }, true],
    ["fully dotted pattern, partly dotted event", { "a.b.c": ["x"] }, { a: { "b.c": "x" } }, true],
    [
      "sibling fields spelled differently",
      { a: { b: ["x"], c: ["y"] } },
      { a: { b: "x" }, "a.c": "y" },
      true,
    ],
    ["dotted event key holding an array", { a: { b: ["x"] } }, { "a.b": ["y", "x"] }, true],
    [
      "dotted event key holding an array of objects",
      { a: { b: { c: ["x"], d: ["y"] } } },
      {
        "a.b": [
          { c: "x", d: "n" },
          { c: "x", d: "y" },
        ],
      },
      true,
    ],
    ["a dot is not a wildcard", { "a.b": ["x"] }, { ab: "x" }, false],
    ["a dotted key needs the whole path", { "a.b": ["x"] }, { a: "x" }, false],
  ]);
});

describe("event patterns on real CloudTrail records", () => {
  const records = loadSampleRecords();
  const byName = (name: string): SampleRecord => {
    const record = records.find((r) => r.eventName === name);
    if (!record) throw new Error(`no sample record ${name}`);
    return record;
  };

  it("matches exactly the records with the named source and event name", () => {
    for (const record of records) {
      const pattern = compileEventPattern({
        eventSource: [record.eventSource],
        eventName: [record.eventName],
      });
      const matched = records.filter((r) => pattern.matches(r));
      expect(matched).toContain(record);
      for (const other of matched) {
        expect([other.eventSource, other.eventName]).toEqual([record.eventSource, record.eventName]);
      }
      expect(matched.length).toBe(
        records.filter((r) => r.eventSource === record.eventSource && r.eventName === record.eventName)
          .length,
      );
    }
  });

  it("reads nested fields of the records, spelled nested or dotted", () => {
    const nested = compileEventPattern({ userIdentity: { type: ["IAMUser"] } });
    const dotted = compileEventPattern({ "userIdentity.type": ["IAMUser"] });
    const expected = records.filter(
      (r) => (r.userIdentity as { type?: string } | undefined)?.type === "IAMUser",
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(records.filter((r) => nested.matches(r))).toEqual(expected);
    expect(records.filter((r) => dotted.matches(r))).toEqual(expected);
  });

  it("finds a console login without MFA", () => {
    const pattern = compileEventPattern({
      eventSource: ["signin.amazonaws.com"],
      eventName: ["ConsoleLogin"],
      additionalEventData: { MFAUsed: ["No"] },
      responseElements: { ConsoleLogin: ["Success"] },
    });
    expect(pattern.matches(byName("ConsoleLogin"))).toBe(true);
    expect(pattern.matches(byName("StopLogging"))).toBe(false);
    const withMfa = structuredClone(byName("ConsoleLogin"));
    (withMfa.additionalEventData as Record<string, string>).MFAUsed = "Yes";
    expect(pattern.matches(withMfa)).toBe(false);
  });

  it("finds port 22 opened, reading one element of the rule set", () => {
    const openedPort = (protocol: string) =>
      compileEventPattern({
        eventName: ["AuthorizeSecurityGroupIngress"],
        responseElements: {
          securityGroupRuleSet: {
            items: {
              ipProtocol: [protocol],
              fromPort: [{ numeric: ["<=", 22] }],
              toPort: [{ numeric: [">=", 22] }],
              isEgress: [false],
            },
          },
        },
      });
    const record = byName("AuthorizeSecurityGroupIngress");
    expect(openedPort("tcp").matches(record)).toBe(true);
    expect(openedPort("udp").matches(record)).toBe(false);
  });
});

/**
 * Property: for events and patterns over a few keys, some of them dotted, the compiled pattern
 * agrees with a reference that flattens both sides to dotted paths (no arrays of objects here,
 * so array consistency plays no part). Half the patterns are drawn from the event's own fields,
 * so that many of them match.
 */
describe("event patterns agree with a flattening reference", () => {
  const scalars: unknown[] = ["x", "1", 1, true, null];
  const key = fc.constantFrom("a", "b", "a.b");
  const scalar = fc.constantFrom(...scalars);
  const { event } = fc.letrec((tie) => ({
    event: fc.dictionary(key, tie("value"), { minKeys: 1, maxKeys: 3 }),
    value: fc.oneof({ depthSize: "small" }, scalar, fc.array(scalar, { maxLength: 3 }), tie("event")),
  }));
  const { pattern } = fc.letrec((tie) => ({
    pattern: fc.dictionary(key, tie("node"), { minKeys: 1, maxKeys: 2 }),
    node: fc.oneof({ depthSize: "small" }, fc.array(scalar, { minLength: 1, maxLength: 3 }), tie("pattern")),
  }));
  const leafFor = (value: unknown) =>
    fc.subarray([...new Set([...[value].flat(), ...scalars])], { minLength: 1, maxLength: 3 });
  const patternFor = (object: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> =>
    fc
      .subarray(Object.keys(object), { minLength: 1 })
      .chain((keys) =>
        fc
          .tuple(...keys.map((k) => nodeFor(object[k])))
          .map((nodes) => Object.fromEntries(keys.map((k, i) => [k, nodes[i]]))),
      );
  const nodeFor = (value: unknown): fc.Arbitrary<unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
      ? patternFor(value as Record<string, unknown>)
      : leafFor(value);
  const dotted = (node: Record<string, unknown>, prefix = ""): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(node).flatMap(([k, v]) =>
        Array.isArray(v)
          ? [[prefix + k, v]]
          : Object.entries(dotted(v as Record<string, unknown>, `${prefix}${k}.`)),
      ),
    );
  const eventAndPattern = event.chain((e) =>
    fc.tuple(
      fc.constant(e),
      fc.oneof(
        pattern,
        patternFor(e),
        patternFor(e).map((p) => dotted(p)),
      ),
    ),
  );

  it("matches when every pattern path has an event value among its listed values", () => {
    const outcomes = { matched: 0, unmatched: 0 };
    fc.assert(
      fc.property(eventAndPattern, ([e, p]) => {
        const expected = referenceMatch(p, e);
        outcomes[expected ? "matched" : "unmatched"]++;
        expect(compileEventPattern(p).matches(e)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
    // Both outcomes are well represented, so the agreement means something.
    expect(outcomes.matched).toBeGreaterThan(300);
    expect(outcomes.unmatched).toBeGreaterThan(300);
  });
});

function referenceMatch(pattern: unknown, event: unknown): boolean {
  const values = new Map<string, unknown[]>();
  const flattenEvent = (value: unknown, path: string) => {
    if (Array.isArray(value)) for (const element of value) flattenEvent(element, path);
    else if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) flattenEvent(v, path ? `${path}.${k}` : k);
    } else values.set(path, [...(values.get(path) ?? []), value]);
  };
  flattenEvent(event, "");
  const leaves: [string, unknown[]][] = [];
  const flattenPattern = (node: Record<string, unknown>, path: string) => {
    for (const [k, v] of Object.entries(node)) {
      const p = path ? `${path}.${k}` : k;
      if (Array.isArray(v)) leaves.push([p, v]);
      else flattenPattern(v as Record<string, unknown>, p);
    }
  };
  flattenPattern(pattern as Record<string, unknown>, "");
  return leaves.every(([path, allowed]) => (values.get(path) ?? []).some((v) => allowed.includes(v)));
}
