/**
 * @file The Web Worker of the MNIST view: loads the digits file, trains a DigitTrainer with
 * progress messages, and predicts drawn digits, so the page stays responsive while it trains.
 * Model files go both ways as bytes: "save" answers with the safetensors file of the trained
 * model (encodeModel), "load" reads one (decodeModel) into a fresh model of the chosen kind.
 * Messages in: { type: "train", url, model, trainSize, epochs }, { type: "predict", image },
 * { type: "save" }, { type: "load", model, bytes }. Out: "progress", "epoch", "trained",
 * "prediction", "saved", "loaded", "error". Imports digits-core.ts and the libraries.
 */

import { Random } from "@chainrule/autograd";
import { decodeModel, encodeModel, type Module } from "@chainrule/nn";
import { DIGIT_MODELS, type DigitModel, type Digits, DigitTrainer, parseDigits, predict } from "./digits-core.js";

const scope = self as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
};

let digits: Promise<Digits> | null = null;
/** The model that answers "predict": the last one trained or loaded. */
let current: { spec: DigitModel; model: Module } | null = null;

/** The digits file is gzipped; a server that already unzipped it (Content-Encoding) is fine too. */
async function loadDigits(url: string): Promise<Digits> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load the digits (${url}): HTTP ${response.status}`);
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return parseDigits(bytes);
}

type Message =
  | { type: "train"; url: string; model: string; trainSize: number; epochs: number }
  | { type: "predict"; image: Float32Array }
  | { type: "save" }
  | { type: "load"; model: string; bytes: Uint8Array };

function specOf(id: string): DigitModel {
  const spec = DIGIT_MODELS.find((m) => m.id === id);
  if (spec === undefined) throw new Error(`unknown model "${id}"`);
  return spec;
}

scope.onmessage = async (event) => {
  const message = event.data as Message;
  try {
    if (message.type === "train") {
      const spec = specOf(message.model);
      digits ??= loadDigits(message.url);
      const d = await digits;
      const trainer = new DigitTrainer(spec, d, message.trainSize);
      const started = performance.now();
      let rate = 0;
      for (let epoch = 1; epoch <= message.epochs; epoch++) {
        const done = await trainer.epoch(async (p) => {
          scope.postMessage({ type: "progress", epoch, epochs: message.epochs, ...p });
          await new Promise((resolve) => setTimeout(resolve, 0));
        }, 500);
        rate = done.examplesPerSecond;
        const accuracy = trainer.accuracy();
        scope.postMessage({ type: "epoch", epoch, accuracy, examplesPerSecond: rate });
      }
      current = { spec, model: trainer.model };
      scope.postMessage({
        type: "trained",
        accuracy: trainer.accuracy(),
        examplesPerSecond: rate,
        seconds: (performance.now() - started) / 1000,
      });
    } else if (message.type === "predict") {
      if (current === null) throw new Error("train the network first (or load a model file)");
      scope.postMessage({
        type: "prediction",
        model: current.spec.id,
        ...predict(current.spec, current.model, message.image),
      });
    } else if (message.type === "save") {
      if (current === null) throw new Error("train the network first: there is no model to save");
      scope.postMessage({ type: "saved", bytes: encodeModel(current.model, { metadata: { model: current.spec.id } }) });
    } else if (message.type === "load") {
      const spec = specOf(message.model);
      const model = spec.build(new Random(0));
      decodeModel(message.bytes, model); // checks names, shapes, dtypes, config and checksum; or throws
      current = { spec, model };
      scope.postMessage({ type: "loaded", bytes: message.bytes.length });
    }
  } catch (error) {
    scope.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
