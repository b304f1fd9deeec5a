/**
 * `node bench/dist/decode.js`: the streaming cloudtrail decoder against the floor — gunzipSync,
 * JSON.parse of the whole file, an eventName lookup per record — on the same bytes, in the same
 * run, rounds interleaved: a file of 20,000 records (about 23 MB of JSON) and one of 200 MB.
 * The decoder runs alone, and with routes as the pipeline runs it: the router's prefilter passed
 * to the decoder (records no route can match are skipped unparsed), every yielded record routed.
 * Prints records/s and MB/s (of JSON) for each and their ratio to the floor; exits 1 if the
 * decoder alone is slower than the floor.
 */
import { cpus, totalmem } from "node:os";
import { pathToFileURL } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { eventPatternMatcher, RoutedBatch, Router, type SetRoute, type TrailRecord } from "@trailrouter/core";
import { CloudTrailDecoder } from "@trailrouter/decoder-cloudtrail";
import { encodeLogFile, generateTraffic, streamTraffic } from "@trailrouter/local-aws";
import { AUDIT_ROUTES } from "./audit-routes.js";
import { printTable } from "./table.js";

const SEED = 20261126;
const TARGET_RATIO = 1;
/** For routes that route few records: skipping the others unparsed should double the floor. */
const STRETCH_RATIO = 2;
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

/** The CMDB example's routes (examples/cmdb/pipeline.yaml): about 1 % of records routed. */
const CMDB_ROUTES = [
  {
    name: "instances",
    pattern: {
      eventSource: ["ec2.amazonaws.com"],
      eventName: ["RunInstances", "ModifyInstanceAttribute", "TerminateInstances"],
    },
  },
  { name: "users", pattern: { eventSource: ["iam.amazonaws.com"], eventName: ["CreateUser", "DeleteUser"] } },
];

/** The CMDB routes and the end-to-end bench's audit routes: about 24 % routed. */
const CMDB_AND_AUDIT_ROUTES = [...CMDB_ROUTES, ...AUDIT_ROUTES];

/** Each route's pattern compiled together with the others', as the pipeline's router does, to a sink of its name. */
function patternRouter(routes: readonly { name: string; pattern: unknown }[]): Router {
  return new Router(
    routes.map(
      ({ name, pattern }): SetRoute => ({
        name,
        plugin: eventPatternMatcher,
        match: { type: eventPatternMatcher.type, pattern },
        to: [name],
      }),
    ),
  );
}

/** What the decoder is measured doing: decoding alone, or decoding for routes and routing. */
interface Contender {
  readonly name: string;
  /** Absent: every record decoded, none routed. */
  readonly router?: Router;
  /** The stretch target applies: routes that route few records. */
  readonly selective: boolean;
}

const CONTENDERS: readonly Contender[] = [
  { name: "decoder alone", selective: false },
  {
    name: "CMDB routes",
    router: patternRouter(CMDB_ROUTES),
    selective: true,
  },
  {
    name: "CMDB + audit routes",
    router: patternRouter(CMDB_AND_AUDIT_ROUTES),
    selective: false,
  },
];

interface Run {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly records: number;
  /** Records whose eventName is LOOKED_UP (decoder alone), or records routed (with routes). */
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

/** As the pipeline decodes and routes an object: prefilter passed, routed records batched by 1,000. */
async function routing(decoder: CloudTrailDecoder, router: Router, body: Buffer): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let records = 0;
  let routed = 0;
  let batch = new RoutedBatch();
  const options = {
    mayMatch: router.mayMatch,
    skipped: () => {
      records++;
    },
  };
  for await (const record of decoder.decode({ bucket: "bench", key: "log.json.gz", body }, options)) {
    records++;
    router.route(record, batch);
    if (batch.size >= 1_000) {
      routed += batch.size;
      batch = new RoutedBatch();
    }
  }
  return finish(start, cpu, records, routed + batch.size);
}

/** Records routed when every record is parsed and routed: what `routing` must find. */
function routedByFullParse(router: Router, body: Buffer): number {
  const batch = new RoutedBatch();
  const document = JSON.parse(gunzipSync(body).toString("utf8")) as { Records: TrailRecord[] };
  for (const record of document.Records) router.route(record, batch);
  return batch.size;
}

function measure(decoder: CloudTrailDecoder, contender: Contender, body: Buffer): Promise<Run> {
  return contender.router ? routing(decoder, contender.router, body) : streaming(decoder, body);
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
    "decoding",
    "records",
    "routed",
    "JSON MB",
    "floor rec/s",
    "floor MB/s",
    "decoder rec/s",
    "decoder MB/s",
    "decoder ÷ floor",
    "CPU ÷ floor",
  ];
  const rows: string[][] = [];
  const targetRatios: number[] = [];
  const stretchRatios: number[] = [];
  for (const [corpus, rounds] of corpora) {
    // One of each before measuring: warms the code and checks that all read the same records.
    const floorCheck = floor(corpus.body);
    if (floorCheck.records !== corpus.records) {
      throw new Error(`${corpus.name}: the floor read ${floorCheck.records} records`);
    }
    for (const contender of CONTENDERS) {
      const run = await measure(decoder, contender, corpus.body);
      const expected = contender.router
        ? routedByFullParse(contender.router, corpus.body)
        : floorCheck.lookedUp;
      if (run.records !== corpus.records || run.lookedUp !== expected) {
        throw new Error(
          `${corpus.name}, ${contender.name}: read ${run.records} records, found ${run.lookedUp} (expected ${expected})`,
        );
      }
    }
    const floorRuns: Run[] = [];
    const contenderRuns: Run[][] = CONTENDERS.map(() => []);
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, so that neither always inherits the other's garbage.
      if (round % 2 === 0) floorRuns.push(floor(corpus.body));
      for (const [c, contender] of CONTENDERS.entries()) {
        contenderRuns[c]!.push(await measure(decoder, contender, corpus.body));
      }
      if (round % 2 === 1) floorRuns.push(floor(corpus.body));
    }
    const base = fastest(floorRuns);
    const megabytes = corpus.jsonBytes / 1e6;
    for (const [c, contender] of CONTENDERS.entries()) {
      const ours = fastest(contenderRuns[c]!);
      const ratio = base.seconds / ours.seconds;
      if (!contender.router) targetRatios.push(ratio);
      if (contender.selective) stretchRatios.push(ratio);
      rows.push([
        corpus.name,
        contender.name,
        corpus.records.toLocaleString("en-US"),
        contender.router ? `${((100 * ours.lookedUp) / corpus.records).toFixed(1)} %` : "–",
        megabytes.toFixed(1),
        format(corpus.records / base.seconds),
        (megabytes / base.seconds).toFixed(1),
        format(corpus.records / ours.seconds),
        (megabytes / ours.seconds).toFixed(1),
        `${ratio.toFixed(2)}×`,
        `${(ours.cpuSeconds / base.cpuSeconds).toFixed(2)}×`,
      ]);
    }
  }

  printTable(header, rows);

  const worst = Math.min(...targetRatios);
  const verdict = worst >= TARGET_RATIO ? "ok" : "BELOW TARGET";
  console.log(
    `\ndecoder alone ÷ floor, slowest file: ${worst.toFixed(2)}× (target ≥ ${TARGET_RATIO}×): ${verdict}`,
  );
  const worstSelective = Math.min(...stretchRatios);
  console.log(
    `selective routes ÷ floor, slowest file: ${worstSelective.toFixed(2)}× (stretch ≥ ${STRETCH_RATIO}×): ` +
      (worstSelective >= STRETCH_RATIO ? "ok" : "below"),
  );
  return worst >= TARGET_RATIO ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = await main();
