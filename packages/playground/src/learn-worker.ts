/**
 * @file The Web Worker of the "watch a network learn" view: trains a Learner in bursts of steps
 * and posts a Snapshot about 15 times a second, so the page only draws and stays responsive.
 * Messages in: { type: "start", config } (a new run), "pause", "resume". Out: { type:
 * "snapshot", snapshot, losses (the loss after every burst since the last one), burst },
 * { type: "error", message }. Imports learn-core.ts.
 */

import { type LearnConfig, Learner } from "./learn-core.js";

/** The part of a dedicated worker's global scope used here (the page's lib is the DOM's). */
const scope = self as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
};

let learner: Learner | null = null;
let running = false;
let run = 0; // a new start makes the loop of the previous run stop

/** Steps between looks at the clock, and the time between snapshots: about 15 a second. */
const BURST = 5;
const EVERY_MS = 66;

async function loop(id: number): Promise<void> {
  while (running && id === run && learner !== null) {
    try {
      // train until it is time for a snapshot, so a fast network does not flood the page
      const started = performance.now();
      const losses = [learner.train(BURST)];
      while (performance.now() - started < EVERY_MS && Number.isFinite(losses[losses.length - 1])) {
        losses.push(learner.train(BURST));
      }
      const snapshot = learner.snapshot();
      scope.postMessage({ type: "snapshot", snapshot, losses, burst: BURST }, [snapshot.grid.buffer]);
      if (!Number.isFinite(snapshot.loss)) {
        running = false;
        scope.postMessage({ type: "error", message: "the loss is no longer a finite number: lower the learning rate" });
      }
    } catch (error) {
      running = false;
      scope.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
    await new Promise((resolve) => setTimeout(resolve, 0)); // let "pause" and "start" messages in
  }
}

scope.onmessage = (event) => {
  const message = event.data as { type: "start"; config: LearnConfig } | { type: "pause" } | { type: "resume" };
  if (message.type === "start") {
    run++;
    try {
      learner = new Learner(message.config);
    } catch (error) {
      learner = null;
      running = false;
      scope.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
      return;
    }
    scope.postMessage({ type: "snapshot", snapshot: learner.steps(0), losses: [], burst: BURST });
    running = true;
    void loop(run);
  } else if (message.type === "pause") {
    running = false;
  } else if (message.type === "resume" && learner !== null && !running) {
    running = true;
    void loop(run);
  }
};
