/**
 * @file PyTorch as a peer measured in the same run: the cases W2–W5 of pytorch.py (beside this
 * file), each a Python process of its own, on one thread. They run only when a `python3` that can
 * import torch is found (`findTorch`); on a machine without it the suite says so and runs the
 * rest. Imports case.ts, result.ts, workloads/mnist.ts.
 *
 * One thread, as WORKLOADS.md's peers were measured: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1
 * and torch.set_num_threads(1). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the
 * peer's environment only (they force an OpenBLAS kernel or cache size, which would not be the
 * library's own choice for this CPU); the BLAS libraries mapped into the process are recorded.
 */

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CaseSpec, ExternalCommand, RunOptions } from "../case.js";
import type { CaseOutput, Dtype, WorkloadId } from "../result.js";
import { mnistCacheDir, prepareMnistCache } from "../workloads/mnist.js";

/** pytorch.py stays in src/ (tsc copies no Python): the same path from src/peers/ and dist/peers/. */
const SCRIPT = fileURLToPath(new URL("../../src/peers/pytorch.py", import.meta.url));

/**
 * Where to look for a Python with torch: $CHAINRULE_BENCH_PYTHON alone when it is set, else
 * python3 on the PATH, then Debian's (which a version manager's python3 may hide).
 */
function candidates(): string[] {
  const own = process.env.CHAINRULE_BENCH_PYTHON;
  return own ? [own] : ["python3", "/usr/bin/python3"];
}

const probed = new Map<string, { python: string; version: string } | null>();

/** The first candidate Python that imports torch, with torch's version; null when there is none. */
export function findTorch(): { python: string; version: string } | null {
  const list = candidates();
  const key = list.join("\n");
  if (probed.has(key)) return probed.get(key) ?? null;
  let found: { python: string; version: string } | null = null;
  for (const python of list) {
    const probe = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    if (probe.status === 0) {
      found = { python, version: probe.stdout.trim() };
      break;
    }
  }
  probed.set(key, found);
  return found;
}

/** The environment of a peer process: one thread, and no forced OpenBLAS core type or cache size. */
export function peerEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENBLAS_NUM_THREADS: "1",
    OMP_NUM_THREADS: "1",
    MKL_NUM_THREADS: "1",
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** The command that runs one case of pytorch.py; null without torch. */
function command(name: string, options: Pick<RunOptions, "quick" | "samples">): ExternalCommand | null {
  const torch = findTorch();
  if (torch === null) return null;
  prepareMnistCache(); // the byte files the script reads (written once)
  const args = JSON.stringify({ quick: options.quick, samples: options.samples, data: mnistCacheDir() });
  return { command: torch.python, args: [SCRIPT, name, args], env: peerEnvironment() };
}

/** Run a case of pytorch.py here and now (the in-process mode of the suite): its output, or why not. */
function runHere(name: string) {
  return async (options: RunOptions): Promise<CaseOutput> => {
    const cmd = command(name, options);
    if (cmd === null) throw new Error("no python3 that can import torch");
    const out = spawnSync(cmd.command, cmd.args, { env: cmd.env, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    for (const line of out.stderr.split("\n").filter((l) => l.length > 0)) options.log(line);
    if (out.status !== 0) throw new Error(`pytorch.py ${name} failed: ${out.stderr.trim().split("\n").pop()}`);
    return JSON.parse(out.stdout) as CaseOutput;
  };
}

function spec(workload: WorkloadId, dtype: Dtype, name: string, variant: string, id = name): CaseSpec {
  return {
    id: `${workload}/pytorch/${id.split("/")[1]}`,
    workload,
    engine: "pytorch",
    variant,
    dtype,
    run: runHere(name),
    external: (options) => command(name, options),
  };
}

export const pytorch: CaseSpec[] = [
  spec("W2", "float64", "W2/float64", "torch tensors + autograd"),
  spec("W2", "float32", "W2/float32", "torch tensors + autograd"),
  spec("W3", "float32", "W3/float32", "torch tensors + autograd"),
  spec("W4", "float32", "W4/float32", "torch.matmul + autograd"),
  spec("W4", "float64", "W4/float64", "torch.matmul + autograd"),
  spec("W5", "float64", "W5/N=1e5", "0-d torch tensors, N=1e5"),
  spec("W5", "float64", "W5/N=1e6", "0-d torch tensors, N=1e6"),
];
