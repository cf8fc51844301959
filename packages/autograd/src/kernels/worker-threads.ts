/**
 * @file node:worker_threads, for the threads of the matrix kernels (matmul.ts's setGemmThreads),
 * imported only when threads are asked for. Browsers get worker-threads-browser.ts instead
 * (package.json's "imports" map, condition "browser"), so web bundles never see a Node module.
 */

export async function workerThreads(): Promise<unknown> {
  return import("node:worker_threads");
}
