/**
 * @file Running cases: in this process, or each in a child process of its own so that its peak
 * memory is its own (the max RSS that /usr/bin/time reports, or the child's
 * process.resourceUsage() when /usr/bin/time is missing), then summarising samples into results
 * that refuse to carry a time when a reference check failed. A chainrule case with a PyTorch peer
 * runs in alternating rounds with it (and with its other chainrule variants), so that both see
 * the same machine; the rounds' samples are pooled. Imports case.ts, cases.ts, peers/pytorch.ts,
 * profile.ts, result.ts, stats.ts, workloads/mnist.ts.
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { arch, cpus, loadavg, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CaseSpec, ExternalCommand, RunOptions } from "./case.js";
import { pairKey, selectCases } from "./cases.js";
import { findTorch } from "./peers/pytorch.js";
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
  /** Rounds of the cases that have a PyTorch peer (alternating order); 1 runs each case once. */
  rounds?: number;
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
export function runMeasured(
  nodeArgs: readonly string[],
  echo = true,
  external: ExternalCommand | null = null,
): Promise<ProcessOutcome & { stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-bench-"));
  const timeFile = join(dir, "time.txt");
  const useTime = existsSync(TIME);
  const [program, programArgs] = external === null ? [process.execPath, nodeArgs] : [external.command, external.args];
  const [command, args] = useTime
    ? [TIME, ["-f", "%M", "-o", timeFile, program, ...programArgs]]
    : [program, [...programArgs]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...(external === null ? {} : { env: external.env }),
    });
    let tail = "";
    let stdout = "";
    const keep = (chunk: Buffer) => {
      if (echo) process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-4096);
    };
    // an external case prints its result on stdout: keep it whole, and out of the echo
    child.stdout.on("data", external === null ? keep : (chunk: Buffer) => (stdout += chunk.toString()));
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
      resolve({ code, signal, outputTail: tail, maxRssKB, stdout });
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
  const external = spec.external?.(options) ?? null;
  if (external !== null) {
    // another runtime: its process prints the CaseOutput; its peak RSS is its own
    const outcome = await runMeasured([], true, external);
    let result: CaseResult;
    try {
      result = toResult(spec, JSON.parse(outcome.stdout) as CaseOutput, null, seconds() - t0);
    } catch {
      result = toResult(spec, null, crashReason(outcome), seconds() - t0);
    }
    result.rssSource = outcome.maxRssKB === null ? "in-process" : TIME;
    result.peakRssMB = outcome.maxRssKB === null ? null : outcome.maxRssKB / 1024;
    rmSync(dir, { recursive: true, force: true });
    return result;
  }
  // --expose-gc lets W5 release the previous graph between reps, outside its timed region.
  const outcome = await runMeasured([
    "--expose-gc",
    ...(spec.nodeFlags ?? []),
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
    threads:
      "1, except the W3 row marked 2 threads (setGemmThreads(2)); TF.js wasm without threads; PyTorch 1 (OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1, torch.set_num_threads(1))",
    blas: "none (chainrule: its own kernels; TF.js: XNNPACK in wasm); PyTorch: see pytorchBlas",
    // Other work on the machine skews timings; the load average says whether there was any.
    loadAverageAtStart: loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
  };
}

/**
 * The order of the runs: each case once, in the table's order, except that the cases sharing a
 * pairKey with a PyTorch case run `rounds` times, alternating (round r in the order of the list,
 * round r + 1 reversed), at the place of the group's first case.
 */
export function schedule(cases: readonly CaseSpec[], rounds: number): Array<{ spec: CaseSpec; round: number }> {
  const paired = new Set(
    cases
      .filter((c) => c.engine === "pytorch")
      .map((c) => pairKey(c))
      .filter((k) => k !== null),
  );
  const out: Array<{ spec: CaseSpec; round: number }> = [];
  const done = new Set<string>();
  for (const c of cases) {
    if (done.has(c.id)) continue;
    const key = pairKey(c);
    if (rounds <= 1 || key === null || !paired.has(key)) {
      out.push({ spec: c, round: 0 });
      continue;
    }
    const group = cases.filter((g) => pairKey(g) === key);
    for (const g of group) done.add(g.id);
    for (let r = 0; r < rounds; r++)
      for (const g of r % 2 === 0 ? group : [...group].reverse()) out.push({ spec: g, round: r });
  }
  return out;
}

/** One record from the rounds of a case: samples pooled, every round's checks required, the peak RSS the largest. */
export function mergeRounds(runs: readonly CaseResult[]): CaseResult {
  const [first] = runs;
  if (first === undefined) throw new Error("mergeRounds: no runs");
  if (runs.length === 1) return first;
  const last = runs[runs.length - 1]!;
  const checks = last.checks.map((c) => ({
    ...c,
    ok: runs.every((r) => r.checks.some((d) => d.name === c.name && d.ok)),
  }));
  const trusted = runs.every((r) => r.error === null) && checks.every((c) => c.ok);
  const metrics = last.metrics.map((m) => {
    const samples = runs.flatMap((r) => r.metrics.find((x) => x.key === m.key)?.samples ?? []);
    return { ...m, samples, summary: trusted ? summarize(samples) : null };
  });
  const peaks = runs.map((r) => r.peakRssMB).filter((p): p is number => p !== null);
  return {
    ...last,
    metrics,
    checks,
    details: {
      ...last.details,
      rounds: runs.length,
      roundMedians: Object.fromEntries(
        last.metrics.map((m) => [
          m.key,
          runs.map((r) => r.metrics.find((x) => x.key === m.key)?.summary?.median ?? null),
        ]),
      ),
    },
    peakRssMB: peaks.length > 0 ? Math.max(...peaks) : null,
    wallS: runs.reduce((s, r) => s + r.wallS, 0),
    error: runs.find((r) => r.error !== null)?.error ?? null,
  };
}

/** Run the selected cases one after the other (never two at once: they would share the cores). */
export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const selected = selectCases(options);
  const suite: SuiteResult = {
    startedAt: new Date().toISOString(),
    quick: options.quick,
    environment: environment(),
    cases: [],
  };
  // PyTorch peers need a python3 that imports torch; without one the suite says so and runs the rest
  const wantsTorch = selected.some((c) => c.engine === "pytorch");
  const torch = wantsTorch ? findTorch() : null;
  if (wantsTorch) {
    suite.environment.pytorch =
      torch === null
        ? "not run: no python3 that can import torch (Debian: apt install python3-torch libopenblas0-pthread)"
        : `${torch.version} (${torch.python})`;
    if (torch === null) options.log(`PyTorch peers skipped: ${suite.environment.pytorch}`);
  }
  const cases = selected.filter((c) => c.engine !== "pytorch" || torch !== null);
  const rounds = torch === null ? 1 : Math.max(1, options.rounds ?? 3);
  // Write the derived MNIST bytes here, once, so that no case's peak RSS includes the JSON parse.
  if ((options.isolate || torch !== null) && cases.some((c) => ["W2", "W3", "W6", "W8"].includes(c.workload)))
    prepareMnistCache();
  const runs = schedule(cases, rounds);
  const results = new Map<string, CaseResult[]>();
  for (const [i, { spec, round }] of runs.entries()) {
    const inRounds = runs.some((r) => r.spec.id === spec.id && r.round > 0);
    options.log(`[${i + 1}/${runs.length}] ${spec.id}${inRounds ? ` (round ${round + 1} of ${rounds})` : ""}`);
    const load = loadavg()[0]!;
    // a PyTorch W5 run of 10⁶ ops takes seconds per rep: one rep per round when there are rounds
    const samples = options.samples ?? (inRounds && spec.engine === "pytorch" && spec.workload === "W5" ? 1 : null);
    const runOptions = { quick: options.quick, samples };
    const result = options.isolate
      ? await runCaseInChild(spec, runOptions, options.profileDir ?? null)
      : await runCaseHere(spec, { ...runOptions, log: options.log });
    if (!options.isolate) result.peakRssMB = process.resourceUsage().maxRSS / 1024;
    result.details.loadAverage1mAtStart = Number(load.toFixed(2));
    const backend = result.details.backend as Record<string, string | boolean | number> | undefined;
    if (backend !== undefined) Object.assign(suite.environment, backend);
    results.set(spec.id, [...(results.get(spec.id) ?? []), result]);
    const verdict = result.error ?? (result.checks.every((c) => c.ok) ? "checks ok" : "CHECK FAILED");
    options.log(`    ${verdict}, ${result.wallS.toFixed(1)} s`);
  }
  suite.cases = cases.map((c) => mergeRounds(results.get(c.id) ?? []));
  return suite;
}
