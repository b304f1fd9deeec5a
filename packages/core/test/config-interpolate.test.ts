// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are ${VAR} references on purpose

import { describe, expect, it } from "vitest";
import { interpolateEnv } from "../src/config/interpolate.js";

describe("interpolateEnv", () => {
  const env = { REGION: "eu-west-1", EMPTY: "", QUEUE: "https://sqs/q" };

  it("replaces ${VAR} with the variable's value, even when it is empty", () => {
    expect(interpolateEnv("${REGION}", env)).toEqual({ value: "eu-west-1", problems: [] });
    expect(interpolateEnv("[${EMPTY}]", env)).toEqual({ value: "[]", problems: [] });
  });

  it("reports ${VAR} of an unset variable at its path", () => {
    const { problems } = interpolateEnv({ source: { queueUrl: "${MISSING}" } }, env);
    expect(problems).toEqual([
      { path: "source.queueUrl", message: "environment variable MISSING is not set" },
    ]);
  });

  it("uses the default of ${VAR:-default} when the variable is unset or empty, and the value otherwise", () => {
    expect(interpolateEnv("${MISSING:-us-east-1}", env).value).toBe("us-east-1");
    expect(interpolateEnv("${EMPTY:-fallback}", env).value).toBe("fallback");
    expect(interpolateEnv("${REGION:-us-east-1}", env).value).toBe("eu-west-1");
    expect(interpolateEnv("a${MISSING:-}b", env)).toEqual({ value: "ab", problems: [] });
    expect(interpolateEnv("${MISSING:-http://localhost:4566/q}", env).value).toBe("http://localhost:4566/q");
  });

  it("reports ${VAR:?message} with its message when the variable is unset or empty", () => {
    expect(interpolateEnv("${REGION:?set REGION}", env)).toEqual({ value: "eu-west-1", problems: [] });
    expect(interpolateEnv({ url: "${EMPTY:?the queue of new log files}" }, env).problems).toEqual([
      { path: "url", message: "environment variable EMPTY is not set or empty: the queue of new log files" },
    ]);
    expect(interpolateEnv("${MISSING:?}", env).problems).toEqual([
      { path: "", message: "environment variable MISSING is not set or empty" },
    ]);
  });

  it("interpolates several references in one string", () => {
    expect(interpolateEnv("${QUEUE}/${REGION}-${MISSING:-x}", env).value).toBe("https://sqs/q/eu-west-1-x");
  });

  it("reads $${ as a literal ${", () => {
    expect(interpolateEnv("$${REGION} costs $$5, ${REGION}", env)).toEqual({
      value: "${REGION} costs $$5, eu-west-1",
      problems: [],
    });
  });

  it("walks arrays and nested objects, and leaves keys and non-strings alone", () => {
    const input = { "${REGION}": [1, true, null, { names: ["${REGION}", "${MISSING}"] }] };
    const { value, problems } = interpolateEnv(input, env);
    expect(value).toEqual({ "${REGION}": [1, true, null, { names: ["eu-west-1", ""] }] });
    expect(problems).toEqual([
      { path: '["${REGION}"][3].names[1]', message: "environment variable MISSING is not set" },
    ]);
    expect(input["${REGION}"][3]).toEqual({ names: ["${REGION}", "${MISSING}"] });
  });

  it("reports malformed and unclosed references", () => {
    expect(interpolateEnv({ a: "${1BAD}", b: "${}", c: "x ${REGION" }, env).problems).toEqual([
      {
        path: "a",
        message:
          'malformed reference "${1BAD}": write ${NAME}, ${NAME:-default} or ${NAME:?message} (and $${ for a literal "${")',
      },
      {
        path: "b",
        message:
          'malformed reference "${}": write ${NAME}, ${NAME:-default} or ${NAME:?message} (and $${ for a literal "${")',
      },
      { path: "c", message: 'unclosed "${" in "${REGION": add the closing "}"' },
    ]);
  });

  it("refuses a reference nested in a default instead of mangling it", () => {
    const { problems } = interpolateEnv("${A:-${REGION}}", env);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^malformed reference "\$\{A:-\$\{REGION\}"/);
  });
});
