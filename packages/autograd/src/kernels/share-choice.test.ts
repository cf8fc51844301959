/**
 * @file Tests of ShareChoice on simulated products: each decision is followed by the time the
 * chosen way "took" (given by the test), so the choice's behaviour is checked without a clock.
 */
import { describe, expect, test } from "vitest";
import { ShareChoice } from "./share-choice.js";

/** Run `count` products of `work` multiply-adds that take `ms(shared)`; returns how many were shared and the time spent. */
function simulate(choice: ShareChoice, work: number, count: number, ms: (shared: boolean) => number) {
  let shared = 0;
  let spent = 0;
  for (let i = 0; i < count; i++) {
    const s = choice.share(work);
    const t = ms(s);
    choice.record(work, s, t);
    if (s) shared++;
    spent += t;
  }
  return { shared, spent };
}

describe("ShareChoice", () => {
  test("shares while sharing is faster, trying the other way for at most a few per cent of the time", () => {
    const choice = new ShareChoice();
    const { shared, spent } = simulate(choice, 2 ** 27, 2000, (s) => (s ? 1 : 1.8));
    expect(shared).toBeGreaterThan(1900);
    expect(spent).toBeLessThan(2000 * 1.04);
  });

  test("computes alone when sharing is slower (a busy core), losing at most a few per cent", () => {
    const choice = new ShareChoice();
    // a shared product that needs a sleeping worker costs far more than its work
    const { shared, spent } = simulate(choice, 2 ** 22, 5000, (s) => (s ? 3 : 0.1));
    expect(shared).toBeLessThan(100);
    expect(spent).toBeLessThan(5000 * 0.1 * 1.08);
  });

  test("follows a change of load: the other core taken, then freed", () => {
    const choice = new ShareChoice();
    simulate(choice, 2 ** 24, 500, (s) => (s ? 1 : 1.8));
    const busy = simulate(choice, 2 ** 24, 500, (s) => (s ? 3 : 1.8));
    expect(busy.shared).toBeLessThan(60);
    const last = simulate(choice, 2 ** 24, 100, (s) => (s ? 3 : 1.8));
    expect(last.shared).toBeLessThan(5);
    simulate(choice, 2 ** 24, 500, (s) => (s ? 1 : 1.8));
    const freed = simulate(choice, 2 ** 24, 100, (s) => (s ? 1 : 1.8));
    expect(freed.shared).toBeGreaterThan(95);
  });

  test("decides each size apart (sizes within a factor of 2 together)", () => {
    const choice = new ShareChoice();
    simulate(choice, 2 ** 21, 1000, (s) => (s ? 2 : 1)); // small: alone is faster
    simulate(choice, 2 ** 28, 1000, (s) => (s ? 1 : 2)); // large: sharing is faster
    expect(simulate(choice, 2 ** 21 + 5, 50, (s) => (s ? 2 : 1)).shared).toBeLessThan(3);
    expect(simulate(choice, 2 ** 28 - 5, 50, (s) => (s ? 1 : 2)).shared).toBeGreaterThan(47);
  });
});
