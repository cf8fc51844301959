/**
 * @file Where the time goes: the top self-time functions of a V8 CPU profile (the .cpuprofile
 * that `node --cpu-prof` writes), for `--profile`. A profile covers the whole child process,
 * untimed parts (data loading, evaluation) included. Imports nothing.
 */

import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** "functionName (file:line)", or V8's "(garbage collector)", "(program)", "(idle)". */
  name: string;
  ms: number;
  share: number;
}

/** Self time per function (summed over the call sites of each), largest first. */
export function topSelfTime(file: string, count = 12): SelfTime[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const nameOf = new Map<number, string>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url === "" ? "" : ` (${basename(url)}:${lineNumber + 1})`;
    nameOf.set(n.id, `${functionName === "" ? "(anonymous)" : functionName}${where}`);
  }
  const micros = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const name = nameOf.get(id) ?? "(unknown)";
    micros.set(name, (micros.get(name) ?? 0) + dt);
    total += dt;
  });
  return [...micros.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
}
