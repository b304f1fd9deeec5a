import { isIP } from "node:net";
import { compileEventPattern, compilePatterns, PatternError } from "@trailrouter/event-pattern";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { referenceMatches } from "./event-pattern-reference.js";
import { loadSampleRecords } from "./fixtures/cloudtrail-samples.js";

type Json = Record<string, unknown>;

describe("compilePatterns", () => {
  it("names every matching pattern, in the order given", () => {
    const set = compilePatterns({
      iam: { eventSource: ["iam.amazonaws.com"] },
      users: { eventName: ["CreateUser", "DeleteUser"] },
      deletes: { eventName: [{ prefix: "Delete" }] },
      ec2: { eventSource: ["ec2.amazonaws.com"] },
    });
    expect(set.names).toEqual(["iam", "users", "deletes", "ec2"]);
    expect(set.match({ eventSource: "iam.amazonaws.com", eventName: "DeleteUser" })).toEqual([
      "iam",
      "users",
      "deletes",
    ]);
    expect(set.matchIndices({ eventSource: "ec2.amazonaws.com", eventName: "DeleteVolume" })).toEqual([2, 3]);
    expect(set.match({ eventSource: "s3.amazonaws.com", eventName: "GetObject" })).toEqual([]);
  });

  it("takes [name, pattern] pairs, and an empty set matches nothing", () => {
    const set = compilePatterns([
      ["b", { a: [1] }],
      ["a", { a: [{ numeric: [">", 0] }] }],
    ]);
    expect(set.match({ a: 1 })).toEqual(["b", "a"]);
    expect(set.match({ a: 2 })).toEqual(["a"]);
    expect(compilePatterns({}).match({ a: 1 })).toEqual([]);
  });

  it("matches a pattern of several alternatives once", () => {
    const set = compilePatterns({ either: { $or: [{ a: ["x"] }, { b: ["y"] }] }, other: { c: ["z"] } });
    expect(set.match({ a: "x", b: "y", c: "z" })).toEqual(["either", "other"]);
  });

  it("matches patterns that only need fields to be absent, on any event", () => {
    const set = compilePatterns({ noError: { errorCode: [{ exists: false }] }, named: { eventName: ["X"] } });
    expect(set.match({ eventName: "X" })).toEqual(["noError", "named"]);
    expect(set.match({ eventName: "X", errorCode: "AccessDenied" })).toEqual(["named"]);
    expect(set.match("not an object")).toEqual(["noError"]);
    expect(set.match(null)).toEqual(["noError"]);
  });

  it("refuses an invalid pattern with its path and the pattern's name", () => {
    let error: unknown;
    try {
      compilePatterns({ good: { a: ["x"] }, bad: { detail: { eventName: [{ prefix: 5 }] } } });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(PatternError);
    expect((error as PatternError).path).toBe("detail.eventName[0].prefix");
    expect((error as PatternError).pattern).toBe("bad");
    expect((error as PatternError).message).toBe(
      "detail.eventName[0].prefix: prefix match pattern must be a string",
    );
  });

  it("refuses two patterns of the same name", () => {
    expect(() =>
      compilePatterns([
        ["x", { a: [1] }],
        ["x", { a: [2] }],
      ]),
    ).toThrow('two patterns are named "x"');
  });

  it("finds patterns by every kind of leaf among many others", () => {
    const noise = Array.from({ length: 300 }, (_, i) => [`noise${i}`, { eventName: [`Event${i}`] }] as const);
    const set = compilePatterns([
      ...noise,
      ["prefix", { eventName: [{ prefix: "Start" }] }],
      ["suffix", { eventName: [{ suffix: "Instances" }] }],
      ["ignoreCase", { eventName: [{ "equals-ignore-case": "startinstances" }] }],
      ["prefixIgnoringCase", { eventName: [{ prefix: { "equals-ignore-case": "STA" } }] }],
      ["suffixIgnoringCase", { eventName: [{ suffix: { "equals-ignore-case": "INSTANCES" } }] }],
      ["wildcard", { eventName: [{ wildcard: "S*Inst*s" }] }],
      ["wildcardBetweenStars", { eventName: [{ wildcard: "*tInst*" }] }],
      ["numeric", { size: [{ numeric: [">", 10, "<=", 20] }] }],
      ["cidr", { sourceIPAddress: [{ cidr: "10.0.0.0/8" }] }],
      ["cidr6", { sourceIPAddress: [{ cidr: "::ffff:10.1.0.0/112" }] }],
      ["anythingBut", { eventName: [{ "anything-but": ["StopInstances"] }] }],
      ["exists", { size: [{ exists: true }] }],
      ["boolean", { readOnly: [false] }],
      ["null", { errorCode: [null] }],
    ]);
    const names = (event: Json) => set.match(event).filter((name) => !name.startsWith("noise"));
    expect(
      names({
        eventName: "StartInstances",
        size: 20,
        sourceIPAddress: "10.1.2.3",
        readOnly: false,
        errorCode: null,
      }),
    ).toEqual([
      "prefix",
      "suffix",
      "ignoreCase",
      "prefixIgnoringCase",
      "suffixIgnoringCase",
      "wildcard",
      "wildcardBetweenStars",
      "numeric",
      "cidr",
      "cidr6",
      "anythingBut",
      "exists",
      "boolean",
      "null",
    ]);
    expect(
      names({ eventName: "StopInstances", size: 21, sourceIPAddress: "11.0.0.1", readOnly: true }),
    ).toEqual(["suffix", "suffixIgnoringCase", "wildcard", "exists"]);
    expect(set.match({ eventName: "Event7" })).toEqual(["noise7", "anythingBut"]);
  });
});

describe("compilePatterns over many events", () => {
  it("keeps its answers while it re-plans from what it has seen", () => {
    // Enough events for several re-plans, with the traffic changing halfway.
    const records = loadSampleRecords();
    const events = [...records, ...records.map((r) => ({ ...r, awsRegion: "eu-west-3" })), ...records];
    const patterns = [
      { awsRegion: ["us-east-1"], eventSource: ["iam.amazonaws.com"] },
      { awsRegion: ["eu-west-3"], eventName: [{ prefix: "Get" }] },
      { eventSource: ["ec2.amazonaws.com"], readOnly: [false] },
      { eventName: [{ "anything-but": "ConsoleLogin" }], awsRegion: ["eu-west-3", "us-west-2"] },
      { userIdentity: { type: ["IAMUser", "AssumedRole"] }, sourceIPAddress: [{ cidr: "0.0.0.0/0" }] },
    ];
    const set = compilePatterns(patterns.map((p, i) => [`p${i}`, p]));
    const single = patterns.map((p) => compileEventPattern(p));
    let matches = 0;
    for (const event of events) {
      const expected = single.flatMap((p, i) => (p.matches(event) ? [`p${i}`] : []));
      expect(set.match(event)).toEqual(expected);
      matches += expected.length;
    }
    expect(matches).toBeGreaterThan(events.length / 2);
  });
});

describe("compilePatterns on address spellings", () => {
  const values = [
    "10.1.2.3",
    "010.1.2.3",
    "10.1.2",
    "10.1.2.3.4",
    "256.1.2.3",
    "10.1.2.3 ",
    "::ffff:10.1.2.3",
    "1e1.1.2.3",
  ];
  it.each(values)("%j: a cidr matches only an address isIP accepts, as compileEventPattern says", (value) => {
    const pattern = { a: [{ cidr: "0.0.0.0/0" }] };
    const expected = compileEventPattern(pattern).matches({ a: value });
    expect(expected).toBe(isIP(value) !== 0);
    expect(compilePatterns({ pattern }).match({ a: value })).toEqual(expected ? ["pattern"] : []);
  });
});

describe("compilePatterns ignoring case", () => {
  // Under Unicode simple case folding, KELVIN SIGN is k and LONG S is s; SHARP S is only itself.
  const cases: [unknown, string, boolean][] = [
    [{ "equals-ignore-case": "kelvin" }, "\u212Aelvin", true],
    [{ "equals-ignore-case": "ss" }, "\u017F\u017F", true],
    [{ "equals-ignore-case": "ss" }, "ß", false],
    [{ prefix: { "equals-ignore-case": "K" } }, "\u212A", true],
    [{ suffix: { "equals-ignore-case": "S" } }, "x\u017F", true],
    [{ "equals-ignore-case": "école" }, "ÉCOLE", true],
    [{ prefix: { "equals-ignore-case": "σ" } }, "ςx", true],
    [{ suffix: { "equals-ignore-case": "Ω" } }, "x\u2126", true],
    [{ "equals-ignore-case": "a" }, "\u{1F600}", false],
  ];
  it.each(cases)("%j against %j → %s, as compileEventPattern says", (operator, value, expected) => {
    const pattern = { a: [operator] };
    expect(compileEventPattern(pattern).matches({ a: value })).toBe(expected);
    expect(compilePatterns({ p: pattern, other: { a: [{ prefix: "a" }] } }).match({ a: value })).toEqual(
      expected ? ["p"] : [],
    );
  });

  it("folds exactly the code points that Unicode simple case folding makes equal to ASCII", () => {
    // The index folds an ASCII text's letters and nothing else but these two: check against the
    // regular-expression engine over every code point (control characters have no case).
    const everyOther: string[] = [];
    for (let code = 0x80; code <= 0x10ffff; code++) {
      if (code < 0xd800 || code > 0xdfff) everyOther.push(String.fromCodePoint(code));
    }
    expect(everyOther.join("").match(/[ -~]/giu)).toEqual(["\u017F", "\u212A"]);
  });
});

describe("compilePatterns agrees with compileEventPattern and with a literal reference", () => {
  const text = fc.constantFrom("x", "X", "xy", "Xy", "yx", "", "a.png", "ab", "\u212Ab", "*", "a\\b");
  const ip = fc.constantFrom(
    "10.0.0.1",
    "10.0.1.7",
    "192.168.1.1",
    "::ffff:10.0.0.3",
    "2001:db8::1",
    "2001:DB8:0::9",
  );
  const number = fc.constantFrom(0, 1, 5, 5.5, -1, 300, 20);
  const scalar = fc.oneof(text, ip, number, fc.constantFrom(true, false, null));
  const key = fc.constantFrom("a", "b", "c", "a.b");

  /** Objects nested at most `depth` levels, arrays holding scalars, objects and arrays of scalars. */
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
    return fc.dictionary(key, value, { maxKeys: 3 });
  };
  const event = eventAt(2);

  const affix = fc.constantFrom("x", "X", "y", "a", "ab", ".png", "k", "");
  const wildcard = fc.constantFrom("x*", "*y", "X*y", "*", "*b*", "a\\\\b", "\\*", "xy", "a*.png", "");
  const numericRange = fc.constantFrom<unknown[]>(
    ["=", 5],
    ["<", 5],
    ["<=", 5],
    [">", 0],
    [">=", 1, "<", 20],
    [">", -1, "<=", 5.5],
    ["=", 300],
  );
  const cidr = fc.constantFrom(
    "10.0.0.0/24",
    "10.0.0.0/8",
    "0.0.0.0/0",
    "2001:db8::/32",
    "::ffff:10.0.0.0/120",
    "::/0",
  );
  const part: fc.Arbitrary<unknown> = fc.oneof(
    scalar,
    affix.map((t) => ({ prefix: t })),
    affix.map((t) => ({ suffix: t })),
    affix.map((t) => ({ prefix: { "equals-ignore-case": t } })),
    affix.map((t) => ({ suffix: { "equals-ignore-case": t } })),
    affix.map((t) => ({ "equals-ignore-case": t })),
    wildcard.map((w) => ({ wildcard: w })),
    numericRange.map((range) => ({ numeric: range })),
    cidr.map((block) => ({ cidr: block })),
    fc.boolean().map((exists) => ({ exists })),
    fc
      .oneof(
        text,
        number,
        fc.uniqueArray(text, { minLength: 1, maxLength: 2 }),
        fc.uniqueArray(number, { minLength: 1, maxLength: 2 }),
        affix.filter((t) => t !== "").map((t) => ({ prefix: t })),
        affix.filter((t) => t !== "").map((t) => ({ suffix: t })),
        affix.map((t) => ({ "equals-ignore-case": [t] })),
        wildcard.map((w) => ({ wildcard: w })),
      )
      .map((operand) => ({ "anything-but": operand })),
  );
  const leaf = fc.array(part, { minLength: 1, maxLength: 3 });
  /** Patterns nested at most `depth` levels, with an `$or` now and then. */
  const patternAt = (depth: number): fc.Arbitrary<Json> => {
    if (depth === 0) return fc.dictionary(key, leaf, { minKeys: 1, maxKeys: 2 });
    const fields = fc.dictionary(key, fc.oneof(leaf, leaf, patternAt(depth - 1)), { minKeys: 1, maxKeys: 2 });
    const or = fc.option(fc.array(patternAt(depth - 1), { minLength: 2, maxLength: 2 }), { freq: 3 });
    return fc.tuple(fields, or).map(([f, alternatives]) => (alternatives ? { ...f, $or: alternatives } : f));
  };
  const pattern = patternAt(2);

  /** Leaf parts that a value satisfies, or may: drawn from the value itself. */
  const partFor = (value: unknown): fc.Arbitrary<unknown> => {
    if (typeof value === "number") {
      return fc.constantFrom(value, { numeric: ["=", value] }, { numeric: [">=", value, "<", value + 1] });
    }
    if (typeof value !== "string") return fc.constantFrom(value, { exists: true });
    const parts: unknown[] = [
      value,
      { prefix: value.slice(0, 1) },
      { suffix: value.slice(-1) },
      { "equals-ignore-case": value.toUpperCase() },
      { prefix: { "equals-ignore-case": value.slice(0, 2).toUpperCase() } },
      { wildcard: `${value.slice(0, 1).replace(/[*\\]/g, "\\$&")}*` },
      { "anything-but": "zz" },
    ];
    if (value.startsWith("10.")) parts.push({ cidr: "10.0.0.0/16" });
    return fc.constantFrom(...parts);
  };
  /** The scalar fields of an event: [path segments, value], through objects in arrays. */
  const fieldsOf = (value: unknown, segments: string[] = []): [string[], unknown][] => {
    if (Array.isArray(value)) return value.flatMap((element) => fieldsOf(element, segments));
    if (typeof value === "object" && value !== null) {
      return Object.entries(value).flatMap(([k, v]) => fieldsOf(v, [...segments, ...k.split(".")]));
    }
    return segments.length === 0 ? [] : [[segments, value]];
  };
  /** A pattern on one to three fields of the event, each field's leaf drawn from its value. */
  const patternFrom = (e: Json): fc.Arbitrary<Json> => {
    const fields = fieldsOf(e);
    if (fields.length === 0) return pattern;
    return fc
      .uniqueArray(fc.constantFrom(...fields), {
        minLength: 1,
        maxLength: 3,
        selector: ([segments]) => segments.join("."),
      })
      .chain((picked) =>
        fc.tuple(
          ...picked.map(([segments, value]) =>
            fc
              .tuple(
                fc.array(fc.oneof(partFor(value), partFor(value), part), { minLength: 1, maxLength: 2 }),
                fc.boolean(),
              )
              .map(([leaf, nested]) => [segments, leaf, nested] as const),
          ),
        ),
      )
      .map((leaves) => {
        const built: Json = {};
        for (const [segments, leaf, nested] of leaves) {
          const [head, ...rest] = segments;
          const clash = leaves.some(([other]) => other !== segments && other.join(".").startsWith(`${head}`));
          if (nested && rest.length > 0 && !clash) built[head!] = nestIn(rest, leaf);
          else built[segments.join(".")] = leaf;
        }
        return built;
      });
  };
  const nestIn = (segments: string[], leaf: unknown): unknown =>
    segments.length === 0 ? leaf : { [segments[0]!]: nestIn(segments.slice(1), leaf) };

  const patternsAndEvents = fc.array(event, { minLength: 1, maxLength: 4 }).chain((events) =>
    fc.tuple(
      fc.array(fc.oneof(pattern, fc.constantFrom(...events).chain(patternFrom)), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.constant(events),
    ),
  );

  it("on generated patterns and events", () => {
    let matches = 0;
    let misses = 0;
    fc.assert(
      fc.property(patternsAndEvents, ([patterns, events]) => {
        const set = compilePatterns(patterns.map((p, i) => [`p${i}`, p]));
        for (const e of events) {
          const expected = patterns.flatMap((p, i) => (referenceMatches(p, e) ? [`p${i}`] : []));
          patterns.forEach((p, i) => {
            expect(compileEventPattern(p).matches(e), `p${i} = ${JSON.stringify(p)}`).toBe(
              expected.includes(`p${i}`),
            );
          });
          expect(set.match(e)).toEqual(expected);
          matches += expected.length;
          misses += patterns.length - expected.length;
        }
      }),
      { numRuns: 700 },
    );
    // Both answers are common, so the agreement means something.
    expect(matches).toBeGreaterThan(400);
    expect(misses).toBeGreaterThan(1000);
  });

  it("on real CloudTrail records, with patterns drawn from their own fields", () => {
    const records = loadSampleRecords();
    const fieldsOf = (record: Json, prefix = ""): [string, unknown][] =>
      Object.entries(record).flatMap(([k, v]) =>
        typeof v === "object" && v !== null && !Array.isArray(v)
          ? fieldsOf(v as Json, `${prefix}${k}.`)
          : typeof v === "object"
            ? []
            : [[`${prefix}${k}`, v] as [string, unknown]],
      );
    const leafFor = (value: unknown): fc.Arbitrary<unknown[]> =>
      typeof value === "string"
        ? fc.constantFrom<unknown[]>(
            [value],
            [{ prefix: value.slice(0, 3) }],
            [{ suffix: value.slice(-3) }],
            [{ "anything-but": value }],
            [{ "equals-ignore-case": value.toUpperCase() }],
            [{ exists: true }],
            [{ exists: false }],
          )
        : fc.constantFrom<unknown[]>(
            [value],
            [{ exists: true }],
            typeof value === "number" ? [{ numeric: ["<=", value] }] : [{ exists: false }],
          );
    const patternFor = fc.nat(records.length - 1).chain((r) => {
      const fields = fieldsOf(records[r] as Json);
      return fc
        .uniqueArray(fc.nat(fields.length - 1), { minLength: 1, maxLength: 3 })
        .chain((picked) =>
          fc.tuple(...picked.map((f) => leafFor(fields[f]![1]).map((l) => [fields[f]![0], l] as const))),
        )
        .map((pairs) => Object.fromEntries(pairs));
    });
    fc.assert(
      fc.property(fc.array(patternFor, { minLength: 1, maxLength: 40 }), (patterns) => {
        const set = compilePatterns(patterns.map((p, i) => [`p${i}`, p]));
        const single = patterns.map((p) => compileEventPattern(p));
        for (const record of records) {
          const expected = single.flatMap((p, i) => (p.matches(record) ? [`p${i}`] : []));
          expect(set.match(record)).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
  });
});
