/**
 * The sharper checking: kinks listed even where the rule took the midpoint (abs at 0), forward
 * mode checked against finite differences, jvp∘vjp second derivatives, property failures that
 * print the whole report, and gradcheckModule's blame under each failing parameter.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { customOp, gradcheck, gradcheckModule, gradgradcheck, type Tensor, tensor } from "../src/index.js";
import { checkGradients } from "../src/testing/index.js";

// y = 2x, with a deliberately wrong derivative rule (3 instead of 2) and a wrong forward-mode rule
const broken = customOp({
  name: "broken",
  forward: (x) => x.mul(2),
  backward: (g) => [g.mul(3)],
  jvp: ([t]) => (t as Tensor).mul(3),
});
// y = 2x with a right reverse rule and a wrong forward-mode rule
const wrongJvp = customOp({
  name: "wrongJvp",
  forward: (x) => x.mul(2),
  backward: (g) => [g.mul(2)],
  jvp: ([t]) => (t as Tensor).mul(5),
});

describe("kinks", () => {
  test("abs at 0 is listed as a kink like relu at 0; smooth steep curves are not", () => {
    const abs = gradcheck((x: Tensor) => x.abs().sum(), [tensor([0, 1, -2])]);
    expect(abs.ok).toBe(true);
    expect(abs.kinks.map((k) => k.index)).toEqual([[0]]);
    expect(abs.kinks[0]?.kink?.left).toBeCloseTo(-1, 6);
    expect(abs.kinks[0]?.kink?.right).toBeCloseTo(1, 6);
    const relu = gradcheck((x: Tensor) => x.relu().sum(), [tensor([0, 1, -1])]);
    expect(relu.kinks).toHaveLength(1);
    const steep = gradcheck((x: Tensor) => x.mul(x).mul(40).sum(), [tensor([0, 0.5])]);
    expect(steep.ok).toBe(true);
    expect(steep.kinks).toHaveLength(0);
  });
});

describe("forward mode", () => {
  test('mode "forward" checks jvp against finite differences', () => {
    const f = (a: Tensor, b: Tensor) => a.matmul(b).tanh().mul(a.sum());
    const ok = gradcheck(
      f,
      [
        tensor([
          [0.3, -0.2],
          [0.5, 0.1],
        ]),
        tensor([[1.2], [-0.7]]),
      ],
      { mode: "forward" },
    );
    expect(ok.ok).toBe(true);
    expect(ok.mode).toBe("forward");
    expect(ok.checked).toBe(2 * 6);
    const bad = gradcheck((x: Tensor) => wrongJvp(x), [tensor([1, 2])], { mode: "forward" });
    expect(bad.ok).toBe(false);
    expect(gradcheck((x: Tensor) => wrongJvp(x), [tensor([1, 2])]).ok).toBe(true); // reverse mode is right
  });
  test("gradgradcheck in forward mode checks jvp∘vjp (forward over reverse)", () => {
    const f = (x: Tensor) => x.exp().mul(x.sigmoid()).sum(-1);
    const r = gradgradcheck(f, [tensor([[0.2, -1.1, 0.7]])], { mode: "forward" });
    expect(r.ok).toBe(true);
    expect(r.mode).toBe("forward");
  });
});

describe("reports where they are read", () => {
  test("a failing property puts the whole report, blame and the user's line in the error message", () => {
    let message = "";
    try {
      checkGradients((x: Tensor) => broken(x).sum(), fc.constant([tensor([1, 2])] as [Tensor]), { numRuns: 1 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/gradcheck FAILED/);
    expect(message).toMatch(/blame: the derivative rule of 'broken'/);
    expect(message).toMatch(/created at: .*gradcheck-sharper\.test\.ts/);
  });
  test("gradcheckModule names the guilty operation under each failing parameter", () => {
    const w = tensor([0.5, -0.3], { requiresGrad: true });
    const b = tensor([0.1], { requiresGrad: true });
    const model = { namedParameters: () => [["w", w] as const, ["b", b] as const] };
    const report = gradcheckModule(model, () => broken(w).sum().add(b.mul(b).sum()));
    expect(report.ok).toBe(false);
    const text = report.toString();
    expect(text).toMatch(/FAIL w \[2\][^\n]*\n\s+blame: the derivative rule of 'broken'/);
    expect(text).toMatch(/ok {3}b \[1\]/);
    expect(report.parameters[0]?.report.blame?.op).toBe("broken");
    expect(report.parameters[1]?.report.blame).toBeUndefined();
  });
});
