import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AnyPlugin,
  awsSettingsSchema,
  buildPipelineSchema,
  ConfigError,
  type ConfigProblem,
  definePlugin,
  loadPipelineFile,
  PluginError,
  PluginRegistry,
  parsePipelineText,
} from "@trailrouter/core";
import { describe, expect, it } from "vitest";

const fixtures = fileURLToPath(new URL("./fixtures/config/", import.meta.url));
const fixture = (name: string) => path.join(fixtures, name);

const testQueueSource = definePlugin({
  kind: "source",
  type: "test-queue",
  schema: {
    type: "object",
    properties: {
      queueUrl: { type: "string", format: "uri" },
      waitTimeSeconds: { type: "integer", minimum: 0, maximum: 20, default: 20 },
      aws: awsSettingsSchema,
    },
    required: ["queueUrl"],
    additionalProperties: false,
  },
  create: () => ({ receive: async function* () {}, close: async () => {} }),
});

const cloudtrailDecoder = definePlugin({
  kind: "decoder",
  type: "cloudtrail",
  schema: { type: "object", properties: {}, additionalProperties: false },
  create: () => ({ decode: () => [] }),
});

const eventNameMatcher = definePlugin<"matcher", { names: string[] }>({
  kind: "matcher",
  type: "event-name",
  schema: {
    type: "object",
    properties: { names: { type: "array", minItems: 1, items: { type: "string" } } },
    required: ["names"],
    additionalProperties: false,
  },
  validate: (config) =>
    config.names.flatMap((name, index) =>
      /^[A-Z][A-Za-z0-9]*$/.test(name)
        ? []
        : [{ path: `names[${index}]`, message: `"${name}" is not an API action` }],
    ),
  create: (config) => ({ matches: (record) => config.names.includes(record.eventName ?? "") }),
});

const nullSink = () => ({ deliver: async () => ({ delivered: 0, failed: [] }), close: async () => {} });

const sqsSink = definePlugin({
  kind: "sink",
  type: "sqs",
  schema: {
    type: "object",
    properties: {
      queueUrl: { type: "string", format: "uri" },
      batchSize: { type: "integer", minimum: 1, maximum: 10, default: 10 },
    },
    required: ["queueUrl"],
    additionalProperties: false,
  },
  create: nullSink,
});

const snsSink = definePlugin({
  kind: "sink",
  type: "sns",
  schema: {
    type: "object",
    properties: { topicArn: { type: "string", pattern: "^arn:aws:sns:" } },
    required: ["topicArn"],
    additionalProperties: false,
  },
  create: nullSink,
});

const testPlugins = [testQueueSource, cloudtrailDecoder, eventNameMatcher, sqsSink, snsSink] as AnyPlugin[];
const newRegistry = (extra: AnyPlugin[] = []) => new PluginRegistry([...testPlugins, ...extra]);

/** The problems a load reports; fails the test if it does not throw a ConfigError. */
async function problemsOf(load: Promise<unknown>): Promise<readonly ConfigProblem[]> {
  const error = await load.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

const parse = (text: string, registry = newRegistry(), env: Record<string, string> = {}) =>
  parsePipelineText(text, { registry, env, path: "<test>" });

/** A valid one-pipeline file in YAML, with `changes` spliced in at the end of the pipeline. */
function pipelineYaml(changes = "", name = "cmdb"): string {
  return `
  - name: ${name}
    source: { type: test-queue, queueUrl: "http://localhost:4566/000000000000/trail" }
    routes:
      - name: instances
        match: { type: event-name, names: [RunInstances] }
        to: [instances]
    sinks:
      instances: { type: sqs, queueUrl: "http://localhost:4566/000000000000/instances" }
${changes}`;
}

/** The same valid pipeline as JSON. */
function pipelineJson(): string {
  return JSON.stringify({
    name: "cmdb",
    source: { type: "test-queue", queueUrl: "http://localhost:4566/000000000000/trail" },
    routes: [
      { name: "instances", match: { type: "event-name", names: ["RunInstances"] }, to: ["instances"] },
    ],
    sinks: { instances: { type: "sqs", queueUrl: "http://localhost:4566/000000000000/instances" } },
  });
}

describe("loadPipelineFile", () => {
  it("loads a YAML file, interpolating the environment and applying defaults", async () => {
    const loaded = await loadPipelineFile(fixture("good.yaml"), {
      registry: newRegistry(),
      env: { TRAIL_QUEUE_URL: "http://localhost:4566/000000000000/trail" },
    });
    expect(loaded.path).toBe(fixture("good.yaml"));
    expect(loaded.baseDir).toBe(path.dirname(fixture("good.yaml")));
    expect(loaded.config).toEqual({
      aws: { region: "us-east-1" },
      pipelines: [
        {
          name: "cmdb",
          source: {
            type: "test-queue",
            queueUrl: "http://localhost:4566/000000000000/trail",
            waitTimeSeconds: 20,
          },
          decoder: { type: "cloudtrail" },
          routes: [
            {
              name: "instances",
              match: { type: "event-name", names: ["RunInstances", "TerminateInstances"] },
              to: ["instances"],
            },
            {
              name: "users",
              match: { type: "event-name", names: ["CreateUser", "DeleteUser"] },
              to: ["users", "audit"],
            },
          ],
          sinks: {
            instances: {
              type: "sqs",
              queueUrl: "http://localhost:4566/000000000000/instances",
              batchSize: 10,
            },
            users: { type: "sqs", queueUrl: "http://localhost:4566/000000000000/users", batchSize: 5 },
            audit: { type: "sns", topicArn: "arn:aws:sns:us-east-1:000000000000:audit" },
          },
        },
      ],
    });
  });

  it("loads a JSON file", async () => {
    const loaded = await loadPipelineFile(fixture("good.json"), { registry: newRegistry(), env: {} });
    const [pipeline] = loaded.config.pipelines;
    expect(pipeline?.name).toBe("iam.audit");
    expect(pipeline?.aws).toEqual({ endpoint: "http://localhost:4566", forcePathStyle: true });
    expect(pipeline?.source).toEqual({
      type: "test-queue",
      queueUrl: "http://localhost:4566/000000000000/trail",
      waitTimeSeconds: 5,
    });
    expect(pipeline?.sinks.topic).toEqual({
      type: "sns",
      topicArn: "arn:aws:sns:us-east-1:000000000000:iam",
    });
  });

  it("reports every problem of a bad file at once, each at its exact path", async () => {
    const problems = await problemsOf(
      loadPipelineFile(fixture("bad.yaml"), { registry: newRegistry(), env: {} }),
    );
    const nameRule = 'start with a letter or digit and use only letters, digits, "_", "." and "-"';
    const expected: ConfigProblem[] = [
      { path: "aws", message: 'unknown option "endpont" (did you mean "endpoint"?)' },
      { path: "aws.region", message: "must not be empty" },
      { path: "pipelines[0]", message: 'unknown option "extra"' },
      { path: "pipelines[0].name", message: `must ${nameRule}` },
      { path: "pipelines[0].routes[0].match", message: 'missing required option "names"' },
      { path: "pipelines[0].routes[0].to", message: 'lists "users" more than once' },
      {
        path: "pipelines[0].routes[1].to[0]",
        message: 'no sink named "instancez" in pipeline "cmdb!" (sinks: users, events, my sink)',
      },
      { path: "pipelines[0].sinks", message: `invalid name "my sink": names ${nameRule}` },
      { path: 'pipelines[0].sinks["my sink"].batchSize', message: "must be an integer, not a string" },
      { path: "pipelines[0].sinks.events", message: 'unknown sink type "kafka" (known: sqs, sns)' },
      { path: "pipelines[0].sinks.users", message: 'missing required option "queueUrl"' },
      { path: "pipelines[0].sinks.users", message: 'unknown option "queueUrll" (did you mean "queueUrl"?)' },
      { path: "pipelines[0].source.queueUrl", message: 'must match format "uri"' },
      { path: "pipelines[0].source.waitTimeSeconds", message: "must be <= 20" },
    ];
    const byPathThenMessage = (a: ConfigProblem, b: ConfigProblem) =>
      a.path.localeCompare(b.path) || a.message.localeCompare(b.message);
    expect([...problems].sort(byPathThenMessage)).toEqual(expected.sort(byPathThenMessage));
  });

  it("names the file and lists every problem in the error's message", async () => {
    const error: unknown = await loadPipelineFile(fixture("bad.yaml"), {
      registry: newRegistry(),
      env: {},
    }).catch((thrown: unknown) => thrown);
    if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
    expect(error.file).toBe(fixture("bad.yaml"));
    expect(error.message).toContain(`14 problems in ${fixture("bad.yaml")}:`);
    expect(error.message).toContain(
      '  pipelines[0].sinks.events: unknown sink type "kafka" (known: sqs, sns)',
    );
  });

  it("reports a file that cannot be read", async () => {
    const problems = await problemsOf(loadPipelineFile(fixture("absent.yaml"), { registry: newRegistry() }));
    expect(problems).toEqual([{ path: "", message: "cannot read the file: no such file" }]);
  });

  it("reports YAML syntax errors with their line and column", async () => {
    const problems = await problemsOf(
      loadPipelineFile(fixture("syntax-error.yaml"), { registry: newRegistry() }),
    );
    expect(problems).toEqual([
      {
        path: "",
        message: "invalid YAML at line 3, column 13: Nested mappings are not allowed in compact mappings",
      },
    ]);
  });

  it("reports JSON syntax errors with their line and column", async () => {
    const problems = await problemsOf(
      loadPipelineFile(fixture("syntax-error.json"), { registry: newRegistry() }),
    );
    expect(problems).toEqual([
      { path: "", message: "invalid JSON at line 5, column 41: Expected double-quoted property name" },
    ]);
  });

  it("locates JSON errors that V8 reports without a position", async () => {
    const problems = await problemsOf(
      parsePipelineText('{\n  "pipelines": [\n    { "name": tru }\n  ]\n}', {
        registry: newRegistry(),
        format: "json",
      }),
    );
    expect(problems).toEqual([
      { path: "", message: "invalid JSON at line 3, column 15: Unexpected token ' '" },
    ]);
  });

  it("refuses duplicate keys in YAML and in JSON, at the mapping's path", async () => {
    const yamlProblems = await problemsOf(
      loadPipelineFile(fixture("duplicate-keys.yaml"), { registry: newRegistry() }),
    );
    expect(yamlProblems).toEqual([
      { path: "pipelines[0].sinks", message: 'duplicate key "users" at line 10, column 7' },
    ]);

    const json = '{"pipelines": [], "aws": {"region": "us-east-1",\n "region": "eu-west-1"}}';
    const jsonProblems = await problemsOf(
      parsePipelineText(json, { registry: newRegistry(), format: "json" }),
    );
    expect(jsonProblems).toEqual([{ path: "aws", message: 'duplicate key "region" at line 2, column 2' }]);
  });
});

describe("parsePipelineText", () => {
  it("names an unknown plugin type and the known ones, and a missing type", async () => {
    const text = `pipelines:${pipelineYaml(`      users: { queueUrl: "http://localhost/q" }`)}`.replace(
      "type: test-queue",
      "type: kinesis",
    );
    expect(await problemsOf(parse(text))).toEqual([
      { path: "pipelines[0].source", message: 'unknown source type "kinesis" (known: test-queue)' },
      {
        path: "pipelines[0].sinks.users",
        message: 'missing required option "type" (known sink types: sqs, sns)',
      },
    ]);
  });

  it("refuses a type that is not a string", async () => {
    const text = `pipelines:${pipelineYaml()}`.replace("type: sqs", "type: 42");
    expect(await problemsOf(parse(text))).toEqual([
      {
        path: "pipelines[0].sinks.instances.type",
        message: "must be a string naming a sink type (known: sqs, sns)",
      },
    ]);
  });

  it("reports a route to a sink its pipeline does not have", async () => {
    const text =
      `pipelines:${pipelineYaml(`      users: { type: sqs, queueUrl: "http://localhost/q" }`)}`.replace(
        "        to: [instances]",
        `        to: [instances]
      - name: users
        match: { type: event-name, names: [CreateUser] }
        to: [userz]`,
      );
    expect(await problemsOf(parse(text))).toEqual([
      {
        path: "pipelines[0].routes[1].to[0]",
        message: 'no sink named "userz" in pipeline "cmdb" (sinks: instances, users)',
      },
    ]);
  });

  it("refuses duplicate pipeline names and duplicate route names within a pipeline", async () => {
    const twoRoutes = pipelineYaml().replace(
      "        to: [instances]",
      `        to: [instances]
      - name: instances
        match: { type: event-name, names: [TerminateInstances] }
        to: [instances]`,
    );
    const text = `pipelines:${twoRoutes}${pipelineYaml("", "other")}${pipelineYaml()}`;
    expect(await problemsOf(parse(text))).toEqual([
      { path: "pipelines[2].name", message: 'pipeline name "cmdb" is already used by pipelines[0]' },
      {
        path: "pipelines[0].routes[1].name",
        message: 'route name "instances" is already used by pipelines[0].routes[0]',
      },
    ]);
  });

  it("runs plugins' validate hooks on blocks the schema accepted, with the block's path in front", async () => {
    const text = `pipelines:${pipelineYaml()}`.replace(
      "names: [RunInstances]",
      "names: [RunInstances, runInstances, Terminate-Instances]",
    );
    expect(await problemsOf(parse(text))).toEqual([
      { path: "pipelines[0].routes[0].match.names[1]", message: '"runInstances" is not an API action' },
      {
        path: "pipelines[0].routes[0].match.names[2]",
        message: '"Terminate-Instances" is not an API action',
      },
    ]);

    const rejectedBySchema = text.replace(
      "match: { type: event-name,",
      "match: { type: event-name, colour: red,",
    );
    expect(await problemsOf(parse(rejectedBySchema))).toEqual([
      { path: "pipelines[0].routes[0].match", message: 'unknown option "colour"' },
    ]);
  });

  it("reports a validate hook that throws at its block", async () => {
    const fragile = definePlugin({
      kind: "sink",
      type: "fragile",
      schema: { type: "object", properties: {} },
      validate: () => {
        throw new Error("boom");
      },
      create: nullSink,
    });
    const text = `pipelines:${pipelineYaml("      spare: { type: fragile }")}`;
    expect(await problemsOf(parse(text, newRegistry([fragile as AnyPlugin])))).toEqual([
      {
        path: "pipelines[0].sinks.spare",
        message: 'the sink plugin "fragile" failed to check its options: boom',
      },
    ]);
  });

  it("reports an unset variable once, not again as the invalid value it leaves behind", async () => {
    const text = `pipelines:${pipelineYaml()}`.replace(
      '"http://localhost:4566/000000000000/trail"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${VAR} reference for the loader
      '"${TRAIL_QUEUE_URL:?the queue CloudTrail notifies}"',
    );
    expect(await problemsOf(parse(text))).toEqual([
      {
        path: "pipelines[0].source.queueUrl",
        message: "environment variable TRAIL_QUEUE_URL is not set or empty: the queue CloudTrail notifies",
      },
    ]);
    const loaded = await parse(text, newRegistry(), { TRAIL_QUEUE_URL: "http://localhost:4566/1/q" });
    expect(loaded.config.pipelines[0]?.source.queueUrl).toBe("http://localhost:4566/1/q");
  });

  it("refuses every block of a kind no plugin provides", async () => {
    const registry = new PluginRegistry([testQueueSource, eventNameMatcher, sqsSink] as AnyPlugin[]);
    expect(await problemsOf(parse(`pipelines:${pipelineYaml()}`, registry))).toEqual([
      { path: "pipelines[0].decoder", message: 'unknown decoder type "cloudtrail" (known: none)' },
    ]);
  });

  it("reports a file without pipelines", async () => {
    expect(await problemsOf(parse("aws: { region: us-east-1 }"))).toEqual([
      { path: "", message: 'missing required option "pipelines"' },
    ]);
    expect(await problemsOf(parse("pipelines: []"))).toEqual([
      { path: "pipelines", message: "must not be empty" },
    ]);
    expect(await problemsOf(parse("- just a list"))).toEqual([
      { path: "", message: "must be an object, not an array" },
    ]);
  });
});

describe("plugin modules named by the file", () => {
  const webhookModule = `export default {
  kind: "sink",
  type: "webhook",
  schema: {
    type: "object",
    properties: { url: { type: "string", format: "uri" }, timeoutMs: { type: "integer", default: 5000 } },
    required: ["url"],
    additionalProperties: false,
  },
  create: () => ({ deliver: async (records) => ({ delivered: records.length, failed: [] }), close: async () => {} }),
};
`;
  const fileUsing = (sink: string) =>
    `plugins: [./webhook-sink.mjs]\npipelines:${pipelineYaml(`      hook: ${sink}`)}`.replace(
      "to: [instances]",
      "to: [instances, hook]",
    );

  async function directoryWithPlugin(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), "trailrouter-config-"));
    await writeFile(path.join(dir, "webhook-sink.mjs"), webhookModule);
    return dir;
  }

  it("loads the module relative to the file and validates its blocks with its schema", async () => {
    const dir = await directoryWithPlugin();
    await writeFile(
      path.join(dir, "good.yaml"),
      fileUsing('{ type: webhook, url: "https://example.com/hook" }'),
    );
    await writeFile(path.join(dir, "bad.yaml"), fileUsing("{ type: webhook, urll: x }"));

    const registry = newRegistry();
    const loaded = await loadPipelineFile(path.join(dir, "good.yaml"), { registry });
    expect(loaded.config.pipelines[0]?.sinks.hook).toEqual({
      type: "webhook",
      url: "https://example.com/hook",
      timeoutMs: 5000,
    });
    expect(registry.find("sink", "webhook")).toBeDefined();

    expect(
      await problemsOf(loadPipelineFile(path.join(dir, "bad.yaml"), { registry: newRegistry() })),
    ).toEqual([
      { path: "pipelines[0].sinks.hook", message: 'missing required option "url"' },
      { path: "pipelines[0].sinks.hook", message: 'unknown option "urll" (did you mean "url"?)' },
    ]);
  });

  it("reports a module that cannot be loaded at its entry in plugins", async () => {
    const dir = await directoryWithPlugin();
    const text = `plugins: [./webhook-sink.mjs, ./missing.mjs]\npipelines:${pipelineYaml()}`;
    const problems = await problemsOf(
      parsePipelineText(text, { registry: newRegistry(), baseDir: dir, env: {} }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe("plugins[1]");
    expect(problems[0]?.message).toMatch(/^cannot load plugin module "\.\/missing\.mjs"/);
  });
});

describe("plugin modules that are not usable plugins", () => {
  const plugin = (body: string) => `export default { kind: "sink", ${body},
  create: () => ({ deliver: async () => ({ delivered: 0, failed: [] }), close: async () => {} }) };\n`;

  /** The problems of a file that loads `module` (written as ./plugin.mjs) and uses its sink. */
  async function problemsWith(module: string, sinkType = "bad"): Promise<readonly ConfigProblem[]> {
    const dir = await mkdtemp(path.join(tmpdir(), "trailrouter-plugin-"));
    await writeFile(path.join(dir, "plugin.mjs"), module);
    const text = `plugins: [./plugin.mjs]\npipelines:${pipelineYaml(`      hook: { type: ${JSON.stringify(sinkType)} }`)}`;
    return problemsOf(parsePipelineText(text, { registry: newRegistry(), baseDir: dir, env: {} }));
  }

  it("names the plugin whose schema's required list is not a list, at its plugins entry", async () => {
    const problems = await problemsWith(
      plugin(`type: "bad", schema: { type: "object", properties: {}, required: 5 }`),
    );
    expect(problems[0]).toEqual({
      path: "plugins[0]",
      message:
        'plugin module "./plugin.mjs": not a valid plugin: schema.required must be an array of option names',
    });
  });

  it("names the plugin whose schema ajv refuses, and registers nothing of its module", async () => {
    const problems = await problemsWith(
      plugin(`type: "bad", schema: { type: "object", properties: { size: { type: "integr" } } }`),
    );
    expect(problems[0]?.path).toBe("plugins[0]");
    expect(problems[0]?.message).toMatch(
      /^the sink plugin "bad" of "\.\/plugin\.mjs" has an invalid schema: schema\/properties\/size\/type /,
    );
    // Not registered: its blocks are an unknown type, not a crash while composing the schema.
    expect(problems[1]?.message).toMatch(/^unknown sink type "bad"/);
  });

  it.each(["__proto__", "constructor", "has space"])("refuses the plugin type %j", async (type) => {
    const problems = await problemsWith(
      plugin(`type: ${JSON.stringify(type)}, schema: { type: "object", properties: {} }`),
      type,
    );
    expect(problems[0]).toMatchObject({ path: "plugins[0]" });
    expect(problems[0]?.message).toContain(`type "${type}" must start with a letter`);
  });

  it("says a Node.js built-in module is not a plugin module", async () => {
    const text = `plugins: ["node:fs", fs]\npipelines:${pipelineYaml()}`;
    const problems = await problemsOf(parsePipelineText(text, { registry: newRegistry(), env: {} }));
    expect(problems).toEqual([
      { path: "plugins[0]", message: '"node:fs" is a Node.js built-in module, not a plugin module' },
      { path: "plugins[1]", message: '"fs" is a Node.js built-in module, not a plugin module' },
    ]);
  });
});

describe("files nested too deeply", () => {
  const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}{}${"}".repeat(depth)}`;

  it("refuses a JSON file nested 5,000 levels deep with the path where it gets too deep", async () => {
    const text = `{"pipelines": [], "deep": ${deepJson(5000)}}`;
    const problems = await problemsOf(
      parsePipelineText(text, { registry: newRegistry(), env: {}, format: "json" }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toBe("nested more than 128 levels deep");
    expect(problems[0]?.path).toBe(`deep${".a".repeat(127)}`);
  });

  it("refuses a YAML file nested deeper than its parser can read, in flow and block style", async () => {
    const flow = `pipelines: ${"[".repeat(5000)}${"]".repeat(5000)}`;
    const block = `a:\n${Array.from({ length: 3000 }, (_, i) => `${"  ".repeat(i + 1)}a:\n`).join("")}`;
    for (const text of [flow, block]) {
      const problems = await problemsOf(
        parsePipelineText(text, { registry: newRegistry(), env: {}, format: "yaml" }),
      );
      expect(problems).toEqual([
        { path: "", message: "nested too deeply to read (a pipeline file may nest 128 levels)" },
      ]);
    }
  });

  it("accepts a file nested up to the limit", async () => {
    const text = `{"pipelines": [${pipelineJson()}], "x": ${deepJson(120)}}`;
    const problems = await problemsOf(parse(text).then(() => undefined));
    // Only the unknown top-level option: the depth is fine.
    expect(problems.map((p) => p.message)).toEqual(['unknown option "x"']);
  });
});

describe("buildPipelineSchema", () => {
  it("composes one schema with a discriminated branch per plugin", () => {
    const schema = buildPipelineSchema(newRegistry()) as {
      properties: {
        pipelines: { items: { properties: { sinks: { additionalProperties: Record<string, unknown> } } } };
      };
    };
    const sinks = schema.properties.pipelines.items.properties.sinks.additionalProperties;
    expect(sinks.discriminator).toEqual({ propertyName: "type" });
    expect(sinks.oneOf).toEqual([
      expect.objectContaining({
        properties: expect.objectContaining({
          type: { const: "sqs" },
          queueUrl: { type: "string", format: "uri" },
        }),
        required: ["type", "queueUrl"],
        additionalProperties: false,
      }),
      expect.objectContaining({ properties: expect.objectContaining({ type: { const: "sns" } }) }),
    ]);
  });

  it("names the plugin whose schema cannot be compiled", async () => {
    const broken = definePlugin({
      kind: "sink",
      type: "broken",
      schema: { type: "object", properties: { size: { type: "integr" } } },
      create: nullSink,
    });
    const error = await parse(`pipelines:${pipelineYaml()}`, newRegistry([broken as AnyPlugin])).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).message).toMatch(/^the sink plugin "broken" has an invalid schema: /);
  });
});

describe("values from the environment", () => {
  it("become numbers and booleans where the schema wants them", async () => {
    const text = `pipelines:\n${pipelineYaml()}`.replace(
      'queueUrl: "http://localhost:4566/000000000000/trail" }',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: pipeline-file interpolation, not JavaScript
      'queueUrl: "http://localhost:4566/000000000000/trail", waitTimeSeconds: "${WAIT:-5}" }',
    );
    const loaded = await parse(text, newRegistry(), { WAIT: "7" });
    expect(loaded.config.pipelines[0]!.source.waitTimeSeconds).toBe(7);
    const defaulted = await parse(text);
    expect(defaulted.config.pipelines[0]!.source.waitTimeSeconds).toBe(5);
    const problems = await problemsOf(parse(text, newRegistry(), { WAIT: "soon" }));
    expect(problems).toEqual([
      { path: "pipelines[0].source.waitTimeSeconds", message: "must be an integer, not a string" },
    ]);
  });
});
