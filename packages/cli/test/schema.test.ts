/**
 * `trailrouter schema` for editors: the committed schema files are its output, every example
 * names its schema on its first line, and every example (as written, `${VAR}` references and all)
 * passes that schema in a standard JSON Schema validator, which a mistake in it does not.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import ajvFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main } from "../src/main.js";
import { textSink } from "./support.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const at = (file: string) => path.join(root, file);

/** Each example pipeline file and the schema it names. */
const EXAMPLES = [
  ["examples/cmdb/pipeline.yaml", "docs/reference/pipeline.schema.json"],
  ["examples/swap-output/sqs.yaml", "docs/reference/pipeline.schema.json"],
  ["examples/swap-output/sns.yaml", "docs/reference/pipeline.schema.json"],
  ["examples/swap-output/eventbridge.yaml", "docs/reference/pipeline.schema.json"],
  ["examples/custom-sink/pipeline.yaml", "examples/custom-sink/pipeline.schema.json"],
] as const;

async function trailrouter(...args: string[]) {
  const out = textSink();
  const err = textSink();
  const code = await main(["node", "trailrouter", ...args], { out: out.stream, err: err.stream });
  return { code, out: out.text(), err: err.text() };
}

function validator(schema: object) {
  // A standard validator, as an editor's: no coercion, no defaults, unknown keywords ignored.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajvFormats.default(ajv);
  return ajv.compile(schema);
}

describe("trailrouter schema", () => {
  it("is docs/reference/pipeline.schema.json for the built-in plugins (regenerate with `pnpm run docs:reference`)", async () => {
    const printed = await trailrouter("schema");
    expect(printed.code).toBe(0);
    expect(printed.out).toBe(await readFile(at("docs/reference/pipeline.schema.json"), "utf8"));
  });

  it("with --config, includes the plugins the file loads, as examples/custom-sink/pipeline.schema.json", async () => {
    const printed = await trailrouter("schema", "--config", at("examples/custom-sink/pipeline.yaml"));
    expect(printed.code, printed.err).toBe(0);
    expect(printed.out).toBe(await readFile(at("examples/custom-sink/pipeline.schema.json"), "utf8"));
    expect(printed.out).toContain('"const": "jsonl-file"');
    expect((await trailrouter("schema")).out).not.toContain("jsonl-file");
  });

  it("reports a file whose plugins cannot load: exit 2, with the path", async () => {
    const printed = await trailrouter("schema", "--config", at("examples/no-such-file.yaml"));
    expect(printed.code).toBe(2);
    expect(printed.err).toContain("cannot read the file: no such file");
  });

  it.each(EXAMPLES)(
    "%s names its schema on its first line, and passes it as written",
    async (example, schemaFile) => {
      const text = await readFile(at(example), "utf8");
      const [firstLine] = text.split("\n");
      const named = /^# yaml-language-server: \$schema=(.+)$/.exec(firstLine!)?.[1];
      expect(named, firstLine).toBeDefined();
      expect(path.resolve(path.dirname(at(example)), named!)).toBe(at(schemaFile));

      const validate = validator(JSON.parse(await readFile(at(schemaFile), "utf8")));
      const document = parse(text) as { pipelines: Record<string, unknown>[] };
      expect(validate(document), JSON.stringify(validate.errors, null, 2)).toBe(true);
      // Not a schema that takes anything: a misspelt option fails it.
      document.pipelines[0]!.sinkz = {};
      expect(validate(document)).toBe(false);
    },
  );
});

describe("trailrouter plugins --config", () => {
  it("documents the plugins the file loads beside the built-in ones", async () => {
    const printed = await trailrouter("plugins", "--config", at("examples/custom-sink/pipeline.yaml"));
    expect(printed.code, printed.err).toBe(0);
    expect(printed.out).toContain("### sink `jsonl-file`");
    expect(printed.out).toContain("### sink `sqs`");
    expect((await trailrouter("plugins")).out).not.toContain("jsonl-file");
  });
});
