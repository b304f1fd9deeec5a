import type { PluginRegistry } from "@trailrouter/core";
import { EXIT_CONFIG, EXIT_OK, loadOrReport } from "../load.js";

export async function validateCommand(
  file: string,
  registry: PluginRegistry,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  const loaded = await loadOrReport(file, registry, io.err);
  if (!loaded) return EXIT_CONFIG;
  const pipelines = loaded.config.pipelines;
  const lines = pipelines.map(
    (p) =>
      `  ${p.name}: source ${p.source.type}, ${p.routes.length} route(s), sinks ${Object.entries(p.sinks)
        .map(([name, s]) => `${name} (${s.type})`)
        .join(", ")}`,
  );
  io.out.write(`${file}: valid, ${pipelines.length} pipeline(s)\n${lines.join("\n")}\n`);
  return EXIT_OK;
}
