import type { RunSummary } from "@trailrouter/core";
import Table from "cli-table3";

/** Tables without lines between rows, and no colours (the output may be a file). */
export const TABLE_STYLE = {
  chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  style: { head: [], border: [] },
};

function entries(record: Record<string, number>): string {
  const list = Object.entries(record).filter(([, n]) => n > 0);
  return list.length === 0 ? "-" : list.map(([k, n]) => `${k} ${n}`).join(", ");
}

/** `trailrouter_notifications_total` → `notifications`. */
function counterTitle(name: string): string {
  return name
    .replace(/^trailrouter_/, "")
    .replace(/_total$/, "")
    .replaceAll("_", " ");
}

/** `cloudtrail 7, validation 1` for one label; `a=x b=y 3` for more; the count alone for none. */
function counterValues(values: { labels: Record<string, string>; value: number }[]): string {
  const shown = values
    .filter(({ value }) => value > 0)
    .map(({ labels, value }) => {
      const names = Object.keys(labels);
      if (names.length === 0) return String(value);
      if (names.length === 1) return `${labels[names[0]!]} ${value}`;
      return `${names.map((n) => `${n}=${labels[n]}`).join(" ")} ${value}`;
    });
  return shown.length === 0 ? "-" : shown.join(", ");
}

/** The end-of-run report of `run --once`: one block per pipeline. */
export function formatRunSummary(summary: RunSummary): string {
  const blocks = summary.pipelines.map((p) => {
    const table = new Table({ head: [`pipeline ${p.pipeline}`, ""], ...TABLE_STYLE });
    table.push(
      [
        "envelopes",
        `${p.envelopes.acked} done, ${p.envelopes.nacked} given back${p.envelopes.deadLettered ? `, ${p.envelopes.deadLettered} dead-lettered` : ""}`,
      ],
      ...p.counters.map(({ name, values }) => [counterTitle(name), counterValues(values)]),
      [
        "objects",
        `${p.objects.decoded} decoded${Object.keys(p.objects.skipped).length ? `, skipped: ${entries(p.objects.skipped)}` : ""}`,
      ],
      ["records", String(p.records)],
      ...Object.entries(p.routed).map(([route, n]) => [`route ${route}`, `${n} routed`]),
      ...Object.entries(p.delivered).map(([sink, n]) => [`sink ${sink}`, `${n} delivered`]),
      ...Object.entries(p.deadLettered)
        .filter(([, n]) => n > 0)
        .map(([sink, n]) => [`sink ${sink}`, `${n} refused for good, dead-lettered`]),
      [
        "failures",
        p.failures.length === 0
          ? "none"
          : p.failures.map((f) => `${f.stage}/${f.code} ${f.count}`).join(", "),
      ],
    );
    if (p.receiveFailed) table.push(["receive", "FAILED: the source queue could not be read"]);
    return table.toString();
  });
  return `${blocks.join("\n")}\n${verdict(summary)}`;
}

/** The last line: what went wrong, in the words of what happened. */
function verdict(summary: RunSummary): string {
  if (summary.ok) return "ok";
  const reasons: string[] = [];
  if (summary.pipelines.some((p) => p.receiveFailed)) reasons.push("a source queue could not be read");
  if (summary.pipelines.some((p) => p.envelopes.nacked > 0))
    reasons.push("some envelopes were given back (they stay in their queue)");
  if (summary.pipelines.some((p) => p.envelopes.deadLettered > 0))
    reasons.push("some messages kept failing and went to their dead-letter sink");
  return `FAILED: ${reasons.join("; ") || "see the failures above"}`;
}
