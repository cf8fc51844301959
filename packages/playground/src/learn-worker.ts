/**
 * @file The Web Worker of the "watch a network learn" view: trains a Learner in bursts of steps
 * and posts a Snapshot about 15 times a second, each once the page has drawn the last, so the
 * page only draws and stays responsive. Messages in: { type: "start", config } (a new run),
 * "pause", "resume", "drawn". Out: { type:
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

/** Steps between looks at the clock; how long to train between looks at the messages. */
const BURST = 5;
const SLICE_MS = 16;
/** The shortest time between snapshots: about 15 a second. */
const EVERY_MS = 66;

// The page says "drawn" after drawing a snapshot; until then the next one waits (training goes
// on), so a slow page is never sent more than it can draw.
let drawn = true;
let pending: number[] = []; // the loss after each burst since the last snapshot
let lastPost = 0;

// A message to itself: a yield that lets the page's messages in without setTimeout's 4 ms clamp.
const channel = new MessageChannel();
const yieldToMessages = () =>
  new Promise<void>((resolve) => {
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(0);
  });

async function loop(id: number): Promise<void> {
  while (running && id === run && learner !== null) {
    try {
      const started = performance.now();
      let loss: number;
      do {
        loss = learner.train(BURST);
        pending.push(loss);
      } while (performance.now() - started < SLICE_MS && Number.isFinite(loss));
      if (!Number.isFinite(loss) || (drawn && performance.now() - lastPost >= EVERY_MS)) {
        const snapshot = learner.snapshot();
        scope.postMessage({ type: "snapshot", snapshot, losses: pending, burst: BURST }, [snapshot.grid.buffer]);
        pending = [];
        drawn = false;
        lastPost = performance.now();
      }
      if (!Number.isFinite(loss)) {
        running = false;
        scope.postMessage({ type: "error", message: "the loss is no longer a finite number: lower the learning rate" });
      }
    } catch (error) {
      running = false;
      scope.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
    await yieldToMessages(); // let "pause", "start" and "drawn" in
  }
}

scope.onmessage = (event) => {
  const message = event.data as
    | { type: "start"; config: LearnConfig }
    | { type: "pause" }
    | { type: "resume" }
    | { type: "drawn" };
  if (message.type === "drawn") {
    drawn = true;
  } else if (message.type === "start") {
    run++;
    pending = [];
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
