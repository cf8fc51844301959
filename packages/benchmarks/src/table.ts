/**
 * @file The report: one Markdown table (median [min–max], target, ratio to each peer, peak
 * memory, check), then the details behind it (split times, accuracies, notes, every check).
 * Ratios are speed-ups: above 1 means the row is faster than the peer. Imports result.ts,
 * references.ts.
 */

import { meets, PEER_DESCRIPTIONS, type Peer, peersFor, rssTargetFor, targetFor } from "./references.js";
import type { CaseResult, Metric, SuiteResult, Summary } from "./result.js";

/** Split times (W1, W5) go to the details; every other metric gets a row. */
function isRow(m: Metric): boolean {
  return m.key !== "forward" && m.key !== "backward";
}

/** Seconds below 0.1 in ms, otherwise in s; GFLOP/s as is; 3 significant digits. */
export function formatValue(value: number, unit: Metric["unit"], scaleOf = value): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === "GFLOP/s") return `${value.toPrecision(3)}`;
  return scaleOf < 0.1 ? `${(value * 1000).toPrecision(3)} ms` : `${value.toPrecision(3)} s`;
}

export function formatSummary(s: Summary, unit: Metric["unit"]): string {
  const one = (v: number) => formatValue(v, unit, s.median).replace(/ (ms|s)$/, "");
  const suffix = unit === "GFLOP/s" ? " GFLOP/s" : s.median < 0.1 ? " ms" : " s";
  return `${one(s.median)} [${one(s.min)}–${one(s.max)}]${suffix}`;
}

/** How many times faster the row is than `other` (times: other/this; GFLOP/s: this/other). */
export function speedup(unit: Metric["unit"], value: number, other: number): number {
  return unit === "GFLOP/s" ? value / other : other / value;
}

function ratio(x: number): string {
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
}

/**
 * The peer's row measured in this run that compares with this chainrule row, if any: TF.js's of
 * the workload (float32 only, so float64 rows compare with it too), PyTorch's of the same dtype;
 * in W5, of the same chain length.
 */
function peerHere(suite: SuiteResult, r: CaseResult, key: string, engine: "tfjs" | "pytorch"): Summary | null {
  if (r.engine !== "chainrule") return null;
  const peer = suite.cases.find(
    (c) =>
      c.engine === engine &&
      c.workload === r.workload &&
      (engine === "tfjs" || c.dtype === r.dtype) &&
      (r.workload !== "W5" || c.details.n === r.details.n),
  );
  return peer?.metrics.find((m) => m.key === key)?.summary ?? null;
}

function failure(r: CaseResult): string | null {
  if (r.error !== null) return `ERROR: ${r.error}`;
  const failed = r.checks.filter((c) => !c.ok);
  if (failed.length === 0) return null;
  return `FAILED: ${failed.map((c) => `${c.name}: measured ${c.measured}, expected ${c.expected}`).join("; ")}`;
}

const PEERS: readonly Peer[] = ["micrograd", "PyTorch", "TF.js"];

export const COLUMNS = [
  "workload",
  "engine",
  "dtype",
  "per",
  "median [min–max]",
  "target",
  "vs micrograd",
  "vs PyTorch",
  "vs TF.js (ref)",
  "vs TF.js (this run)",
  "vs PyTorch (this run)",
  "peak RSS",
  "check",
] as const;

/** One row per reported metric: the cells in COLUMNS order. */
export function tableRows(suite: SuiteResult): string[][] {
  const rows: string[][] = [];
  for (const r of suite.cases) {
    const failed = failure(r);
    const metrics = r.metrics.filter(isRow);
    // A case that failed before measuring anything still gets its row, so the failure shows.
    const shown =
      metrics.length > 0 ? metrics : [{ key: "—", per: "—", unit: "s" as const, samples: [], summary: null }];
    for (const m of shown) {
      const s = m.summary;
      // --quick sizes differ from the workloads': no targets, no ratios.
      const target = suite.quick ? null : targetFor(r, m.key);
      const targetCell =
        target === null
          ? ""
          : `${target.op} ${formatValue(target.value, m.unit)}${s === null ? "" : meets(target, s.median) ? " ✓" : " ✗"}`;
      const peerCells = PEERS.map((peer) => {
        const figure = suite.quick ? undefined : peersFor(r, m.key).find((f) => f.peer === peer);
        if (figure === undefined) return "";
        const value = formatValue(figure.value, m.unit);
        return s === null ? value : `${value} · ${ratio(speedup(m.unit, s.median, figure.value))}`;
      });
      const hereCell = (engine: "tfjs" | "pytorch") => {
        const here = suite.quick ? null : peerHere(suite, r, m.key, engine);
        if (here === null) return "";
        return `${formatValue(here.median, m.unit)}${s === null ? "" : ` · ${ratio(speedup(m.unit, s.median, here.median))}`}`;
      };
      const rssTarget = suite.quick ? null : rssTargetFor(r);
      const rss =
        r.peakRssMB === null
          ? "—"
          : `${r.peakRssMB.toFixed(0)} MB${rssTarget === null ? "" : ` (≤ ${rssTarget} ${r.peakRssMB <= rssTarget ? "✓" : "✗"})`}`;
      rows.push([
        r.workload,
        `${r.engine} (${r.variant})`,
        r.dtype,
        m.unit === "GFLOP/s" ? m.per : `s / ${m.per}`,
        s === null ? (failed === null ? "—" : "FAILED") : formatSummary(s, m.unit),
        targetCell,
        ...peerCells,
        hereCell("tfjs"),
        hereCell("pytorch"),
        rss,
        failed ?? "ok",
      ]);
    }
  }
  return rows;
}

function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const escapePipes = (cell: string) => cell.replaceAll("|", "\\|");
  const line = (cells: readonly string[]) => `| ${cells.map(escapePipes).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function detailLines(r: CaseResult): string[] {
  const out: string[] = [];
  for (const m of r.metrics.filter((m) => !isRow(m))) {
    if (m.summary !== null) out.push(`${m.per}: ${formatSummary(m.summary, m.unit)}`);
  }
  for (const [k, v] of Object.entries(r.details)) {
    if (k === "backend") continue;
    out.push(`${k}: ${JSON.stringify(v)}`);
  }
  for (const c of r.checks)
    out.push(`check ${c.ok ? "ok" : "FAILED"}: ${c.name}: measured ${c.measured}, expected ${c.expected}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  if (r.error !== null) out.push(`error: ${r.error}`);
  out.push(`peak RSS from ${r.rssSource}; whole case ${r.wallS.toFixed(1)} s wall`);
  return out;
}

/** The full printed report: environment, the table, the legend and the details. */
export function renderReport(suite: SuiteResult): string {
  const env = Object.entries(suite.environment)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  const legend = [
    "Times are median [min–max] over the workload's samples (steps, epochs, blocks, reps); W4 in GFLOP/s.",
    "Peer cells: the peer's figure · speed-up of the row over it (> 1: the row is faster).",
    ...PEERS.map((p) => `${p}: ${PEER_DESCRIPTIONS[p]}.`),
    '"TF.js (this run)": @tensorflow/tfjs 4.22.0 with the wasm backend, measured by this suite just now.',
    '"PyTorch (this run)": src/peers/pytorch.py on one thread, run by this suite just now in alternating rounds with the chainrule rows of the same workload, dtype and size (samples pooled over the rounds; per-round medians in the details).',
    "Peak RSS: max resident set of the process that ran the case (node itself included).",
  ];
  const details = suite.cases.flatMap((r) => [`- ${r.id}`, ...detailLines(r).map((l) => `  - ${l}`)]);
  return [
    `chainrule benchmarks${suite.quick ? " (--quick: reduced sizes, not comparable)" : ""} — ${suite.startedAt}`,
    env,
    "",
    markdownTable(COLUMNS, tableRows(suite)),
    "",
    ...legend,
    "",
    "Details:",
    ...details,
  ].join("\n");
}

/** True when every case ran and passed its checks. */
export function allPassed(suite: SuiteResult): boolean {
  return suite.cases.every((r) => failure(r) === null);
}
