/**
 * CloudTrail log files as they land in S3: the key layouts CloudTrail writes and the gzip JSON body.
 */
import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { TrailRecord } from "@trailrouter/core";

/** `log`: API activity; `digest`: hourly integrity digest (no Records); `insight`: Insights events. */
export type LogFileKind = "log" | "digest" | "insight";

export interface CloudTrailKeyOptions {
  /** The 12-digit account the records belong to. */
  accountId: string;
  region: string;
  /** When CloudTrail wrote the file; the date folders and the file name use it in UTC. */
  time: Date | string | number;
  kind: LogFileKind;
  /** Organization trails add `o-xxxxxxxxxx/` after `AWSLogs/`. */
  organizationId?: string;
  /** The trail's S3 key prefix, if one is configured. */
  prefix?: string;
  /** The 16 letters and digits that end a log or insight file name; random when omitted. */
  uniqueId?: string;
  /** Digest file names carry the trail name. Default `management-events` (the console's default). */
  trailName?: string;
  /** Digest file names carry the trail's home region too. Default: `region`. */
  homeRegion?: string;
}

/** One log file to put in the bucket. */
export interface LogFile {
  key: string;
  records: readonly TrailRecord[];
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ACCOUNT_ID = /^\d{12}$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const UNIQUE_ID = /^[A-Za-z0-9]{16}$/;
const FOLDER = { log: "CloudTrail", digest: "CloudTrail-Digest", insight: "CloudTrail-Insight" } as const;

function toDate(time: Date | string | number): Date {
  const date = time instanceof Date ? time : new Date(time);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a valid time: ${String(time)}`);
  return date;
}

/** 16 characters of `ALPHANUMERIC` picked by the given bytes. */
function alphanumeric(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < 16; i++) text += ALPHANUMERIC[bytes[i]! % ALPHANUMERIC.length];
  return text;
}

/**
 * The S3 key CloudTrail writes a file under, e.g.
 * `AWSLogs/o-aa111bb222/111122223333/CloudTrail/us-east-1/2026/11/26/111122223333_CloudTrail_us-east-1_20261126T1205Z_0a1B2c3D4e5F6g7H.json.gz`
 * and, for digests,
 * `AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/26/111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_20261126T120512Z.json.gz`.
 */
export function cloudTrailKey(options: CloudTrailKeyOptions): string {
  const { accountId, region, kind, organizationId } = options;
  if (!ACCOUNT_ID.test(accountId)) throw new RangeError(`accountId must be 12 digits, got "${accountId}"`);
  if (organizationId !== undefined && !ORGANIZATION_ID.test(organizationId)) {
    throw new RangeError(`organizationId must look like o-xxxxxxxxxx, got "${organizationId}"`);
  }
  if (options.uniqueId !== undefined && !UNIQUE_ID.test(options.uniqueId)) {
    throw new RangeError(`uniqueId must be 16 letters or digits, got "${options.uniqueId}"`);
  }
  // 2026-11-26T12:05:12.345Z → date "2026/11/26", stamp "20261126T120512"
  const iso = toDate(options.time).toISOString();
  const day = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  const folder = FOLDER[kind];
  const fileName =
    kind === "digest"
      ? `${accountId}_${folder}_${region}_${options.trailName ?? "management-events"}_${options.homeRegion ?? region}_${stamp}${iso.slice(17, 19)}Z.json.gz`
      : `${accountId}_${folder}_${region}_${stamp}Z_${options.uniqueId ?? alphanumeric(randomBytes(16))}.json.gz`;
  const prefix = options.prefix ? `${options.prefix.replace(/\/+$/, "")}/` : "";
  const organization = organizationId ? `${organizationId}/` : "";
  return `${prefix}AWSLogs/${organization}${accountId}/${folder}/${region}/${day}/${fileName}`;
}

/** The bytes of a CloudTrail log file: `{"Records":[...]}`, gzipped unless `gzip: false`. */
export function encodeLogFile(records: readonly TrailRecord[], options: { gzip?: boolean } = {}): Uint8Array {
  const json = Buffer.from(JSON.stringify({ Records: records }));
  return options.gzip === false ? json : gzipSync(json);
}

export interface ToLogFilesOptions {
  organizationId?: string;
  prefix?: string;
  /** CloudTrail delivers a file about every 5 minutes per account and region. */
  windowMinutes?: number;
}

/**
 * Group records into the log files CloudTrail would write: one per account (`recipientAccountId`),
 * region (`awsRegion`) and time window (`eventTime`), named after the end of the window. Keys are
 * derived from the records, so the same records always give the same keys.
 */
export function toLogFiles(records: Iterable<TrailRecord>, options: ToLogFilesOptions = {}): LogFile[] {
  const windowMs = (options.windowMinutes ?? 5) * 60_000;
  if (!(windowMs > 0)) throw new RangeError("windowMinutes must be positive");
  const groups = new Map<
    string,
    { accountId: string; region: string; end: number; records: TrailRecord[] }
  >();
  for (const record of records) {
    const { recipientAccountId: accountId, awsRegion: region, eventTime } = record;
    if (!accountId || !region || !eventTime) {
      throw new TypeError(`record ${record.eventID ?? "?"} lacks recipientAccountId, awsRegion or eventTime`);
    }
    const end = (Math.floor(toDate(eventTime).getTime() / windowMs) + 1) * windowMs;
    const groupKey = `${accountId}/${region}/${end}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = { accountId, region, end, records: [] };
      groups.set(groupKey, group);
    }
    group.records.push(record);
  }
  return [...groups.entries()].map(([groupKey, group]) => {
    const digest = createHash("sha256")
      .update(`${groupKey}/${group.records[0]?.eventID ?? ""}`)
      .digest();
    const key = cloudTrailKey({
      accountId: group.accountId,
      region: group.region,
      time: group.end,
      kind: "log",
      organizationId: options.organizationId,
      prefix: options.prefix,
      uniqueId: alphanumeric(digest),
    });
    return { key, records: group.records };
  });
}
