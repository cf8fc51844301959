/**
 * @file The browser's stand-in for worker-threads.ts: the kernels' threads are Node worker
 * threads, so in a browser setGemmThreads says so (a page can run its training in a Web Worker
 * instead). Imports errors.ts.
 */

import { ChainruleError } from "../errors.js";

export async function workerThreads(): Promise<unknown> {
  throw new ChainruleError("setGemmThreads", "threads need Node's worker_threads; in a browser, train in a Web Worker");
}
