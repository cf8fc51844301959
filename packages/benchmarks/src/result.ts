/**
 * @file The shapes of what a benchmark case returns and what the suite reports: metrics as raw
 * samples, reference checks, and the per-case record written to JSON. Imports nothing.
 */

export type WorkloadId = "W1" | "W2" | "W3" | "W4" | "W5" | "W6" | "W7" | "W8";
export type Engine = "chainrule" | "tfjs" | "pytorch";
export type Dtype = "float64" | "float32";

/** One measured quantity: every sample, in seconds per unit (or GFLOP/s for W4). */
export interface Metric {
  /** Stable key within its case, e.g. "step", "epoch", "block", "forward n=512", "total". */
  key: string;
  /** What one sample is, for the table: "s / step", "s / epoch", "GFLOP/s", … */
  unit: "s" | "GFLOP/s";
  per: string;
  samples: number[];
}

/** A reference check: the measured number against what the peers produced. */
export interface Check {
  name: string;
  measured: number;
  /** The expected value as the workload states it: "1.334372004083486", "0.7245 ± 0.01", … */
  expected: string;
  ok: boolean;
}

/** What a case's `run` returns. */
export interface CaseOutput {
  metrics: Metric[];
  checks: Check[];
  /** Figures beside the timings (accuracies, node counts, RSS per epoch, split times). */
  details: Record<string, unknown>;
  /** Deviations from WORKLOADS.md that a reader must know (reduced sizes, engine limits). */
  notes: string[];
}

/** Median, min and max of a metric's samples. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The record of one case in the JSON output and the table. */
export interface CaseResult {
  id: string;
  workload: WorkloadId;
  engine: Engine;
  variant: string;
  dtype: Dtype;
  /** The metrics with their summaries; `summary` is null when a reference check failed. */
  metrics: Array<Metric & { summary: Summary | null }>;
  checks: Check[];
  details: Record<string, unknown>;
  notes: string[];
  /** Peak resident set of the process that ran the case, in MB (2²⁰ bytes). */
  peakRssMB: number | null;
  /** Where the peak came from: /usr/bin/time's %M, or the child's own process.resourceUsage(). */
  rssSource: "/usr/bin/time" | "resourceUsage" | "in-process";
  /** Wall time of the whole case including untimed parts (data loading, evaluation), seconds. */
  wallS: number;
  /** Set when the case threw or its process failed: the exact error. */
  error: string | null;
}

/** The whole JSON file. */
export interface SuiteResult {
  startedAt: string;
  quick: boolean;
  environment: Record<string, string | number | boolean>;
  cases: CaseResult[];
}
