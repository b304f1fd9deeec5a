/**
 * The prefilter of a pattern set: a test on a record's JSON text that must be false only for
 * records no pattern matches, however the text spells them.
 */
import { compileEventPattern, compilePatterns } from "@trailrouter/event-pattern";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadSampleRecords } from "./fixtures/cloudtrail-samples.js";

type Json = Record<string, unknown>;

/**
 * JSON text of `value` with every character of its strings for which `escaped` says so written as
 * a `\uXXXX` escape, and `space` after each comma and colon: the same value, spelled otherwise.
 */
function spell(value: unknown, escaped: (index: number) => boolean, space: string): string {
  let counter = 0;
  const string = (text: string) => {
    let out = '"';
    for (const char of text) {
      if (escaped(counter++)) {
        for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
      } else {
        out += JSON.stringify(char).slice(1, -1);
      }
    }
    return `${out}"`;
  };
  const write = (v: unknown): string => {
    if (typeof v === "string") return string(v);
    if (Array.isArray(v)) return `[${v.map(write).join(`,${space}`)}]`;
    if (typeof v === "object" && v !== null) {
      return `{${Object.entries(v)
        .map(([k, item]) => `${string(k)}:${space}${write(item)}`)
        .join(`,${space}`)}}`;
    }
    return JSON.stringify(v);
  };
  return write(value);
}

describe("the prefilter of a pattern set", () => {
  it("searches the most selective literal leaf of each alternative", () => {
    const set = compilePatterns({
      instances: { eventSource: ["ec2.amazonaws.com"], eventName: ["RunInstances", "TerminateInstances"] },
      creates: {
        eventSource: ["iam.amazonaws.com"],
        eventName: [{ prefix: "Create" }],
        userIdentity: { arn: ["arn:aws:iam::1:user/bob"] },
      },
      either: {
        $or: [
          { errorCode: [{ suffix: "Denied" }] },
          { requestParameters: { bucketName: [{ wildcard: "logs-*" }] } },
        ],
      },
    });
    expect(set.prefilter?.needles).toEqual([
      '"RunInstances"',
      '"TerminateInstances"',
      '"arn:aws:iam::1:user/bob"',
      'Denied"',
      '"logs-',
    ]);
    const mayMatch = (record: Json) => set.prefilter!.mayMatch(JSON.stringify(record));
    expect(mayMatch({ eventSource: "ec2.amazonaws.com", eventName: "RunInstances" })).toBe(true);
    expect(mayMatch({ eventSource: "ec2.amazonaws.com", eventName: "DescribeInstances" })).toBe(false);
    expect(mayMatch({ errorCode: "AccessDenied" })).toBe(true);
    expect(mayMatch({ requestParameters: { bucketName: "logs-2026" } })).toBe(true);
    // A backslash may spell any needle: such a text is never ruled out.
    expect(mayMatch({ eventName: "DescribeInstances", userAgent: 'say "hi"' })).toBe(true);
    expect(set.prefilter!.mayMatch('{"eventName":"Run\\u0049nstances"}')).toBe(true);
  });

  it("leaves out of a needle half a surrogate pair that an affix ends with", () => {
    const set = compilePatterns({ p: { a: [{ prefix: "x\ud83d" }] }, s: { b: [{ suffix: "\ude00y" }] } });
    expect(set.prefilter?.needles).toEqual(['"x', 'y"']);
    expect(set.prefilter!.mayMatch(JSON.stringify({ a: "x😀" }))).toBe(true);
    expect(set.prefilter!.mayMatch(JSON.stringify({ b: "😀y" }))).toBe(true);
  });

  it("is absent when an alternative pins no literal string", () => {
    const literal = { eventName: ["CreateUser"] };
    for (const pattern of [
      { errorCode: [{ exists: true }] },
      { errorCode: [{ exists: false }] },
      { eventName: [{ "anything-but": "CreateUser" }] },
      { eventName: [{ "equals-ignore-case": "createuser" }] },
      { eventName: [{ prefix: { "equals-ignore-case": "create" } }] },
      { eventName: [{ wildcard: "*User*" }] },
      { eventName: ["CreateUser", null] },
      { readOnly: [false] },
      { "responseElements.count": [3] },
      { "responseElements.count": [{ numeric: [">", 3] }] },
      { sourceIPAddress: [{ cidr: "10.0.0.0/8" }] },
      { $or: [literal, { errorCode: [{ exists: true }] }] },
    ]) {
      expect(compilePatterns({ literal, other: pattern }).prefilter, JSON.stringify(pattern)).toBeUndefined();
    }
    // One literal leaf is enough, whatever the other leaves of the alternative.
    const mixed = compilePatterns({
      p: { eventName: ["CreateUser"], errorCode: [{ exists: false }], readOnly: [false] },
    });
    expect(mixed.prefilter?.needles).toEqual(['"CreateUser"']);
  });

  describe("never rules out a record that a pattern matches", () => {
    const text = fc.constantFrom(
      "x",
      "X",
      "xy",
      "yx",
      "",
      "a.png",
      "ab",
      "é",
      "😀",
      'say "x"',
      "a\\b",
      "tab\tx",
      "\u2028",
      "\ud800",
      "}",
      '","',
    );
    const scalar = fc.oneof(text, fc.constantFrom(0, 1, 5, true, false, null));
    const key = fc.constantFrom("a", "b", "c", "a.b", "x");
    const eventAt = (depth: number): fc.Arbitrary<Json> => {
      const value =
        depth === 0
          ? fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }))
          : fc.oneof(
              scalar,
              eventAt(depth - 1),
              fc.array(fc.oneof(scalar, eventAt(depth - 1), fc.array(scalar, { maxLength: 2 })), {
                maxLength: 3,
              }),
            );
      return fc.dictionary(key, value, { maxKeys: 4 });
    };
    const affix = fc.constantFrom("x", "y", "a", "ab", ".png", "é", '"', "\\", "", "\ud83d", "\ude00");
    const wildcard = fc.constantFrom("x*", "*y", "x*y", "*", "a\\\\b", "\\*", "xy", "a*.png", "");
    // Mostly literal parts, so that prefilters exist; the others make some leaves unusable.
    const part: fc.Arbitrary<unknown> = fc.oneof(
      { weight: 6, arbitrary: text },
      { weight: 2, arbitrary: affix.map((t) => ({ prefix: t })) },
      { weight: 2, arbitrary: affix.map((t) => ({ suffix: t })) },
      { weight: 2, arbitrary: wildcard.map((w) => ({ wildcard: w })) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<unknown>(
          5,
          true,
          null,
          { exists: true },
          { exists: false },
          { "anything-but": "x" },
          { "equals-ignore-case": "X" },
          { prefix: { "equals-ignore-case": "X" } },
          { numeric: [">", 0] },
        ),
      },
    );
    const leaf = fc.array(part, { minLength: 1, maxLength: 3 });
    const patternAt = (depth: number): fc.Arbitrary<Json> => {
      if (depth === 0) return fc.dictionary(key, leaf, { minKeys: 1, maxKeys: 2 });
      const fields = fc.dictionary(key, fc.oneof(leaf, leaf, patternAt(depth - 1)), {
        minKeys: 1,
        maxKeys: 2,
      });
      const or = fc.option(fc.array(patternAt(depth - 1), { minLength: 2, maxLength: 2 }), { freq: 4 });
      return fc
        .tuple(fields, or)
        .map(([f, alternatives]) => (alternatives ? { ...f, $or: alternatives } : f));
    };
    /** Leaf parts that a string satisfies, or may. */
    const partFor = (value: string): fc.Arbitrary<unknown> =>
      fc.constantFrom<unknown>(
        value,
        { prefix: value.slice(0, 1) },
        { suffix: value.slice(-1) },
        { wildcard: `${value.slice(0, 1).replace(/[*\\]/g, "\\$&")}*` },
        { "equals-ignore-case": value.toUpperCase() },
        { prefix: { "equals-ignore-case": value.slice(0, 2).toUpperCase() } },
      );
    /** A pattern asking for values the event has: matches are common. */
    const patternFrom = (event: Json): fc.Arbitrary<Json> => {
      const entries = Object.entries(event).filter(([, v]) => typeof v === "string");
      if (entries.length === 0) return patternAt(1);
      return fc
        .constantFrom(...entries)
        .chain(([k, v]) =>
          fc.array(partFor(v as string), { minLength: 1, maxLength: 2 }).map((parts) => ({ [k]: parts })),
        );
    };
    const spelling = fc.record({
      escapes: fc.constantFrom(0, 2, 3),
      space: fc.constantFrom("", " ", "\n  "),
    });
    const cases = fc.array(eventAt(2), { minLength: 1, maxLength: 4 }).chain((events) =>
      fc.tuple(
        fc.array(fc.oneof(patternAt(2), fc.constantFrom(...events).chain(patternFrom)), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.constant(events),
        spelling,
      ),
    );

    it("on generated patterns and events, spelled with and without escapes", () => {
      let ruledOut = 0;
      let matched = 0;
      fc.assert(
        fc.property(cases, ([patterns, events, how]) => {
          const set = compilePatterns(patterns.map((p, i) => [`p${i}`, p]));
          const prefilter = set.prefilter;
          if (prefilter === undefined) return;
          const compiled = patterns.map((p) => compileEventPattern(p));
          for (const event of events) {
            // Every n-th character escaped (none for 0), so needles may be spelled otherwise.
            const json = spell(event, (i) => how.escapes > 0 && i % how.escapes === 0, how.space);
            expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(event)));
            const matches = compiled.some((pattern) => pattern.matches(event));
            if (matches) matched++;
            if (!prefilter.mayMatch(json)) {
              ruledOut++;
              expect(matches, `${json} ruled out by ${prefilter.needles.join(" ")}`).toBe(false);
            }
          }
        }),
        { numRuns: 1500 },
      );
      // Both answers are common, so the agreement means something.
      expect(ruledOut).toBeGreaterThan(400);
      expect(matched).toBeGreaterThan(100);
    });

    it("on real CloudTrail records, with patterns on their own values", () => {
      const records = loadSampleRecords();
      const names = [...new Set(records.map((r) => r.eventName as string))];
      const sources = [...new Set(records.map((r) => r.eventSource as string))];
      const routes = fc.array(
        fc.record({
          eventSource: fc.subarray(sources, { minLength: 1, maxLength: 2 }),
          eventName: fc.oneof(
            fc.subarray(names, { minLength: 1, maxLength: 3 }),
            fc.constantFrom(...names).map((name) => [{ prefix: name.slice(0, 4) }]),
          ),
        }),
        { minLength: 1, maxLength: 5 },
      );
      let ruledOut = 0;
      fc.assert(
        fc.property(routes, (patterns) => {
          const set = compilePatterns(patterns.map((p, i) => [`p${i}`, p]));
          for (const record of records) {
            if (!set.prefilter!.mayMatch(JSON.stringify(record))) {
              ruledOut++;
              expect(set.match(record)).toEqual([]);
            }
          }
        }),
        { numRuns: 100 },
      );
      expect(ruledOut).toBeGreaterThan(100 * records.length * 0.5);
    });
  });
});
