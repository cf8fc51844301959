/**
 * @file Away from a terminal the progress display writes exactly a start line and an end line,
 * with no carriage returns or escape codes; on a terminal it draws a bar and ends with the same line.
 */

import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { createProgress, type ProgressStream } from "./progress.js";

const ESC = "\u001b"; // starts every terminal escape code

/** A stream that records what is written; `isTTY` decides which display is used. */
function fakeStream(isTTY: boolean): { stream: ProgressStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream: Object.assign(stream, { isTTY, columns: 100 }), text: () => chunks.join("") };
}

/** A clock that advances 250 ms per reading. */
function fakeClock(): () => number {
  let t = 0;
  return () => (t += 250);
}

function runEpoch(stream: ProgressStream, enabled = true) {
  const progress = createProgress({ total: 1000, label: "epoch 1/3", stream, enabled, now: fakeClock() });
  for (let done = 100; done <= 1000; done += 100) progress.update(done, 1 / done);
  return progress.stop("test accuracy 0.9150");
}

describe("createProgress", () => {
  test("not a TTY: a start line and an end line, nothing else", () => {
    const { stream, text } = fakeStream(false);
    const stats = runEpoch(stream);
    const lines = text().split("\n");
    expect(lines).toHaveLength(3); // two lines, each ending in \n
    expect(lines[0]).toBe("epoch 1/3: 1000 examples");
    expect(lines[1]).toMatch(
      /^epoch 1\/3: 1000 examples in \d+\.\d\d s \(\d+ examples\/s\), loss 0\.0010 \| test accuracy 0\.9150$/,
    );
    expect(lines[2]).toBe("");
    expect(text()).not.toContain("\r");
    expect(text()).not.toContain(ESC);
    expect(stats.done).toBe(1000);
    expect(stats.loss).toBe(0.001);
    expect(stats.examplesPerSecond).toBeCloseTo(stats.done / stats.seconds, 9);
  });

  test("switched off on a TTY: the same plain lines", () => {
    const { stream, text } = fakeStream(true);
    runEpoch(stream, false);
    expect(text().split("\n")).toHaveLength(3);
    expect(text()).not.toContain("\r");
    expect(text()).not.toContain(ESC);
  });

  test("no loss reported: the end line leaves it out", () => {
    const { stream, text } = fakeStream(false);
    const progress = createProgress({ total: 5, label: "eval", stream, now: fakeClock() });
    progress.update(5);
    progress.stop();
    expect(text().split("\n")[1]).toMatch(/^eval: 5 examples in \d+\.\d\d s \(\d+ examples\/s\)$/);
  });

  test("a TTY: a live bar, then the end line", () => {
    const { stream, text } = fakeStream(true);
    runEpoch(stream);
    expect(text()).toMatch(/epoch 1\/3 \[/); // the bar was drawn
    expect(text()).toMatch(/examples\/s \| loss /);
    expect(text()).toMatch(/epoch 1\/3: 1000 examples in .*test accuracy 0\.9150\n$/);
  });
});
