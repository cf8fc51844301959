/**
 * @file The worker threads of setGemmThreads failing: a worker that dies, or one that holds a band
 * and never finishes it, must not hang a product. Each scenario runs in a child process
 * (test/thread-failure.mjs, on the built code) with a time limit, so that a hang fails the test
 * instead of blocking the runner.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

interface Report {
  scenario: string;
  threadsBefore: number;
  threadsWhileUnseen?: number;
  sameBits: boolean;
  ms: number;
  sameBitsWhileStalled?: boolean;
  reluWhileStalled?: boolean;
  sameBitsReleased?: boolean;
  threadsReleased?: number;
  msAgain?: number;
  sameBitsAfter: boolean;
  threadsAfter: number;
  warnings: string[];
  restarted: number;
  sameBitsRestarted: boolean;
}

function run(scenario: "killed" | "stalled"): Report {
  const script = fileURLToPath(new URL("./thread-failure.mjs", import.meta.url));
  const dist = fileURLToPath(new URL("../dist/kernels/matmul.js", import.meta.url));
  if (!existsSync(dist)) throw new Error("build the package first (pnpm build): the scenarios run the built code");
  // a hanging product is killed after 30 s, and execFileSync then throws: the test fails
  const out = execFileSync(process.execPath, [script, scenario], { encoding: "utf8", timeout: 30_000 });
  return JSON.parse(out) as Report;
}

describe("a failing worker thread never hangs a product", () => {
  test("a worker that died unseen: the product finishes with one thread's bits, then the pool retires with a warning", () => {
    const r = run("killed");
    expect(r.threadsBefore).toBe(2);
    expect(r.threadsWhileUnseen).toBe(2); // the pool still counted it alive when the product started
    expect(r.sameBits).toBe(true);
    expect(r.sameBitsAfter).toBe(true);
    expect(r.threadsAfter).toBe(1);
    expect(r.warnings).toEqual([expect.stringMatching(/worker thread of setGemmThreads exited.*one thread/)]);
    expect(r.restarted).toBe(2);
    expect(r.sameBitsRestarted).toBe(true);
  });

  test("a worker that holds a band and stalls: this thread takes the band over, same bits, no long wait", () => {
    const r = run("stalled");
    expect(r.sameBits).toBe(true);
    // taken over after 1.5 band-times, not after the second that retires the pool (n = 512: ~10 ms)
    expect(r.ms).toBeLessThan(900);
    // while the worker still holds its band, products and ReLU use memory above what it may write
    expect(r.sameBitsWhileStalled).toBe(true);
    expect(r.reluWhileStalled).toBe(true);
    // released, it computes its old band late, concurrently with the next product, which stays right
    expect(r.sameBitsReleased).toBe(true);
    expect(r.threadsReleased).toBe(2);
    // stalled for over a second: the pool is retired with a warning at the next product
    expect(r.msAgain).toBeLessThan(900);
    expect(r.sameBitsAfter).toBe(true);
    expect(r.threadsAfter).toBe(1);
    expect(r.warnings).toEqual([expect.stringMatching(/worker thread of setGemmThreads stopped answering/)]);
    expect(r.restarted).toBe(2);
    expect(r.sameBitsRestarted).toBe(true);
  });
});
