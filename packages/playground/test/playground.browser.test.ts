/**
 * The playground in a real headless Chromium: builds the static site with Vite, serves it with a
 * plain static server, and checks each view in the page. Screenshots of the three views are
 * written to docs/ when SCREENSHOTS=1.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { traceBackward } from "@chainrule/autograd";
import { decodeSafetensors } from "@chainrule/nn";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DIGIT_MODELS, type DigitModel, DigitTrainer, parseDigits } from "../src/digits-core.js";
import { traceNetwork, WORKED } from "../src/views/chain-rule.js";
import { launchChromium, serveStatic } from "./browser.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const docs = join(root, "..", "..", "docs");
const screenshots = process.env.SCREENSHOTS === "1";

let out: string;
let server: Server;
let url: string;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, "scripts", "make-digits.mjs")]);
  out = mkdtempSync(join(tmpdir(), "playground-"));
  await build({ root, logLevel: "error", build: { outDir: out, emptyOutDir: true } });
  ({ server, url } = await serveStatic(out));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (out !== undefined) rmSync(out, { recursive: true, force: true });
});

/**
 * Draw one stroke on the MNIST pad through `points` ([x, y] from its corner, then [x, y, mouse
 * steps] for each segment) and check the ten probabilities the page shows: a distribution.
 */
async function drawDigit(points: [number, number, number?][]): Promise<void> {
  const box = (await page.locator("#mnist-pad").boundingBox()) as { x: number; y: number };
  const [[x0, y0], ...rest] = points as [[number, number], ...[number, number, number][]];
  await page.mouse.move(box.x + x0, box.y + y0);
  await page.mouse.down();
  for (const [x, y, steps] of rest) await page.mouse.move(box.x + x, box.y + y, { steps });
  await page.mouse.up();
  await page.waitForSelector("#mnist-outputs[data-sum]");
  const probabilities = await page.$$eval("#mnist-outputs tr[data-probability]", (rows) =>
    rows.map((r) => Number((r as HTMLElement).dataset.probability)),
  );
  expect(probabilities).toHaveLength(10);
  expect(probabilities.every((p) => p >= 0 && p <= 1)).toBe(true);
  expect(probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
}

/** The digits as the page gets them, read from the file the build wrote. */
function nodeDigits() {
  return parseDigits(new Uint8Array(gunzipSync(readFileSync(join(root, "public", "mnist-digits.gz.bin")))));
}

async function shot(name: string): Promise<void> {
  if (screenshots) await page.screenshot({ path: join(docs, `playground-${name}.png`), fullPage: true });
}

describe("the playground in Chromium", () => {
  test("the built site loads (time reported)", async () => {
    const started = Date.now();
    await page.goto(url, { waitUntil: "load" });
    await page.waitForSelector("#step-backward");
    const seconds = (Date.now() - started) / 1000;
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      return { load: n.loadEventEnd, domContentLoaded: n.domContentLoadedEventEnd };
    });
    console.log(
      `page load from the built site: ${seconds.toFixed(2)} s to the first view (load event at ${nav.load.toFixed(0)} ms)`,
    );
    expect(await page.title()).toContain("chainrule");
  });

  test("view 1: ∂C/∂w² for the textbook's numbers, three ways", async () => {
    const row = (id: string, cls: string) => page.textContent(`#${id} .${cls}`);
    expect(await row("eq-A", "auto")).toBe("−0.0775219380");
    expect(await row("eq-A", "eq")).toBe("−0.0775219380");
    expect(await row("eq-A", "fd")).toBe("−0.0775219380");
    expect(await row("eq-B", "auto")).toBe("0.0226835316");
  });

  test("view 1: step backward visits the nodes of the library's trace, in its order", async () => {
    const trace = traceBackward(traceNetwork(WORKED).net.C);
    const expected = trace.steps.map((s) => s.name);
    const visited: string[] = [];
    for (let k = 0; k < trace.totalSteps; k++) {
      await page.click("#step-backward");
      visited.push((await page.getAttribute("#step-info .step-title", "data-node")) as string);
      const current = await page.getAttribute(".graph .node.current", "data-name");
      expect(current).toBe(visited[k]);
      if (k === 5) await shot("chain-rule");
    }
    expect(visited).toEqual(expected);
    expect(await page.isDisabled("#step-backward")).toBe(true);
    // the step that reaches w² shows its product
    await page.click("#step-reset");
    for (let k = 0; k < 6; k++) await page.click("#step-backward");
    expect(await page.textContent("#step-info")).toContain(
      "∂C/∂w² = ∂C/∂w²·a¹ × ∂w²·a¹/∂w² = (−0.141) × 0.5498 = −0.07752",
    );
  });

  test("view 1: moving a slider reruns the forward pass", async () => {
    await page.fill("#slider-w2", "1");
    await page.dispatchEvent("#slider-w2", "input");
    expect(await page.textContent("#eq-A .auto")).not.toBe("−0.0775219380");
    expect(await page.textContent("#eq-A .auto")).toBe(await page.textContent("#eq-A .eq"));
    await page.click("#restore-worked");
    expect(await page.textContent("#eq-A .auto")).toBe("−0.0775219380");
  });

  test("view 2: bad input shows a message, not a stuck page", async () => {
    await page.goto(`${url}#learn`);
    for (const [id, value, message] of [
      ["#learn-lr", "0", "learning rate must be a number above 0, got 0"],
      ["#learn-lr", "NaN", "learning rate must be a number above 0, got NaN"],
      ["#learn-lr", "abc", "learning rate must be a number above 0, got NaN"],
    ] as const) {
      await page.fill(id, value);
      await page.click("#learn-start");
      expect(await page.textContent("#learn-error")).toContain(message);
    }
    await page.fill("#learn-lr", "0.03");
    await page.fill("#learn-layers", "8, 0");
    await page.click("#learn-start");
    expect(await page.textContent("#learn-error")).toContain(
      "hidden layer 2 must have a whole number of units from 1 to 64, got 0",
    );
    await page.fill("#learn-layers", "8, 8");
  });

  test("view 2: XOR trains to a loss below 0.01 in the Web Worker, the page staying responsive", async () => {
    await page.selectOption("#learn-dataset", "xor");
    await page.selectOption("#learn-activation", "tanh");
    await page.selectOption("#learn-optimizer", "adam");
    await page.click("#learn-start");
    expect(await page.isHidden("#learn-error")).toBe(true);
    // the main thread answers while the worker trains
    const roundTrip = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          setTimeout(() => resolve(performance.now() - t0), 0);
        }),
    );
    expect(roundTrip).toBeLessThan(500);
    await page.waitForFunction(
      () => {
        const s = document.querySelector("#learn-status") as HTMLElement;
        return Number(s.dataset.loss) < 0.01 || Number(s.dataset.step) >= 2000;
      },
      undefined,
      { timeout: 60_000 },
    );
    await page.click("#learn-pause");
    const status = await page.$eval("#learn-status", (s) => ({ ...(s as HTMLElement).dataset }));
    console.log(`XOR in the browser's worker: loss ${Number(status.loss).toExponential(2)} at step ${status.step}`);
    expect(Number(status.loss)).toBeLessThan(0.01);
    expect(Number(status.step)).toBeLessThanOrEqual(2000);
    expect(await page.locator("#learn-health tr").count()).toBe(4); // header + 2 hidden + output
    await shot("learn");
  });

  test("view 3: one epoch on the digits reaches ≥ 85 % held-out accuracy; a drawn stroke gives ten probabilities summing to 1", async () => {
    await page.goto(`${url}#mnist`);
    // bad settings: a message, and nothing starts
    for (const [id, value, message] of [
      ["#mnist-subset", "0", "the training digits must be a whole number from 10 to 8000, got 0"],
      ["#mnist-subset", "NaN", "the training digits must be a whole number from 10 to 8000, got NaN"],
    ] as const) {
      await page.fill(id, value);
      await page.click("#mnist-train");
      expect(await page.textContent("#mnist-error")).toBe(message);
      expect(await page.isEnabled("#mnist-train")).toBe(true);
    }
    await page.fill("#mnist-subset", "8000");
    await page.fill("#mnist-epochs", "0");
    await page.click("#mnist-train");
    expect(await page.textContent("#mnist-error")).toBe("epochs must be a whole number from 1 to 30, got 0");
    await page.fill("#mnist-epochs", "1");
    await page.click("#mnist-train");
    await page.waitForSelector("#mnist-status[data-accuracy]", { timeout: 90_000 });
    const accuracy = Number(await page.getAttribute("#mnist-status", "data-accuracy"));
    const rate = Number(await page.getAttribute("#mnist-status", "data-examples-per-second"));
    // the same epoch in Node, now, for the speed comparison (reported, not asserted)
    const node = new DigitTrainer(DIGIT_MODELS[0] as DigitModel, nodeDigits(), 8000);
    const nodeRate = (await node.epoch(() => {}, 500)).examplesPerSecond;
    console.log(
      `MNIST 784–30–10, one epoch of 8000: held-out accuracy ${(100 * accuracy).toFixed(1)} % in the browser (Node: ${(100 * node.accuracy()).toFixed(1)} %); ` +
        `${Math.round(rate)} examples/s in the browser's worker, ${Math.round(nodeRate)} in Node (${((100 * rate) / nodeRate).toFixed(0)} %)`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
    // a "1": one vertical stroke
    await drawDigit([
      [150, 40],
      [145, 140, 12],
      [140, 240, 12],
    ]);
  });

  test("view 3: the model downloads as a safetensors file and loads back from one", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#mnist-save")]);
    expect(download.suggestedFilename()).toBe("mlp-784-30-10.safetensors");
    const bytes = new Uint8Array(await readFile((await download.path()) as string));
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()].sort()).toEqual([
      "layers.0.bias",
      "layers.0.weight",
      "layers.1.bias",
      "layers.1.weight",
    ]);
    expect(file.tensors.get("layers.0.weight")?.shape).toEqual([30, 784]);
    const before = await page.$$eval("#mnist-outputs tr[data-probability]", (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.probability),
    );
    await page.setInputFiles("#mnist-load", {
      name: "model.safetensors",
      mimeType: "application/octet-stream",
      buffer: Buffer.from(bytes),
    });
    await page.waitForFunction(() =>
      document.querySelector("#mnist-status")?.textContent?.startsWith("Loaded a model file"),
    );
    await page.waitForFunction(
      (previous) =>
        JSON.stringify(
          [...document.querySelectorAll<HTMLElement>("#mnist-outputs tr[data-probability]")].map(
            (r) => r.dataset.probability,
          ),
        ) === previous,
      JSON.stringify(before),
    );
    // a file that is not a model is refused with a message in the page
    await page.setInputFiles("#mnist-load", {
      name: "x.safetensors",
      mimeType: "application/octet-stream",
      buffer: Buffer.from("not a model"),
    });
    await page.waitForSelector("#mnist-error:not([hidden])");
    expect(await page.textContent("#mnist-error")).toContain("decodeModel");
  });

  test("view 3: the CNN trains in the worker and reads a drawn stroke as a softmax of ten logits", async () => {
    const cnn = DIGIT_MODELS.find((m) => m.id === "cnn-lenet") as DigitModel;
    await page.click("#mnist-clear");
    await page.selectOption("#mnist-model", cnn.id);
    expect(await page.inputValue("#mnist-subset")).toBe(String(cnn.defaultTrainSize));
    expect(await page.textContent("#mnist-about")).toContain("convolution");
    // fewer digits than one of its mini-batches of 16: a message, and nothing starts
    await page.fill("#mnist-subset", "12");
    await page.click("#mnist-train");
    expect(await page.textContent("#mnist-error")).toBe(
      "the training digits must be a whole number from 16 to 8000, got 12",
    );
    await page.fill("#mnist-subset", String(cnn.defaultTrainSize));
    await page.fill("#mnist-epochs", "1");
    await page.click("#mnist-train");
    await page.waitForSelector("#mnist-status[data-accuracy]", { timeout: 90_000 });
    const accuracy = Number(await page.getAttribute("#mnist-status", "data-accuracy"));
    const rate = Number(await page.getAttribute("#mnist-status", "data-examples-per-second"));
    console.log(
      `MNIST CNN, one epoch of ${cnn.defaultTrainSize}: held-out accuracy ${(100 * accuracy).toFixed(1)} % in the browser; ` +
        `${Math.round(rate)} examples/s in the worker, ${(cnn.defaultTrainSize / rate).toFixed(1)} s of training steps`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
    // a "7": a bar, then a diagonal down to the left
    await drawDigit([
      [70, 50],
      [210, 50, 10],
      [110, 240, 12],
    ]);
    expect(await page.textContent("#mnist-outputs .note")).toContain("softmax");
    await shot("mnist");
  });

  test("no console errors in any view", () => {
    expect(consoleErrors).toEqual([]);
  });
});
