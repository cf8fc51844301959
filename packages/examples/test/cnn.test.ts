/**
 * The CNN example in its quick mode (one epoch on 1,000 digits, tested on 500): the loss falls,
 * the held-out accuracy beats a threshold far above chance, and the demo's pieces are printed
 * (the network's repr, the progress lines, gradient health, charts, the confusion matrix, wrong
 * digits). The full run (≥ 98% on 2,000) is measured and reported in the README, not run here.
 * Also `pnpm demo --model cnn`'s options.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLValidator } from "fast-xml-parser";
import { expect, test } from "vitest";
import { CNN_DEFAULTS, runCnn } from "../src/cnn-demo.js";
import { QUICK } from "../src/examples/cnn.js";
import { parseDemoArgs } from "../src/mnist-demo.js";
import type { ProgressStream } from "../src/ui/progress.js";
import { runExample } from "./run-example.js";

test("cnn: the quick run learns (loss falls, accuracy ≥ 75%) and prints the demo's pieces", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-cnn-"));
  try {
    const out = join(dir, "cnn.svg");
    const { text, result } = await runExample("cnn", { seed: 2, out });
    expect(result.epochs).toBe(2);
    expect(result.lastLoss as number).toBeLessThan(0.6 * (result.firstLoss as number));
    expect(result.testAccuracy as number).toBeGreaterThanOrEqual(0.75);
    expect(text).toMatch(/\(layers\.0\) Conv2d\(1, 6, kernel_size=\(5, 5\), stride=\(1, 1\)\)/);
    expect(text).toMatch(/\(layers\.2\) MaxPool2d\(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False\)/);
    expect(text).toMatch(
      /epoch 2\/2: 1000 examples in [\d.]+ s \(\d+ examples\/s\), loss [\d.]+ \| test accuracy [\d.]+%/,
    );
    expect(text).toMatch(/layers\.0 +1→6 5×5 +mean ‖∂L\/∂W‖ \S+ +inactive \(relu = 0\) +[\d.]+%/);
    expect(text).toMatch(/layers\.9 +120→10 +mean ‖∂L\/∂W‖ \S+$/m);
    expect(text).toMatch(/test accuracy \(%\) by epoch/);
    expect(text).toMatch(/accuracy [\d.]+% \(\d+ of 500\)/);
    expect(text).toMatch(/Some digits it gets wrong:\n[\s\S]*true \d \/ said \d/);
    expect(XMLValidator.validate(readFileSync(out, "utf8"))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

test("pnpm demo --model cnn: the CNN's own defaults, each overridable", () => {
  expect(parseDemoArgs(["--model", "cnn"])).toMatchObject({
    model: "cnn",
    epochs: CNN_DEFAULTS.epochs,
    batchSize: CNN_DEFAULTS.batchSize,
    lr: CNN_DEFAULTS.lr,
    dtype: "float32",
  });
  expect(parseDemoArgs(["--model", "cnn", "--epochs", "2", "--lr", "0.01"])).toMatchObject({ epochs: 2, lr: 0.01 });
  expect(parseDemoArgs([])).toMatchObject({ model: "mlp", epochs: 30 });
  expect(() => parseDemoArgs(["--model", "rnn"])).toThrow(/--model must be mlp or cnn, got "rnn"/);
  expect(parseDemoArgs(["--model", "cnn", "--load", "m.safetensors"])).toMatchObject({
    model: "cnn",
    load: "m.safetensors",
  });
});

test("the built CLI: pnpm demo --model cnn trains the CNN (one epoch, quiet)", () => {
  const cli = fileURLToPath(new URL("../dist/demo.js", import.meta.url));
  if (!existsSync(cli)) throw new Error("build first (pnpm build): this test runs the built CLI");
  const r = spawnSync(process.execPath, [cli, "--model", "cnn", "--epochs", "1", "--quiet", "--no-chart"], {
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(
    /^test accuracy (9\d|100)\.\d\d% \(2000 held-out digits\), test loss [\d.]+, trained in [\d.]+ s\n$/,
  );
}, 180_000);

test("a saved CNN evaluates to the same accuracy when loaded", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-cnn-"));
  try {
    const file = join(dir, "cnn.safetensors");
    const io = { print: () => {}, stream: { write: () => true, isTTY: false } as unknown as ProgressStream };
    const sizes = { ...CNN_DEFAULTS, ...QUICK, epochs: 1, chart: null, quiet: true };
    const trained = await runCnn({ ...sizes, save: file }, io);
    const loaded = await runCnn({ ...sizes, load: file }, io);
    expect(loaded.epochs).toHaveLength(0);
    expect(loaded.testAccuracy).toBe(trained.testAccuracy);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
