import { jsonBytesAtLeast } from "@trailrouter/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/**
 * One unit of a string: any code point, or one of the units the services refuse or JSON must
 * escape (noncharacters, control characters, lone surrogates).
 */
const hostileUnit = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.constantFrom("\ufffe", "\uffff", "\u0000", "\u001f", "\u007f", "\ud800", "\udbff", "\udc00", "\udfff"),
);
const hostileJson = fc.jsonValue({ stringUnit: hostileUnit, maxDepth: 4 });

/** Nested `depth` times: `[[[...0...]]]` or `{"a":{"a":...0...}}`. */
function nested(depth: number, kind: "array" | "object"): unknown {
  let value: unknown = 0;
  for (let level = 0; level < depth; level++) value = kind === "array" ? [value] : { a: value };
  return value;
}

describe("jsonBytesAtLeast", () => {
  it("is exact for ASCII text that needs no escape", () => {
    const record = {
      eventID: "6f2c0a2e",
      eventTime: "2024-05-01T12:00:00Z",
      requestParameters: { count: 3, ratio: -0.25, big: 1e21, flags: [true, false, null] },
      resources: [],
      empty: {},
    };
    expect(jsonBytesAtLeast(record, Number.POSITIVE_INFINITY)).toBe(jsonBytes(record));
  });

  it("counts what JSON.stringify writes for values without JSON text, toJSON and boxed primitives", () => {
    const value = {
      gone: undefined,
      alsoGone: () => 1,
      kept: [undefined, () => 1, Symbol("s")],
      when: new Date("2024-05-01T12:00:00Z"),
      boxed: [new String("ab"), new Number(12), new Boolean(false)],
      notFinite: [Number.NaN, Number.POSITIVE_INFINITY],
    };
    expect(jsonBytesAtLeast(value, Number.POSITIVE_INFINITY)).toBe(jsonBytes(value));
    expect(jsonBytesAtLeast(undefined, 100)).toBe(0);
  });

  it("is at most the UTF-8 length of the JSON text, for any JSON value", () => {
    fc.assert(
      fc.property(hostileJson, (value) => {
        expect(jsonBytesAtLeast(value, Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(jsonBytes(value));
      }),
      { numRuns: 1000 },
    );
  });

  it("with a cap: still at most the true length; the whole count when it stays within the cap", () => {
    fc.assert(
      fc.property(hostileJson, fc.nat(200), (value, cap) => {
        const whole = jsonBytesAtLeast(value, Number.POSITIVE_INFINITY);
        const capped = jsonBytesAtLeast(value, cap);
        expect(capped).toBeLessThanOrEqual(jsonBytes(value));
        if (whole <= cap) expect(capped).toBe(whole);
        else expect(capped).toBeGreaterThan(cap);
      }),
      { numRuns: 1000 },
    );
  });

  it("walks values nested 100,000 deep", () => {
    for (const kind of ["array", "object"] as const) {
      const value = nested(100_000, kind);
      expect(jsonBytesAtLeast(value, Number.POSITIVE_INFINITY)).toBe(
        kind === "array" ? 200_001 : 100_000 * '{"a":}'.length + 1,
      );
      expect(jsonBytesAtLeast(value, 1000)).toBeGreaterThan(1000);
    }
  });

  it("stops once the count is over the cap, without reading the rest", () => {
    let reads = 0;
    const members = Object.fromEntries(Array.from({ length: 100_000 }, (_, n) => [`field${n}`, n]));
    const counted = new Proxy(members, {
      get(target, key) {
        reads++;
        return Reflect.get(target, key);
      },
    });
    expect(jsonBytesAtLeast(counted, 1000)).toBeGreaterThan(1000);
    expect(reads).toBeLessThan(200);

    // An array too long for the cap is not looked into at all.
    reads = 0;
    const elements = new Proxy(new Array(150_000_000), {
      get(target, key) {
        if (typeof key === "string" && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key);
      },
    });
    expect(jsonBytesAtLeast(elements, 1_048_576)).toBeGreaterThan(1_048_576);
    expect(reads).toBe(0);
    expect(jsonBytesAtLeast({ blob: "x".repeat(2_000_000) }, 1_048_576)).toBeGreaterThan(1_048_576);
  });
});
