/**
 * @file View 3, MNIST in your browser: train a model of DIGIT_MODELS (the 784–30–10 network or the
 * LeNet-style CNN) on
 * the shipped digits in a Web Worker (digits-worker.ts), with progress and held-out accuracy;
 * then draw a digit and see the ten outputs. Imports digits-core.ts (the worker imports the
 * library).
 */

import { DIGIT_MODELS, PIXELS, TEST, TRAIN } from "../digits-core.js";
import { el, field, showMessage } from "../ui.js";

const DIGITS_URL = `${import.meta.env.BASE_URL}mnist-digits.gz.bin`;

export function mountDigits(root: HTMLElement): void {
  const model = el("select", { id: "mnist-model" });
  for (const m of DIGIT_MODELS) model.append(el("option", { value: m.id }, m.title));
  const subset = el("input", { id: "mnist-subset", value: String(TRAIN.end), size: "6" });
  const epochs = el("input", { id: "mnist-epochs", value: "1", size: "3" });
  const train = el("button", { id: "mnist-train" }, "Train");
  const save = el("button", { id: "mnist-save", disabled: "" }, "Download the model");
  const load = el("input", { id: "mnist-load", type: "file", accept: ".safetensors" });
  const progress = el("progress", { id: "mnist-progress", max: "1", value: "0" });
  const status = el("div", { class: "status", id: "mnist-status" }, "Not trained yet.");
  const message = el("div", { class: "error", id: "mnist-error", hidden: "" });
  const about = el("p", { class: "note", id: "mnist-about" }, DIGIT_MODELS[0]?.about ?? "");

  const pad = el("canvas", { id: "mnist-pad", width: "280", height: "280" });
  const preview = el("canvas", { id: "mnist-preview", width: "28", height: "28" });
  const clear = el("button", { id: "mnist-clear" }, "Clear");
  const bars = el("div", { id: "mnist-outputs", class: "outputs" });

  root.append(
    el("h2", {}, "MNIST in your browser"),
    el(
      "p",
      { class: "about" },
      `Train a network on up to ${TRAIN.end.toLocaleString("en")} handwritten digits shipped with this page (no download), in a Web Worker, and test it on ${(TEST.end - TEST.start).toLocaleString("en")} digits it never saw. ` +
        "Then draw a digit in the black square: it is cropped, scaled to 20 × 20 pixels and centred by its centre of mass in a 28 × 28 image, as the MNIST digits were, and the network's ten outputs appear beside it.",
    ),
    el(
      "div",
      { class: "controls form" },
      field("Model", model),
      field("Training digits", subset),
      field("Epochs", epochs),
      train,
      progress,
    ),
    el("div", { class: "controls" }, save, field("…or load a model file", load)),
    about,
    message,
    status,
    el(
      "div",
      { class: "columns" },
      el(
        "div",
        {},
        pad,
        el("div", { class: "controls" }, clear, el("span", { class: "note" }, "what the network sees:"), preview),
      ),
      bars,
    ),
  );
  model.addEventListener("change", () => {
    const spec = DIGIT_MODELS.find((m) => m.id === model.value);
    about.textContent = spec?.about ?? "";
    if (spec !== undefined) subset.value = String(spec.defaultTrainSize);
  });

  let trained = false;
  const worker = new Worker(new URL("../digits-worker.ts", import.meta.url), { type: "module" });
  worker.onerror = (event) => showMessage(message, `the training worker failed: ${event.message}`);
  worker.onmessage = (event) => {
    const d = event.data;
    switch (d.type) {
      case "progress":
        progress.value = ((d.epoch - 1) * d.total + d.examples) / (d.total * d.epochs);
        status.textContent = `epoch ${d.epoch} of ${d.epochs}: ${d.examples.toLocaleString("en")} of ${d.total.toLocaleString("en")} digits, ${Math.round(d.examplesPerSecond).toLocaleString("en")} examples/s, cost ${d.cost.toFixed(4)}`;
        break;
      case "epoch":
        status.textContent = `epoch ${d.epoch}: held-out accuracy ${(100 * d.accuracy).toFixed(1)} %`;
        break;
      case "trained":
        trained = true;
        save.disabled = false;
        train.disabled = false;
        progress.value = 1;
        status.dataset.accuracy = String(d.accuracy);
        status.dataset.examplesPerSecond = String(d.examplesPerSecond);
        status.textContent = `Trained in ${d.seconds.toFixed(1)} s at ${Math.round(d.examplesPerSecond).toLocaleString("en")} examples/s. Held-out accuracy: ${(100 * d.accuracy).toFixed(1)} % of ${(TEST.end - TEST.start).toLocaleString("en")} digits. Now draw a digit.`;
        predict();
        break;
      case "saved": {
        // the model file as a download: the bytes of encodeModel, a safetensors file
        const blob = new Blob([d.bytes], { type: "application/octet-stream" });
        const link = el("a", { href: URL.createObjectURL(blob), download: `${model.value}.safetensors` });
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
        break;
      }
      case "loaded":
        trained = true;
        save.disabled = false;
        showMessage(message, null);
        status.textContent = `Loaded a model file of ${d.bytes.toLocaleString("en")} bytes. Draw a digit.`;
        predict();
        break;
      case "prediction":
        showOutputs(bars, d.outputs, d.probabilities, DIGIT_MODELS.find((m) => m.id === d.model)?.outputsNote ?? "");
        break;
      case "error":
        train.disabled = false;
        showMessage(message, d.message);
        break;
    }
  };

  train.addEventListener("click", () => {
    const size = Number(subset.value);
    const count = Number(epochs.value);
    // at least one mini-batch of the chosen model
    const least = DIGIT_MODELS.find((m) => m.id === model.value)?.batchSize ?? 1;
    const problem =
      !Number.isInteger(size) || size < least || size > TRAIN.end
        ? `the training digits must be a whole number from ${least} to ${TRAIN.end}, got ${subset.value}`
        : !Number.isInteger(count) || count < 1 || count > 30
          ? `epochs must be a whole number from 1 to 30, got ${epochs.value}`
          : null;
    showMessage(message, problem);
    if (problem !== null) return;
    train.disabled = true;
    delete status.dataset.accuracy;
    status.textContent = "loading the digits…";
    worker.postMessage({
      type: "train",
      url: new URL(DIGITS_URL, location.href).href,
      model: model.value,
      trainSize: size,
      epochs: count,
    });
  });

  save.addEventListener("click", () => worker.postMessage({ type: "save" }));
  load.addEventListener("change", async () => {
    const file = load.files?.[0];
    if (file === undefined) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    worker.postMessage({ type: "load", model: model.value, bytes }, [bytes.buffer]);
    load.value = "";
  });

  // Drawing: white strokes on black, as the digits are stored.
  const ctx = pad.getContext("2d") as CanvasRenderingContext2D;
  const blank = () => {
    ctx.fillStyle = "black";
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  blank();
  let drawing = false;
  let inked = false;
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    ctx.lineTo(x, y);
    ctx.strokeStyle = "white";
    ctx.lineWidth = 20;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.stroke();
    inked = true;
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    predict();
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  clear.addEventListener("click", () => {
    blank();
    inked = false;
    bars.replaceChildren();
    delete bars.dataset.sum;
    preview.getContext("2d")?.clearRect(0, 0, 28, 28);
  });

  function predict(): void {
    if (!inked) return;
    if (!trained) {
      showMessage(message, "Train the network first (press Train), then draw.");
      return;
    }
    showMessage(message, null);
    const image = toMnist(pad, preview);
    worker.postMessage({ type: "predict", image }, [image.buffer]);
  }
  showOutputs(bars, null, null, "");
}

/**
 * The drawing as MNIST prepares a digit: the ink's bounding box scaled to fit 20 × 20, placed in
 * a 28 × 28 image with its centre of mass at the centre. Values in [0, 1]; also drawn in `preview`.
 */
function toMnist(pad: HTMLCanvasElement, preview: HTMLCanvasElement): Float32Array {
  const src = (pad.getContext("2d") as CanvasRenderingContext2D).getImageData(0, 0, pad.width, pad.height).data;
  let [left, top, right, bottom] = [pad.width, pad.height, -1, -1];
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      if ((src[4 * (y * pad.width + x)] as number) > 20) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  const image = new Float32Array(PIXELS);
  if (right < 0) return image;
  const w = right - left + 1;
  const h = bottom - top + 1;
  // Box filter: each pixel of the 20 × 20 box is the mean of the pad pixels it covers. Plain
  // arithmetic rather than a canvas resize, so the same drawing always gives the same image.
  const scale = 20 / Math.max(w, h);
  const bw = Math.max(1, Math.round(w * scale));
  const bh = Math.max(1, Math.round(h * scale));
  const ox = Math.floor((28 - bw) / 2);
  const oy = Math.floor((28 - bh) / 2);
  const boxed = new Float32Array(PIXELS);
  for (let ty = 0; ty < bh; ty++) {
    for (let tx = 0; tx < bw; tx++) {
      const x0 = left + Math.floor((tx * w) / bw);
      const x1 = Math.max(x0 + 1, left + Math.floor(((tx + 1) * w) / bw));
      const y0 = top + Math.floor((ty * h) / bh);
      const y1 = Math.max(y0 + 1, top + Math.floor(((ty + 1) * h) / bh));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += src[4 * (y * pad.width + x)] as number;
      boxed[(oy + ty) * 28 + ox + tx] = sum / ((x1 - x0) * (y1 - y0) * 255);
    }
  }
  // shift so the centre of mass sits at the centre
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < PIXELS; i++) {
    const v = boxed[i] as number;
    mass += v;
    cx += v * (i % 28);
    cy += v * Math.floor(i / 28);
  }
  const dx = mass > 0 ? Math.round(13.5 - cx / mass) : 0;
  const dy = mass > 0 ? Math.round(13.5 - cy / mass) : 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) image[y * 28 + x] = boxed[sy * 28 + sx] as number;
    }
  }
  const pctx = preview.getContext("2d") as CanvasRenderingContext2D;
  const shown = pctx.createImageData(28, 28);
  for (let i = 0; i < PIXELS; i++) {
    const v = Math.round(255 * (image[i] as number));
    shown.data.set([v, v, v, 255], 4 * i);
  }
  pctx.putImageData(shown, 0, 0);
  return image;
}

function showOutputs(box: HTMLElement, outputs: number[] | null, probabilities: number[] | null, note: string): void {
  const best = probabilities === null ? -1 : probabilities.indexOf(Math.max(...probabilities));
  box.replaceChildren(
    el("h3", {}, probabilities === null ? "The ten outputs (draw a digit)" : `The network reads: ${best}`),
  );
  if (probabilities !== null) box.dataset.sum = String(probabilities.reduce((s, p) => s + p, 0));
  const table = el("table", {});
  table.append(
    el("tr", {}, el("th", {}, "digit"), el("th", {}, "output"), el("th", {}, "probability"), el("th", {}, "")),
  );
  for (let k = 0; k < 10; k++) {
    const p = probabilities?.[k] ?? 0;
    table.append(
      el(
        "tr",
        { class: k === best ? "best" : "", "data-probability": String(p) },
        el("td", {}, String(k)),
        el("td", {}, outputs === null ? "" : (outputs[k] as number).toFixed(3)),
        el("td", {}, probabilities === null ? "" : `${(100 * p).toFixed(1)} %`),
        el("td", {}, el("div", { class: "bar" }, el("div", { style: `width: ${(100 * p).toFixed(1)}%` }))),
      ),
    );
  }
  box.append(table, el("p", { class: "note" }, note));
}
