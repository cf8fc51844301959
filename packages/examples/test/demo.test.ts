/**
 * The MNIST demo: one epoch reproduces the benchmark's reference accuracy exactly, prints what
 * it promises, writes a valid SVG chart, saves a model that evaluates to the same accuracy, and
 * refuses bad options with a message and the usage.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, describe, expect, test } from "vitest";
import { DEFAULTS, parseDemoArgs, runDemo } from "../src/mnist-demo.js";

const dir = mkdtempSync(join(tmpdir(), "chainrule-demo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const lines: string[] = [];
  const stream = Object.assign(
    {
      write(chunk: string) {
        lines.push(String(chunk).trimEnd());
        return true;
      },
    },
    { isTTY: false },
  ) as unknown as NodeJS.WriteStream;
  return { lines, io: { print: (l: string) => lines.push(l), stream } };
}

describe("the MNIST demo", () => {
  const chart = join(dir, "chart.svg");
  const model = join(dir, "model.safetensors");

  test("one epoch: the W2 reference accuracy 0.7245, health, charts, confusion matrix, wrong digits", async () => {
    const { lines, io } = capture();
    const r = await runDemo({ ...DEFAULTS, epochs: 1, chart, save: model }, io);
    const text = lines.join("\n");
    expect(r.testAccuracy).toBe(0.7245);
    expect(r.epochs[0]?.testAccuracy).toBe(0.7245);
    expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(2000);
    expect(text).toMatch(
      /epoch 1\/1: 8000 examples in [\d.]+ s \(\d+ examples\/s\), loss 0\.2896 \| test accuracy 72\.45%/,
    );
    expect(text).toMatch(/layers\.0 784→30 +mean ‖∂C\/∂W‖ \S+ +saturated \(σ' < 0\.01\) +[\d.]+%/);
    expect(text).toMatch(/layers\.1 30→10 /);
    expect(text).toMatch(/test accuracy \(%\) by epoch/);
    expect(text).toMatch(/accuracy 72\.45% \(1449 of 2000\)/);
    expect(text).toMatch(/Some digits it gets wrong:\n[\s\S]*true \d \/ said \d/);
    expect(text).toMatch(/[@%#]/);
    const svg = readFileSync(chart, "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(existsSync(model)).toBe(true);
  });

  test("a saved model evaluates to the same accuracy", async () => {
    const { lines, io } = capture();
    const r = await runDemo({ ...DEFAULTS, load: model, chart: null }, io);
    expect(r.testAccuracy).toBe(0.7245);
    expect(r.epochs).toHaveLength(0);
    expect(lines.join("\n")).toMatch(/Evaluating .*model\.safetensors: a 784–30–10 network/);
  });

  test("--quiet prints only the result", async () => {
    const { lines, io } = capture();
    await runDemo({ ...DEFAULTS, epochs: 1, hidden: 5, chart: null, quiet: true }, io);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^test accuracy [\d.]+% \(2000 held-out digits\), test loss [\d.]+$/);
  });

  test("options are parsed and bad ones refused with the option's name", () => {
    expect(parseDemoArgs(["--epochs", "3", "--lr", "0.5", "--dtype", "float32", "--no-chart"])).toMatchObject({
      epochs: 3,
      lr: 0.5,
      dtype: "float32",
      chart: null,
    });
    expect(parseDemoArgs(["--help"])).toBe("help");
    expect(() => parseDemoArgs(["--epochs", "0"])).toThrow(/--epochs must be a positive integer, got "0"/);
    expect(() => parseDemoArgs(["--lr=-1"])).toThrow(/--lr must be a positive number, got "-1"/);
    expect(() => parseDemoArgs(["--dtype", "int8"])).toThrow(/--dtype must be float64 or float32, got "int8"/);
    expect(() => parseDemoArgs(["--batch-size", "2.5"])).toThrow(/--batch-size must be a positive integer/);
    expect(() => parseDemoArgs(["--frobnicate"])).toThrow(/Unknown option '--frobnicate'/);
    expect(() => parseDemoArgs(["--load", "m.safetensors", "--save", "n.safetensors", "--epochs", "3"])).toThrow(
      /--load evaluates a saved model; --epochs, --save would be ignored/,
    );
  });

  test("the built CLI exits 2 with the usage on a bad option", () => {
    const cli = fileURLToPath(new URL("../dist/demo.js", import.meta.url));
    if (!existsSync(cli)) throw new Error("build first (pnpm build): this test runs the built CLI");
    const r = spawnSync(process.execPath, [cli, "--epochs", "x"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/demo: --epochs must be a positive integer, got "x"/);
    expect(r.stderr).toMatch(/usage: pnpm demo \[options\]/);
    expect(execFileSync(process.execPath, [cli, "--help"], { encoding: "utf8" })).toMatch(/--save FILE/);
  });
});
