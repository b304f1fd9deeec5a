/**
 * `node bench/dist/decode.js`: the streaming cloudtrail decoder against the floor — gunzipSync,
 * JSON.parse of the whole file, an eventName lookup per record — on the same bytes, in the same
 * run, rounds interleaved: a file of 20,000 records (about 23 MB of JSON) and one of 200 MB.
 * Prints records/s and MB/s (of JSON) for both and their ratio; exits 1 if the decoder is slower
 * than the floor.
 */
import { cpus, totalmem } from "node:os";
import { pathToFileURL } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { CloudTrailDecoder, type TrailRecord } from "@trailrouter/core";
import { encodeLogFile, generateTraffic, streamTraffic } from "@trailrouter/local-aws";
import { printTable } from "./table.js";

const SEED = 20261126;
const TARGET_RATIO = 1;
/** The event looked up in every record, by both. */
const LOOKED_UP = "RunInstances";

export interface LogFileCorpus {
  readonly name: string;
  /** The gzip file, as S3 holds it. */
  readonly body: Buffer;
  readonly records: number;
  /** Bytes of JSON once gunzipped. */
  readonly jsonBytes: number;
}

/** The first `count` records of the seed, as one gzip log file. */
export function recordsFile(count: number): LogFileCorpus {
  const body = Buffer.from(encodeLogFile(generateTraffic({ seed: SEED, count })));
  const jsonBytes = gunzipSync(body).length;
  return { name: `${count.toLocaleString("en-US")} records`, body, records: count, jsonBytes };
}

/** Records of the seed until their JSON reaches `megabytes` MB, as one gzip log file. */
export function megabytesFile(megabytes: number): LogFileCorpus {
  const target = megabytes * 1e6;
  const parts: Buffer[] = [Buffer.from('{"Records":[')];
  let batch: string[] = [];
  const flush = () => {
    if (parts.length > 1) parts.push(Buffer.from(","));
    parts.push(Buffer.from(batch.join(",")));
    batch = [];
  };
  let size = '{"Records":[]}'.length - 1;
  let records = 0;
  // About 1 kB a record: enough records for the size, spread over the seed's time window.
  for (const record of streamTraffic({ seed: SEED, count: Math.ceil(target / 1000) })) {
    const json = JSON.stringify(record);
    batch.push(json);
    records++;
    size += Buffer.byteLength(json) + 1;
    if (batch.length === 1000) flush();
    if (size >= target) break;
  }
  if (batch.length > 0) flush();
  parts.push(Buffer.from("]}"));
  const json = Buffer.concat(parts);
  return { name: `${megabytes} MB`, body: gzipSync(json), records, jsonBytes: json.length };
}

interface Run {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly records: number;
  readonly lookedUp: number;
}

function floor(body: Buffer): Run {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const document = JSON.parse(gunzipSync(body).toString("utf8")) as { Records: TrailRecord[] };
  let lookedUp = 0;
  for (const record of document.Records) if (record.eventName === LOOKED_UP) lookedUp++;
  return finish(start, cpu, document.Records.length, lookedUp);
}

async function streaming(decoder: CloudTrailDecoder, body: Buffer): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let records = 0;
  let lookedUp = 0;
  for await (const record of decoder.decode({ bucket: "bench", key: "log.json.gz", body })) {
    records++;
    if (record.eventName === LOOKED_UP) lookedUp++;
  }
  return finish(start, cpu, records, lookedUp);
}

function finish(start: bigint, cpu: NodeJS.CpuUsage, records: number, lookedUp: number): Run {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, records, lookedUp };
}

/** The fastest of the rounds: the one least disturbed by the rest of the machine. */
const fastest = (runs: Run[]) => runs.reduce((best, run) => (run.seconds < best.seconds ? run : best));

const format = (value: number) => Math.round(value).toLocaleString("en-US");

async function main(): Promise<number> {
  const cpu = cpus();
  console.log(
    `trailrouter decode bench: node ${process.version}, ${cpu[0]?.model ?? "unknown CPU"} (${cpu.length} cores), ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB`,
  );
  console.log("building the corpora (seeded traffic from @trailrouter/local-aws)...");
  const corpora: [LogFileCorpus, number][] = [
    [recordsFile(20_000), 7],
    [megabytesFile(200), 3],
  ];
  console.log(
    "method: wall-clock time of a whole file, fastest of the rounds, floor and decoder interleaved;\n" +
      "MB/s counts the JSON (gunzipped) bytes; CPU counts every thread (zlib decompresses on a worker)\n",
  );

  const decoder = new CloudTrailDecoder();
  const header = [
    "file",
    "records",
    "JSON MB",
    "gzip MB",
    "floor rec/s",
    "floor MB/s",
    "decoder rec/s",
    "decoder MB/s",
    "decoder ÷ floor",
    "CPU ÷ floor",
  ];
  const rows: string[][] = [];
  const ratios: number[] = [];
  for (const [corpus, rounds] of corpora) {
    // One of each before measuring: warms the code and checks that both read the same records.
    const check = [floor(corpus.body), await streaming(decoder, corpus.body)];
    for (const run of check) {
      if (run.records !== corpus.records || run.lookedUp !== check[0]!.lookedUp) {
        throw new Error(`${corpus.name}: read ${run.records} records (${run.lookedUp} ${LOOKED_UP})`);
      }
    }
    const floorRuns: Run[] = [];
    const decoderRuns: Run[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, so that neither always inherits the other's garbage.
      if (round % 2 === 0) floorRuns.push(floor(corpus.body));
      decoderRuns.push(await streaming(decoder, corpus.body));
      if (round % 2 === 1) floorRuns.push(floor(corpus.body));
    }
    const base = fastest(floorRuns);
    const ours = fastest(decoderRuns);
    const ratio = base.seconds / ours.seconds;
    ratios.push(ratio);
    const megabytes = corpus.jsonBytes / 1e6;
    rows.push([
      corpus.name,
      corpus.records.toLocaleString("en-US"),
      megabytes.toFixed(1),
      (corpus.body.length / 1e6).toFixed(1),
      format(corpus.records / base.seconds),
      (megabytes / base.seconds).toFixed(1),
      format(corpus.records / ours.seconds),
      (megabytes / ours.seconds).toFixed(1),
      `${ratio.toFixed(2)}×`,
      `${(ours.cpuSeconds / base.cpuSeconds).toFixed(2)}×`,
    ]);
  }

  printTable(header, rows);

  const worst = Math.min(...ratios);
  const verdict = worst >= TARGET_RATIO ? "ok" : "BELOW TARGET";
  console.log(
    `\ndecoder ÷ floor, slowest file: ${worst.toFixed(2)}× (target ≥ ${TARGET_RATIO}×): ${verdict}`,
  );
  return worst >= TARGET_RATIO ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = await main();
