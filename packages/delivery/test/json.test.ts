import { messageServicesAccept, wireJson } from "@trailrouter/delivery";
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

describe("wireJson", () => {
  it("writes U+FFFE and U+FFFF as escapes, so the text parses back to the same value", () => {
    const value = { userAgent: "curl\ufffe/8\uffff", plain: "ok", nested: ["\uffff\uffff"] };
    const text = wireJson(value);
    expect(text).toBe('{"userAgent":"curl\\ufffe/8\\uffff","plain":"ok","nested":["\\uffff\\uffff"]}');
    expect(JSON.parse(text)).toEqual(value);
    expect(messageServicesAccept(text)).toBe(true);
  });

  it("leaves control characters and lone surrogates to JSON.stringify, which escapes them", () => {
    for (const unit of ["\u0000", "\u0008", "\u001f", "\ud800", "\udbff", "\udc00", "\udfff"]) {
      const text = JSON.stringify(`a${unit}b`);
      expect(text).not.toContain(unit);
      expect(JSON.parse(text)).toBe(`a${unit}b`);
      expect(wireJson(`a${unit}b`)).toBe(text);
      expect(messageServicesAccept(text)).toBe(true);
    }
  });

  it("keeps characters above U+FFFF as they are: SQS takes them", () => {
    expect(wireJson({ name: "🦆" })).toBe('{"name":"🦆"}');
    expect(messageServicesAccept("🦆")).toBe(true);
  });

  it("gives text the services accept, and the value JSON.stringify gives, for any JSON value", () => {
    fc.assert(
      fc.property(hostileJson, (value) => {
        const text = wireJson(value);
        expect(messageServicesAccept(text)).toBe(true);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(jsonBytes(value));
      }),
      { numRuns: 500 },
    );
  });

  it("throws a TypeError for a value without JSON text", () => {
    expect(() => wireJson(undefined)).toThrow(TypeError);
    expect(() => wireJson(() => 1)).toThrow(TypeError);
  });
});

describe("messageServicesAccept", () => {
  it.each([
    ["tab, newline, carriage return", "\t\n\r", true],
    ["text up to U+D7FF", " ~é日\ud7ff", true],
    ["U+E000 to U+FFFD", "\ue000\ufffd", true],
    ["a pair above U+FFFF", "\u{10000}\u{10ffff}", true],
    ["a control character", "a\u0001", false],
    ["U+FFFE", "a\ufffe", false],
    ["U+FFFF", "a\uffff", false],
    ["a lone high surrogate", "a\ud800", false],
    ["a lone low surrogate", "\udc00a", false],
  ])("%s → %s", (_label, text, expected) => {
    expect(messageServicesAccept(text)).toBe(expected);
  });
});
