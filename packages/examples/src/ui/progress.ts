/**
 * @file A progress bar for one training epoch: examples seen, examples per second and the running
 * loss. On a terminal it is a live cli-progress bar; anywhere else (a CI log, a file, a pipe) or
 * when switched off it writes two plain lines, a start line and an end-of-epoch line, because
 * carriage returns and escape codes turn a log into noise. Imports cli-progress only.
 */

import { SingleBar } from "cli-progress";

/** Where the lines go: a writable stream that may be a terminal (`process.stdout`, a test double). */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressOptions {
  /** Examples in the epoch, e.g. 8000. */
  total: number;
  /** Shown at the start of every line, e.g. `"epoch 3/10"`. */
  label: string;
  /** Default `process.stdout`. */
  stream?: ProgressStream;
  /** `false` for plain lines even on a terminal (a `--quiet` flag); default `true`. */
  enabled?: boolean;
  /** Clock in milliseconds; default `performance.now`. Tests pass a fake one. */
  now?: () => number;
}

/** What the epoch took, returned by `stop`. */
export interface EpochStats {
  done: number;
  seconds: number;
  examplesPerSecond: number;
  /** The last loss passed to `update`, if any. */
  loss: number | undefined;
}

export interface Progress {
  /** `done` examples seen so far this epoch; `loss` = the running (mean) loss over them. */
  update(done: number, loss?: number): void;
  /** Ends the epoch with one line: throughput, loss and an optional `summary` such as test accuracy. */
  stop(summary?: string): EpochStats;
}

const formatRate = (rate: number) => (Number.isFinite(rate) ? Math.round(rate).toString() : "-");
const formatLoss = (loss: number | undefined) => (loss === undefined ? "-" : loss.toFixed(4));

/**
 * A progress display for one epoch.
 *
 * ```ts
 * const progress = createProgress({ total: 8000, label: "epoch 1/10" });
 * for (let done = 10; done <= 8000; done += 10) progress.update(done, runningLoss);
 * progress.stop("test accuracy 0.7245");
 * // epoch 1/10: 8000 examples in 2.41 s (3320 examples/s), loss 0.0712 | test accuracy 0.7245
 * ```
 */
export function createProgress(options: ProgressOptions): Progress {
  const { total, label } = options;
  const stream = options.stream ?? process.stdout;
  const now = options.now ?? (() => performance.now());
  const start = now();
  let done = 0;
  let loss: number | undefined;

  const seconds = () => (now() - start) / 1000;
  const payload = () => {
    const s = seconds();
    return { label, rate: formatRate(s > 0 ? done / s : Number.NaN), loss: formatLoss(loss) };
  };

  let bar: SingleBar | undefined;
  if ((options.enabled ?? true) && stream.isTTY === true) {
    bar = new SingleBar({
      // The label travels in the payload: the format string would expand any `{name}` inside it.
      format: "{label} [{bar}] {value}/{total} | {rate} examples/s | loss {loss}",
      stream,
      barsize: 24,
      // A training loop is synchronous and never yields to the timer cli-progress redraws on, so
      // redraws must happen inside update(); fps caps them at 10 per second.
      synchronousUpdate: true,
      fps: 10,
      // Replace the bar by the end-of-epoch line, so each epoch leaves exactly one line behind.
      clearOnComplete: true,
      // Touch no terminal settings (cursor, line wrapping) and install no signal handler: Ctrl-C
      // during a synchronous epoch must still kill the process and leave the terminal as it was.
      // (`linewrap: true` cuts the line at the terminal's width instead of switching wrapping off.)
      hideCursor: false,
      linewrap: true,
      gracefulExit: false,
    });
    bar.start(total, 0, payload());
  } else {
    stream.write(`${label}: ${total} examples\n`);
  }

  return {
    update(d, l) {
      done = d;
      if (l !== undefined) loss = l;
      bar?.update(d, payload());
    },
    stop(summary) {
      const s = seconds();
      const stats: EpochStats = { done, seconds: s, examplesPerSecond: s > 0 ? done / s : Number.NaN, loss };
      if (bar !== undefined) {
        bar.update(done, payload());
        bar.stop();
      }
      let line = `${label}: ${done} examples in ${s.toFixed(2)} s (${formatRate(stats.examplesPerSecond)} examples/s)`;
      if (loss !== undefined) line += `, loss ${formatLoss(loss)}`;
      if (summary !== undefined && summary !== "") line += ` | ${summary}`;
      stream.write(`${line}\n`);
      return stats;
    },
  };
}

/** A progress that draws nothing but still times the epoch (for --quiet). */
export function silentProgress(): Progress {
  const start = performance.now();
  let done = 0;
  return {
    update(d) {
      done = d;
    },
    stop() {
      const seconds = (performance.now() - start) / 1000;
      return { done, seconds, examplesPerSecond: done / seconds, loss: undefined };
    },
  };
}
