/**
 * @file Running cases: in this process, or each in a child process of its own so that its peak
 * memory is its own (the max RSS that /usr/bin/time reports, or the child's
 * process.resourceUsage() when /usr/bin/time is missing), then summarising samples into results
 * that refuse to carry a time when a reference check failed. Imports case.ts, cases.ts,
 * profile.ts, result.ts, stats.ts, workloads/mnist.ts.
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { arch, cpus, loadavg, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CaseSpec, RunOptions } from "./case.js";
import { selectCases } from "./cases.js";
import { topSelfTime } from "./profile.js";
import type { CaseOutput, CaseResult, Engine, SuiteResult, WorkloadId } from "./result.js";
import { seconds, summarize } from "./stats.js";
import { prepareMnistCache } from "./workloads/mnist.js";

export interface SuiteOptions {
  workloads: readonly WorkloadId[];
  engines: readonly Engine[];
  quick: boolean;
  samples: number | null;
  /** One child process per case (the default for the CLI); false runs every case here (the test). */
  isolate: boolean;
  /** With isolation: write each child's V8 CPU profile under this directory and summarise it. */
  profileDir?: string | null;
  log: (line: string) => void;
}

/** What a child process writes to its result file. */
interface ChildReport {
  result: CaseResult;
  maxRssKB: number;
}

const TIME = "/usr/bin/time";

/** Turn a case's raw output (or its error) into the reported record. */
export function toResult(spec: CaseSpec, output: CaseOutput | null, error: string | null, wallS: number): CaseResult {
  const checks = output?.checks ?? [];
  const trusted = error === null && checks.every((c) => c.ok);
  return {
    id: spec.id,
    workload: spec.workload,
    engine: spec.engine,
    variant: spec.variant,
    dtype: spec.dtype,
    // A time is only reported for a run that proved it did the workload's work.
    metrics: (output?.metrics ?? []).map((m) => ({ ...m, summary: trusted ? summarize(m.samples) : null })),
    checks,
    details: output?.details ?? {},
    notes: output?.notes ?? [],
    peakRssMB: null,
    rssSource: "in-process",
    wallS,
    error,
  };
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Run one case in this process; errors become part of the result. */
export async function runCaseHere(spec: CaseSpec, options: RunOptions): Promise<CaseResult> {
  const t0 = seconds();
  try {
    const output = await spec.run(options);
    return toResult(spec, output, null, seconds() - t0);
  } catch (e) {
    return toResult(spec, null, describeError(e), seconds() - t0);
  }
}

export interface ProcessOutcome {
  code: number | null;
  signal: string | null;
  /** The last few KB of what the process wrote to stderr (and stdout): where a crash says why. */
  outputTail: string;
  /** Max RSS in KB from /usr/bin/time, or null without it. */
  maxRssKB: number | null;
}

/**
 * Run `node <args>` under /usr/bin/time -f %M when it exists, forwarding its output to our
 * stderr as it comes (stdout stays free for the table) unless `echo` is false, and keeping the
 * tail for error reports.
 */
export function runMeasured(nodeArgs: readonly string[], echo = true): Promise<ProcessOutcome> {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-bench-"));
  const timeFile = join(dir, "time.txt");
  const useTime = existsSync(TIME);
  const [command, args] = useTime
    ? [TIME, ["-f", "%M", "-o", timeFile, process.execPath, ...nodeArgs]]
    : [process.execPath, [...nodeArgs]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const keep = (chunk: Buffer) => {
      if (echo) process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-4096);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      let maxRssKB: number | null = null;
      if (useTime && existsSync(timeFile)) {
        // On failure GNU time writes "Command exited with non-zero status N" before the figure.
        const lines = readFileSync(timeFile, "utf8").trim().split("\n");
        const last = Number(lines[lines.length - 1]);
        if (Number.isFinite(last) && last > 0) maxRssKB = last;
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, outputTail: tail, maxRssKB });
    });
  });
}

/** The first line of the tail that looks like the reason a process died. */
function crashReason(outcome: ProcessOutcome): string {
  const lines = outcome.outputTail.split("\n").map((l) => l.trim());
  const fatal = lines.find((l) => /FATAL ERROR|RangeError|Error:|out of memory/i.test(l));
  const how = outcome.signal !== null ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`;
  return `${fatal ?? "the process died without a report"} (${how})`;
}

/**
 * Run one case in a child process of its own (dist/child.js) and collect its result and peak RSS;
 * with `profileDir`, under `node --cpu-prof`, adding the top self-time functions to the details.
 */
export async function runCaseInChild(
  spec: CaseSpec,
  options: Omit<RunOptions, "log">,
  profileDir: string | null = null,
): Promise<CaseResult> {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-case-"));
  const resultFile = join(dir, "result.json");
  const child = fileURLToPath(new URL("./child.js", import.meta.url));
  const profileTo = profileDir === null ? null : join(profileDir, spec.id.replaceAll("/", "_"));
  const profileFlags = profileTo === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileTo}`];
  const t0 = seconds();
  // --expose-gc lets W5 release the previous graph between reps, outside its timed region.
  const outcome = await runMeasured([
    "--expose-gc",
    ...profileFlags,
    child,
    spec.id,
    JSON.stringify(options),
    resultFile,
  ]);
  const wallS = seconds() - t0;
  let result: CaseResult;
  if (existsSync(resultFile)) {
    const report = JSON.parse(readFileSync(resultFile, "utf8")) as ChildReport;
    result = report.result;
    result.rssSource = outcome.maxRssKB === null ? "resourceUsage" : TIME;
    result.peakRssMB = (outcome.maxRssKB ?? report.maxRssKB) / 1024;
  } else {
    result = toResult(spec, null, crashReason(outcome), wallS);
    result.rssSource = TIME;
    result.peakRssMB = outcome.maxRssKB === null ? null : outcome.maxRssKB / 1024;
  }
  rmSync(dir, { recursive: true, force: true });
  if (profileTo !== null && existsSync(profileTo)) {
    const file = readdirSync(profileTo).find((f) => f.endsWith(".cpuprofile"));
    if (file !== undefined) {
      const top = topSelfTime(join(profileTo, file), 10);
      result.details.profile = join(profileTo, file);
      result.details.topSelfTime = top.map((t) => `${(t.share * 100).toFixed(1)}% ${t.name}`);
    }
  }
  return result;
}

/** Machine and runtime facts the workloads ask a report to state. */
export function environment(): Record<string, string | number | boolean> {
  const cpu = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${arch()}`,
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    threads: "1, except the W3 row marked 2 threads (setGemmThreads(2)); TF.js wasm without threads",
    blas: "none (chainrule: its own kernels; TF.js: XNNPACK in wasm)",
    // Other work on the machine skews timings; the load average says whether there was any.
    loadAverageAtStart: loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
  };
}

/** Run the selected cases one after the other (never two at once: they would share the cores). */
export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const cases = selectCases(options);
  const suite: SuiteResult = {
    startedAt: new Date().toISOString(),
    quick: options.quick,
    environment: environment(),
    cases: [],
  };
  // Write the derived MNIST bytes here, once, so that no case's peak RSS includes the JSON parse.
  if (options.isolate && cases.some((c) => ["W2", "W3", "W6"].includes(c.workload))) prepareMnistCache();
  for (const [i, spec] of cases.entries()) {
    options.log(`[${i + 1}/${cases.length}] ${spec.id}`);
    const load = loadavg()[0]!;
    const runOptions = { quick: options.quick, samples: options.samples };
    const result = options.isolate
      ? await runCaseInChild(spec, runOptions, options.profileDir ?? null)
      : await runCaseHere(spec, { ...runOptions, log: options.log });
    if (!options.isolate) result.peakRssMB = process.resourceUsage().maxRSS / 1024;
    result.details.loadAverage1mAtStart = Number(load.toFixed(2));
    const tfjsBackend = result.details.backend as Record<string, string | boolean> | undefined;
    if (tfjsBackend !== undefined) Object.assign(suite.environment, tfjsBackend);
    suite.cases.push(result);
    const verdict = result.error ?? (result.checks.every((c) => c.ok) ? "checks ok" : "CHECK FAILED");
    options.log(`    ${verdict}, ${result.wallS.toFixed(1)} s`);
  }
  return suite;
}
