/**
 * @file The command line: `node dist/run.js [W1 … W8] [--quick] [--json file] [--samples n]
 * [--engine chainrule|tfjs|pytorch] [--rounds n] [--in-process]`. Runs the chosen workloads (all
 * by default) for chainrule, TF.js and (when torch is importable) PyTorch, each case in its own
 * process, prints the table to stdout, writes
 * the JSON, and exits 1 if any case failed a check or crashed. Imports cases.ts, result.ts,
 * suite.ts, table.ts.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { WORKLOADS } from "./cases.js";
import type { Engine, WorkloadId } from "./result.js";
import { runSuite, type SuiteOptions } from "./suite.js";
import { allPassed, renderReport } from "./table.js";

export interface CliOptions extends Omit<SuiteOptions, "log"> {
  json: string;
}

const USAGE = `usage: run.js [W1 … W8] [--quick] [--json file] [--samples n] [--engine chainrule|tfjs|pytorch]
              [--rounds n] [--in-process] [--profile dir]
  no workload named: all of them; --json defaults to .bench-results/latest.json;
  --rounds: rounds of the cases with a PyTorch peer, alternating with it (default 3; 1: once each);
  --profile writes each case's V8 CPU profile under dir and lists its top self-time functions`;

const ENGINES: readonly Engine[] = ["chainrule", "tfjs", "pytorch"];

/** Parse the arguments; throws with the usage text on anything unknown. */
export function parseArgs(argv: readonly string[]): CliOptions {
  const workloads: WorkloadId[] = [];
  const engines: Engine[] = [];
  let quick = false;
  let isolate = true;
  let samples: number | null = null;
  let json = ".bench-results/latest.json";
  let profileDir: string | null = null;
  let rounds = 3;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    const w = arg.toUpperCase() as WorkloadId;
    if (WORKLOADS.includes(w)) workloads.push(w);
    else if (arg === "--quick") quick = true;
    else if (arg === "--in-process") isolate = false;
    else if (arg === "--json") json = value();
    else if (arg === "--profile") profileDir = resolve(value());
    else if (arg === "--samples") {
      samples = Number(value());
      if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples needs a positive integer\n${USAGE}`);
    } else if (arg === "--rounds") {
      rounds = Number(value());
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds needs a positive integer\n${USAGE}`);
    } else if (arg === "--engine") {
      const e = value() as Engine;
      if (!ENGINES.includes(e)) throw new Error(`--engine must be chainrule, tfjs or pytorch\n${USAGE}`);
      engines.push(e);
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  return {
    workloads: workloads.length > 0 ? workloads : WORKLOADS,
    engines: engines.length > 0 ? engines : ENGINES,
    quick,
    samples,
    isolate,
    json,
    profileDir,
    rounds,
  };
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const suite = await runSuite({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${renderReport(suite)}\n`);
  const file = resolve(options.json);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(suite, null, 2)}\n`);
  process.stderr.write(`results written to ${file}\n`);
  process.exit(allPassed(suite) ? 0 : 1);
}

// Run only as a script, so the test can import parseArgs without starting a suite.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
