import { expect, test } from "vitest";
import { ChainruleError } from "../errors.js";
import { workerThreads } from "./worker-threads-browser.js";

// Bundlers for the browser pick this module for "#worker-threads" (package.json's "browser" condition).
test("in a browser, asking for the kernels' threads says what to do instead", async () => {
  await expect(workerThreads()).rejects.toBeInstanceOf(ChainruleError);
  await expect(workerThreads()).rejects.toThrow("setGemmThreads: threads need Node's worker_threads");
});
