/**
 * Environment variables in string values of a parsed pipeline file: `${VAR}`,
 * `${VAR:-default}`, `${VAR:?message}`, and `$${` for a literal `${`. Keys are left alone.
 */
import type { ConfigProblem } from "../errors.js";
import { formatPath, type PathSegment } from "./paths.js";

export type Environment = Readonly<Record<string, string | undefined>>;

export interface Interpolated<T> {
  /** A copy of the input with every reference replaced (unresolved ones by ""). */
  readonly value: T;
  readonly problems: ConfigProblem[];
}

// An escape, a complete reference, or an opening that is never closed, in that order of preference.
const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const BODY = /^(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<operator>:-|:\?)(?<operand>.*))?$/s;

export function interpolateEnv<T>(value: T, env: Environment): Interpolated<T> {
  const problems: ConfigProblem[] = [];
  const walk = (node: unknown, segments: PathSegment[]): unknown => {
    if (typeof node === "string") return interpolateString(node, env, formatPath(segments), problems);
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...segments, index]));
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(
        Object.entries(node).map(([key, item]) => [key, walk(item, [...segments, key])]),
      );
    }
    return node;
  };
  return { value: walk(value, []) as T, problems };
}

function interpolateString(text: string, env: Environment, path: string, problems: ConfigProblem[]): string {
  return text.replace(REFERENCE, (match: string, body: string | undefined, offset: number) => {
    if (match === "$${") return "${";
    if (body === undefined) {
      problems.push({ path, message: `unclosed "\${" in "${text.slice(offset)}": add the closing "}"` });
      return "";
    }
    const parsed = BODY.exec(body);
    const { name, operator, operand = "" } = parsed?.groups ?? {};
    if (name === undefined || operand.includes("${")) {
      problems.push({
        path,
        message: `malformed reference "${match}": write \${NAME}, \${NAME:-default} or \${NAME:?message} (and $\${ for a literal "\${")`,
      });
      return "";
    }
    const current = env[name];
    if (operator === undefined) {
      if (current !== undefined) return current;
      problems.push({ path, message: `environment variable ${name} is not set` });
      return "";
    }
    if (current !== undefined && current !== "") return current;
    if (operator === ":-") return operand;
    problems.push({
      path,
      message: `environment variable ${name} is not set or empty${operand === "" ? "" : `: ${operand}`}`,
    });
    return "";
  });
}
