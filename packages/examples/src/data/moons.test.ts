/**
 * @file The canonical moons are 100 balanced points, and the generator is seeded, balanced and
 * reproduces the canonical file from its two seeds.
 */

import { Random } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { loadMoons, makeMoons } from "./moons.js";

describe("loadMoons", () => {
  test("100 points (x, y), labels ±1, 50 of each", () => {
    const { X, y } = loadMoons();
    expect(X).toHaveLength(100);
    expect(y).toHaveLength(100);
    expect(X.every((point) => point.length === 2 && point.every(Number.isFinite))).toBe(true);
    expect(y.filter((label) => label === 1)).toHaveLength(50);
    expect(y.filter((label) => label === -1)).toHaveLength(50);
  });

  test("the file is makeMoons with the published seeds (1337 noise, 1338 shuffle), bit for bit", () => {
    expect(makeMoons(100, 0.1, new Random(1337), new Random(1338))).toEqual(loadMoons());
  });
});

describe("makeMoons", () => {
  test("the same seed gives the same points; another seed does not", () => {
    const a = makeMoons(60, 0.2, new Random(5));
    expect(makeMoons(60, 0.2, new Random(5))).toEqual(a);
    expect(makeMoons(60, 0.2, new Random(6))).not.toEqual(a);
  });

  test("an odd n puts the extra point on the inner moon", () => {
    const { X, y } = makeMoons(7, 0, new Random(1));
    expect(X).toHaveLength(7);
    expect(y.filter((label) => label === -1)).toHaveLength(3);
    expect(y.filter((label) => label === 1)).toHaveLength(4);
  });

  test("without noise every point lies on its circle", () => {
    const { X, y } = makeMoons(20, 0, new Random(3));
    X.forEach(([a, b], i) => {
      // outer: centre (0, 0); inner: centre (1, ½); radius 1
      const [cx, cy] = y[i] === -1 ? [0, 0] : [1, 0.5];
      expect(Math.hypot(a! - cx, b! - cy)).toBeCloseTo(1, 12);
    });
  });

  test("rejects n < 2", () => {
    expect(() => makeMoons(1, 0.1, new Random(1))).toThrow(/makeMoons/);
  });
});
