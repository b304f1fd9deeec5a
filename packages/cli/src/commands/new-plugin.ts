/**
 * `trailrouter new-plugin sink NAME`: writes a plugin package to start from, from the templates
 * in packages/cli/templates/KIND (files a reader can open, linted with the rest of the code).
 */
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT_CONFIG, EXIT_OK } from "../load.js";

/** The kinds there is a template for. */
export const PLUGIN_TEMPLATES = ["sink"] as const;

/** A plugin's name: its `type:` in pipeline files, and part of its package's name. */
export const PLUGIN_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Template files written under another name: npm would drop a `.gitignore` from the CLI's package. */
const RENAMED: Record<string, (name: string) => string> = {
  gitignore: () => ".gitignore",
  [path.join("test", "sink.test.ts")]: (name) => path.join("test", `${name}.test.ts`),
};

const TEMPLATES = fileURLToPath(new URL("../../templates/", import.meta.url));
const CLI_PACKAGE = fileURLToPath(new URL("../../package.json", import.meta.url));

export interface NewPluginOptions {
  /** Where to write the package; `./trailrouter-KIND-NAME` by default. */
  readonly dir?: string;
  /** What a relative `dir` resolves against; the working directory by default. */
  readonly cwd?: string;
}

export async function newPluginCommand(
  kind: string,
  name: string,
  options: NewPluginOptions,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  const refuse = (message: string) => {
    io.err.write(`trailrouter: ${message}\n`);
    return EXIT_CONFIG;
  };
  if (!(PLUGIN_TEMPLATES as readonly string[]).includes(kind)) {
    return refuse(`no template for a "${kind}" plugin (there is one for: ${PLUGIN_TEMPLATES.join(", ")})`);
  }
  if (!PLUGIN_NAME.test(name)) {
    return refuse(
      `invalid plugin name "${name}": use lowercase letters and digits, words joined by single "-", starting with a letter (it is the plugin's type and part of its package's name)`,
    );
  }
  const packageName = `trailrouter-${kind}-${name}`;
  const dir = path.resolve(options.cwd ?? process.cwd(), options.dir ?? packageName);
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) return refuse(`${dir} exists and is not a directory`);
  if (existing && (await readdir(dir)).length > 0) {
    return refuse(`${dir} is not empty: give a new or empty directory (--dir)`);
  }

  const { version } = JSON.parse(await readFile(CLI_PACKAGE, "utf8")) as { version: string };
  const values: Record<string, string> = {
    __name__: name,
    __package__: packageName,
    __trailrouter_range__: `^${version}`,
  };
  const templateDir = path.join(TEMPLATES, kind);
  const files = (await readdir(templateDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(templateDir, path.join(entry.parentPath, entry.name)))
    .sort();
  const written: string[] = [];
  for (const file of files) {
    const text = (await readFile(path.join(templateDir, file), "utf8")).replace(
      /__(?:name|package|trailrouter_range)__/g,
      (placeholder) => values[placeholder]!,
    );
    const target = RENAMED[file]?.(name) ?? file;
    await mkdir(path.dirname(path.join(dir, target)), { recursive: true });
    await writeFile(path.join(dir, target), text, { flag: "wx" });
    written.push(target);
  }

  const shown = path.relative(process.cwd(), dir) || ".";
  const built = path.join(shown, "dist", "index.js");
  const specifier = path.isAbsolute(built) || built.startsWith("..") ? built : `.${path.sep}${built}`;
  io.out.write(
    [
      `${shown}: a ${kind} plugin "${name}" (package ${packageName})`,
      ...written.map((file) => `  ${file.split(path.sep).join("/")}`).sort(),
      "",
      "Next:",
      `  cd ${shown} && npm install && npm test && npm run build`,
      `  then load it from a pipeline file: plugins: [${specifier}] (a path relative to that file)`,
      "  trailrouter's docs/PLUGINS.md walks through a complete sink",
      "",
    ].join("\n"),
  );
  return EXIT_OK;
}
