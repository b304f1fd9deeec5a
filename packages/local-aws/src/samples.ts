/**
 * Real CloudTrail records (Stratus Red Team detonation logs, anonymized), shipped in fixtures/.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { TrailRecord } from "@trailrouter/core";

/** src/ under vitest and dist/ after the build are both one level below the package root. */
const SAMPLE_DIRECTORY = new URL("../fixtures/stratus-red-team/", import.meta.url);

/**
 * The 310 sample records, files in name order, each file's records in their own order.
 * Every call reads the files again and returns fresh objects the caller may change.
 */
export function loadSampleRecords(): TrailRecord[] {
  const files = readdirSync(SAMPLE_DIRECTORY)
    .filter((name) => name.endsWith(".json"))
    .sort();
  return files.flatMap((name) => {
    const records: unknown = JSON.parse(readFileSync(new URL(name, SAMPLE_DIRECTORY), "utf8"));
    if (!Array.isArray(records)) throw new TypeError(`${name}: expected a JSON array of CloudTrail records`);
    return records as TrailRecord[];
  });
}
