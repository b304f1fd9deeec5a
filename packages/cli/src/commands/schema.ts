/**
 * `trailrouter schema`: the JSON Schema of a pipeline file, for editors (the YAML language server
 * reads a `# yaml-language-server: $schema=…` first line). It is the schema files are validated
 * against, composed from the plugins a file can use, with one difference: wherever a value may
 * come from the environment (`${VAR}`), the editor accepts the reference too, since it cannot know
 * what the variable will hold. docs/reference/pipeline.schema.json is this command's output.
 */
import { buildPipelineSchema, type JsonSchema, type PluginRegistry } from "@trailrouter/core";

/** A `${NAME}`, `${NAME:-default}` or `${NAME:?message}` reference somewhere in a string. */
const REFERENCE: JsonSchema = {
  type: "string",
  pattern: "\\$\\{[A-Za-z_][A-Za-z0-9_]*(:[-?][^}]*)?\\}",
  description: "A value from the environment, checked once the file is loaded",
};

/** The pipeline file's JSON Schema for editors, with every plugin of `registry`. */
export function pipelineFileSchema(registry: PluginRegistry): JsonSchema {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "trailrouter pipeline file",
    ...acceptReferences(buildPipelineSchema(registry)),
  };
}

/** The schema as text, as the command prints it. */
export function schemaText(registry: PluginRegistry): string {
  return `${JSON.stringify(pipelineFileSchema(registry), null, 2)}\n`;
}

/**
 * Lets every value an environment reference could stand for be one: numbers, booleans, and
 * strings with a format, pattern or list of values. A plugin's `type` (a `const`) stays as it is:
 * the editor needs it to know which plugin's options apply.
 */
function acceptReferences(schema: JsonSchema): JsonSchema {
  const copy: JsonSchema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === "properties" || keyword === "patternProperties") {
      copy[keyword] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, sub]) => [
          name,
          acceptReferences(sub),
        ]),
      );
    } else if (
      ["items", "additionalProperties", "propertyNames", "not"].includes(keyword) &&
      isSchema(value)
    ) {
      copy[keyword] = keyword === "propertyNames" ? value : acceptReferences(value);
    } else if (["oneOf", "anyOf", "allOf"].includes(keyword) && Array.isArray(value)) {
      copy[keyword] = value.map((sub: JsonSchema) => acceptReferences(sub));
    } else {
      copy[keyword] = value;
    }
  }
  const { type } = copy;
  const scalar = type === "integer" || type === "number" || type === "boolean";
  const constrained = type === "string" && (copy.format || copy.pattern || copy.enum);
  if (!(scalar || constrained) || "const" in copy) return copy;
  const { description, default: defaultValue, ...rest } = copy;
  return {
    ...(description === undefined ? {} : { description }),
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    anyOf: [rest, REFERENCE],
  };
}

function isSchema(value: unknown): value is JsonSchema {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
