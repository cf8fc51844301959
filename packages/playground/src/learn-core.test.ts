import { describe, expect, test } from "vitest";
import { DATASETS, makeDataset } from "./datasets.js";
import { configProblem, GRID, type LearnConfig, Learner } from "./learn-core.js";

const xor: LearnConfig = {
  dataset: "xor",
  hidden: [8, 8],
  activation: "tanh",
  optimizer: "adam",
  lr: 0.03,
  noise: 0,
  seed: 1,
};

describe("2-D data sets", () => {
  test.each(DATASETS)("%s: 200 points in the square, both labels", (name) => {
    const { x, y } = makeDataset(name, 200, 0.05, 3);
    expect(x.length).toBe(400);
    expect(Math.max(...x.map(Math.abs))).toBeLessThan(1.3);
    const ones = y.reduce((s, v) => s + v, 0);
    expect(ones).toBeGreaterThan(40);
    expect(ones).toBeLessThan(160);
  });
});

describe("Learner", () => {
  test("XOR trains to a loss below 0.01", () => {
    const learner = new Learner(xor);
    let snap = learner.steps(1);
    while (snap.loss >= 0.01 && snap.step < 1500) snap = learner.steps(50);
    expect(snap.loss).toBeLessThan(0.01);
    expect(snap.grid.length).toBe(GRID * GRID);
    expect(snap.health.map((h) => h.name)).toEqual(["hidden 1", "hidden 2", "output"]);
    console.log(`XOR in Node: loss ${snap.loss.toExponential(2)} after ${snap.step} steps`);
  });

  test("a deep sigmoid network reports saturated units and small first-layer gradients", () => {
    const deep = new Learner({ ...xor, hidden: [8, 8, 8, 8, 8, 8], activation: "sigmoid", optimizer: "sgd", lr: 0.5 });
    const snap = deep.steps(20);
    const first = snap.health[0]!.meanAbsGrad;
    const last = snap.health[snap.health.length - 1]!.meanAbsGrad;
    expect(first).toBeLessThan(last / 10); // every sigmoid layer multiplies the gradient by σ' ≤ ¼
    expect(snap.health[0]!.saturated).not.toBeNull();
  });

  test.each([
    [{ lr: 0 }, "learning rate must be a number above 0, got 0"],
    [{ lr: Number.NaN }, "learning rate must be a number above 0, got NaN"],
    [{ hidden: [8, 0] }, "hidden layer 2 must have a whole number of units from 1 to 64, got 0"],
    [{ hidden: [2.5] }, "hidden layer 1 must have a whole number of units"],
  ])("bad input %j is described, not run", (change, message) => {
    const config = { ...xor, ...change } as LearnConfig;
    expect(configProblem(config)).toContain(message);
    expect(() => new Learner(config)).toThrow(message);
  });
});
