/**
 * @file Cross-cutting tests of the nn package: a seeded XOR run converges, deterministically, and
 * survives a save → load; and the gradients autograd gives an MLP under the chapter's quadratic
 * cost are Nielsen's four backpropagation equations, evaluated by hand. Imports the public API
 * of @chainrule/nn and @chainrule/autograd.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Random, tensor } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { accuracy, loadModel, MLP, mseLoss, quadraticCost, SGD, saveModel } from "../src/index.js";

describe("XOR with MLP([2, 4, 1]), sigmoid, MSE and SGD", () => {
  const X = tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]);
  const Y = tensor([[0], [1], [1], [0]]);

  function train(seed: number, steps: number) {
    const model = new MLP([2, 4, 1], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(seed) });
    const opt = new SGD(model.parameters(), { lr: 5 });
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      opt.zeroGrad();
      const loss = mseLoss(model.forward(X), Y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
    return { model, losses };
  }

  test("reaches loss < 0.01 within 1000 steps from seed 0, and classifies all four points", () => {
    const { model, losses } = train(0, 1000);
    const final = mseLoss(model.forward(X), Y).item();
    expect(final).toBeLessThan(0.01);
    expect(losses.findIndex((l) => l < 0.01)).toBeGreaterThan(0); // it had to learn: not there at step 0
    expect(losses[0]).toBeGreaterThan(0.2);
    expect(accuracy(model.forward(X), [0, 1, 1, 0])).toBe(1);
  });

  test("the same seed gives a bit-identical run; another seed a different one", () => {
    const a = train(0, 200);
    const b = train(0, 200);
    expect(b.losses).toEqual(a.losses);
    b.model.parameters().forEach((p, i) => {
      expect(p.data).toEqual(a.model.parameters()[i]!.data);
    });
    expect(train(1, 200).losses).not.toEqual(a.losses);
  });

  test("the trained model saved and loaded predicts the same, bit for bit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-xor-"));
    try {
      const { model } = train(0, 300);
      await saveModel(join(dir, "xor.safetensors"), model);
      const fresh = new MLP([2, 4, 1], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(99) });
      await loadModel(join(dir, "xor.safetensors"), fresh);
      expect(Array.from(fresh.forward(X).data)).toEqual(Array.from(model.forward(X).data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("autograd on an MLP is Nielsen's four equations", () => {
  test("∂C/∂Wˡ and ∂C/∂bˡ for C = (1/m) Σₓ ½‖a²(x) − y(x)‖², two sigmoid layers, m = 3", () => {
    const sizes = [4, 3, 2];
    const model = new MLP(sizes, {
      activation: "sigmoid",
      outputActivation: "sigmoid",
      init: "gaussian12",
      random: new Random(2),
    });
    const r = new Random(5);
    const xs = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => r.uniform(-1, 1)));
    const ys = [
      [1, 0],
      [0, 1],
      [1, 0],
    ];
    quadraticCost(model.forward(tensor(xs)), tensor(ys)).backward();

    // By hand: W[j][k] is the weight from neuron k of the previous layer into neuron j.
    const [W1, b1, W2, b2] = model.parameters().map((p) => Array.from(p.data)) as number[][];
    const W = (flat: number[], cols: number) => (j: number, k: number) => flat[j * cols + k]!;
    const w1 = W(W1!, 4);
    const w2 = W(W2!, 3);
    const sigma = (z: number) => 1 / (1 + Math.exp(-z));
    const m = xs.length;
    const gW1 = new Array(12).fill(0);
    const gb1 = new Array(3).fill(0);
    const gW2 = new Array(6).fill(0);
    const gb2 = new Array(2).fill(0);
    xs.forEach((a0, x) => {
      const z1 = [0, 1, 2].map((j) => a0.reduce((s, a, k) => s + w1(j, k) * a, 0) + b1![j]!);
      const a1 = z1.map(sigma);
      const z2 = [0, 1].map((j) => a1.reduce((s, a, k) => s + w2(j, k) * a, 0) + b2![j]!);
      const a2 = z2.map(sigma);
      // (BP1) δ² = (a² − y) ⊙ σ'(z²)
      const d2 = a2.map((a, j) => (a - ys[x]![j]!) * a * (1 - a));
      // (BP2) δ¹ = ((W²)ᵀ δ²) ⊙ σ'(z¹)
      const d1 = a1.map((a, k) => d2.reduce((s, d, j) => s + w2(j, k) * d, 0) * a * (1 - a));
      // (BP3) ∂C/∂b = δ,  (BP4) ∂C/∂W = δ (aˡ⁻¹)ᵀ, averaged over the batch
      d2.forEach((d, j) => {
        gb2[j] += d / m;
        a1.forEach((a, k) => {
          gW2[j * 3 + k] += (d * a) / m;
        });
      });
      d1.forEach((d, j) => {
        gb1[j] += d / m;
        a0.forEach((a, k) => {
          gW1[j * 4 + k] += (d * a) / m;
        });
      });
    });
    const grads = model.parameters().map((p) => Array.from(p.grad!.data));
    [gW1, gb1, gW2, gb2].forEach((want, i) => {
      want.forEach((v: number, k: number) => {
        expect(grads[i]![k]).toBeCloseTo(v, 13);
      });
    });
  });
});
