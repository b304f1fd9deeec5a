/**
 * Table tests of event patterns, run through both matchers: each pattern compiled alone, and
 * every pattern of the table compiled into one set that must give the same answers.
 */
import { compileEventPattern, compilePatterns } from "@trailrouter/event-pattern";
import { expect, it } from "vitest";

/** [what the case shows, pattern, event, matches?] */
export type PatternCase = readonly [string, unknown, unknown, boolean];

export function checkPatternCases(cases: readonly PatternCase[]): void {
  it.each(cases)("%s", (_name, pattern, event, expected) => {
    expect(compileEventPattern(pattern).matches(event)).toBe(expected);
    expect(compilePatterns({ pattern }).match(event)).toEqual(expected ? ["pattern"] : []);
  });

  it("gives the same answers with every pattern of the table in one set", () => {
    const set = compilePatterns(cases.map(([, pattern], i) => [`#${i}`, pattern]));
    const single = cases.map(([, pattern]) => compileEventPattern(pattern));
    for (const [, , event] of cases) {
      const expected = single.flatMap((pattern, i) => (pattern.matches(event) ? [`#${i}`] : []));
      expect(set.match(event)).toEqual(expected);
    }
  });
}
