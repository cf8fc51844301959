import { expect, test } from "vitest";
import { DEFAULT_SEED, defaultRandom, manualSeed, Random } from "./random.js";

test("mulberry32 reproduces the reference stream", () => {
  const r = new Random(42);
  expect([r.next(), r.next(), r.next()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
});

test("Fisher–Yates permutation matches the workloads' reference", () => {
  expect(Array.from(new Random(7).permutation(10))).toEqual([6, 5, 8, 1, 2, 3, 4, 7, 9, 0]);
});

test("gaussian12 matches the workloads' reference", () => {
  const r = new Random(2);
  expect([r.gaussian12(), r.gaussian12(), r.gaussian12()]).toEqual([
    0.12810107809491456, -0.6713707325980067, -1.2016136860474944,
  ]);
});

test("normal draws have mean ≈ 0 and variance ≈ 1", () => {
  const r = new Random(1);
  let s = 0;
  let s2 = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    s2 += x * x;
  }
  expect(Math.abs(s / n)).toBeLessThan(0.03);
  expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
});

test("bad seeds are refused", () => {
  expect(() => new Random(1.5)).toThrow(/Random: seed must be an integer, got 1.5/);
});

test("manualSeed restarts the default generator, as new Random(seed) would start", () => {
  const r = manualSeed(123);
  expect(r).toBe(defaultRandom());
  const first = [r.next(), r.next(), r.normal()];
  const fresh = new Random(123);
  expect(first).toEqual([fresh.next(), fresh.next(), fresh.normal()]);
  manualSeed(123);
  expect([defaultRandom().next(), defaultRandom().next(), defaultRandom().normal()]).toEqual(first);
  expect(new Random(9).manualSeed(123).next()).toBe(first[0]);
  expect(() => manualSeed(1.5)).toThrow(/manualSeed: seed must be an integer, got 1.5/);
  expect(DEFAULT_SEED).toBe(0);
});
