/**
 * @file The contract between the runner and a workload: a case is one workload on one engine in
 * one dtype, run with these options, returning raw samples and checks. Imports result.ts.
 */

import type { CaseOutput, Dtype, Engine, WorkloadId } from "./result.js";

export interface RunOptions {
  /** The tiny version that the test runs: reduced sizes, cheap checks, a handful of samples. */
  quick: boolean;
  /** Samples requested with --samples; null means the workload's own default from WORKLOADS.md. */
  samples: number | null;
  /** Progress lines (to stderr, so stdout carries only the table). */
  log: (line: string) => void;
}

/** A case that runs as a process of another language (the PyTorch peer): what to start. */
export interface ExternalCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface CaseSpec {
  /** e.g. "W2/chainrule/float32", "W5/chainrule/Value/N=1e6". */
  id: string;
  workload: WorkloadId;
  engine: Engine;
  /** What is being measured within the engine: "Value", "nn.MLP", "0-d Tensor", "tf.matMul", … */
  variant: string;
  dtype: Dtype;
  run(options: RunOptions): Promise<CaseOutput>;
  /**
   * For a case of another runtime: the process that prints its CaseOutput as JSON on stdout,
   * which the suite runs under /usr/bin/time instead of a Node child (null: not available here).
   */
  external?: (options: Pick<RunOptions, "quick" | "samples">) => ExternalCommand | null;
  /** Flags for the Node child process that runs the case (e.g. to enable relaxed SIMD). */
  nodeFlags?: string[];
}

/** The number of samples: --samples if given (at least 3, the workloads' minimum), else `fallback`. */
export function sampleCount(options: RunOptions, fallback: number, quick: number): number {
  if (options.quick) return quick;
  return options.samples === null ? fallback : Math.max(3, options.samples);
}
