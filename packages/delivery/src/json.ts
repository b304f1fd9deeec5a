/** A record's JSON text as the sinks send it. */

/** The noncharacters JSON.stringify writes as they are and SQS refuses (`InvalidMessageContents`). */
const NONCHARACTERS = /[\uFFFE\uFFFF]/g;

/**
 * `JSON.stringify(value)`, with U+FFFE and U+FFFF written as `\ufffe` and `\uffff`: the same JSON
 * value, in text every sink's service takes. JSON.stringify already escapes control characters
 * and lone surrogates, and outside strings JSON text is ASCII, so these two are all that is left.
 * Characters above U+FFFF stay as they are: SQS accepts them. Throws a TypeError for a value
 * that has no JSON text (undefined, a function), as JSON.stringify does for a BigInt or a cycle.
 */
export function wireJson(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`a ${typeof value} value has no JSON text`);
  return text.replace(NONCHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16)}`);
}
