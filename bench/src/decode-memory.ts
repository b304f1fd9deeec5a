/**
 * `node bench/dist/decode-memory.js`: peak memory of the cloudtrail decoder. Each measurement runs
 * in a fresh child process that reads gzip log files of 20 MB and 200 MB of JSON and decodes them,
 * one at a time or 8 at once, dropping each record once counted; its peak RSS
 * (process.resourceUsage().maxRSS) is set against that of a process that only loaded the module,
 * and against the peak once the gzip bodies are read, before decoding. A whole-file decode
 * (gunzipSync + JSON.parse) of the same files is shown for contrast.
 *
 * Linux carries the peak RSS of a process over to the child it spawns, so this process stays
 * small: the corpora are built in a child too, and nothing heavy is loaded here.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { printTable } from "./table.js";

const SIZES_MB = [20, 100, 200];
const AT_ONCE = [1, 8];

/** What a measuring child reports, in bytes. */
interface Measurement {
  readonly peakRss: number;
  /** Peak RSS once the bodies were read, before decoding. */
  readonly peakRssBeforeDecoding: number;
  readonly bodies: number;
  readonly records: number;
}

/** A log file built by the `build` child. */
interface LogFile {
  readonly file: string;
  readonly records: number;
  readonly jsonBytes: number;
}

const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** In a child: write the gzip log files into `directory`. */
async function build(directory: string): Promise<LogFile[]> {
  const { megabytesFile } = await import("./decode.js");
  return SIZES_MB.map((size) => {
    const corpus = megabytesFile(size);
    const file = path.join(directory, `${size}mb.json.gz`);
    writeFileSync(file, corpus.body);
    return { file, records: corpus.records, jsonBytes: corpus.jsonBytes };
  });
}

/** In a child: decode `copies` copies of the file at once, streaming or whole. */
async function decode(mode: string, file: string, copies: number): Promise<Measurement> {
  const { CloudTrailDecoder } = await import("@trailrouter/decoder-cloudtrail");
  if (mode === "baseline")
    return { peakRss: peakRss(), peakRssBeforeDecoding: peakRss(), bodies: 0, records: 0 };
  const bodies = Array.from({ length: copies }, () => readFileSync(file));
  const peakRssBeforeDecoding = peakRss();
  let records = 0;
  if (mode === "whole") {
    for (const body of bodies) {
      records += (JSON.parse(gunzipSync(body).toString("utf8")) as { Records: unknown[] }).Records.length;
    }
  } else {
    const decoder = new CloudTrailDecoder();
    await Promise.all(
      bodies.map(async (body, i) => {
        for await (const record of decoder.decode({ bucket: "bench", key: `${i}.json.gz`, body })) {
          records++;
          if (record.eventName === undefined) throw new Error(`record ${records} has no eventName`);
        }
      }),
    );
  }
  const bytes = bodies.reduce((sum, body) => sum + body.length, 0);
  return { peakRss: peakRss(), peakRssBeforeDecoding, bodies: bytes, records };
}

function inChild<T>(...args: string[]): T {
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, [script, ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function main(): void {
  console.log(`trailrouter decode memory: node ${process.version}; MB here are MiB of RSS`);
  const directory = mkdtempSync(path.join(tmpdir(), "trailrouter-decode-memory-"));
  try {
    const files = inChild<LogFile[]>("build", directory);
    const baseline = inChild<Measurement>("baseline");
    console.log(
      `baseline (node + @trailrouter/core loaded, nothing decoded): peak RSS ${mb(baseline.peakRss)} MB\n`,
    );

    const header = [
      "decode",
      "JSON",
      "at once",
      "records",
      "gzip bodies",
      "peak RSS",
      "− baseline",
      "− before decoding",
    ];
    const rows: string[][] = [];
    for (const corpus of files) {
      const runs: [string, number][] = [
        ...AT_ONCE.map((n): [string, number] => ["streaming", n]),
        ["whole", 1],
      ];
      for (const [mode, copies] of runs) {
        const m = inChild<Measurement>(mode, corpus.file, String(copies));
        if (m.records !== corpus.records * copies) {
          throw new Error(`${mode} read ${m.records} records of ${corpus.records * copies}`);
        }
        rows.push([
          mode === "whole" ? "whole file (contrast)" : "streaming",
          `${(corpus.jsonBytes / 1e6).toFixed(0)} MB`,
          String(copies),
          m.records.toLocaleString("en-US"),
          `${mb(m.bodies)} MB`,
          `${mb(m.peakRss)} MB`,
          `${mb(m.peakRss - baseline.peakRss)} MB`,
          `${mb(m.peakRss - m.peakRssBeforeDecoding)} MB`,
        ]);
      }
    }
    printTable(header, rows);
    console.log("\n− before decoding: what decoding added to the peak once the gzip bodies were in memory.");
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [mode, file = "", copies = "0"] = process.argv.slice(2);
  if (mode === undefined) main();
  else if (mode === "build") process.stdout.write(JSON.stringify(await build(file)));
  else process.stdout.write(JSON.stringify(await decode(mode, file, Number(copies))));
}
