import { expect, test } from "vitest";
import { ChainruleError } from "../errors.js";
import { GRAPHVIZ_PACKAGE, layOut } from "./svg.js";

// Graphviz is an optional peer dependency: without it, drawing says what to install. A fresh
// module (one per test file) has no Graphviz loaded yet, so the importer below is really asked.
test("a missing Graphviz package is a ChainruleError that names the package to install", async () => {
  const missing = () =>
    Promise.reject(
      Object.assign(new Error("Cannot find package '@hpcc-js/wasm-graphviz'"), { code: "ERR_MODULE_NOT_FOUND" }),
    );
  const error = await layOut("renderSvg", "digraph { a -> b }", missing).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ChainruleError);
  expect((error as Error).message).toMatch(/^renderSvg: /);
  expect((error as Error).message).toContain(`npm install ${GRAPHVIZ_PACKAGE}`);

  // Another failure (a broken install) is passed on as it is, and nothing is cached: the next
  // call with the real package works.
  const broken = new Error("out of memory");
  await expect(layOut("renderSvg", "digraph { a -> b }", () => Promise.reject(broken))).rejects.toBe(broken);
  const svg = await layOut("renderSvg", "digraph { a -> b }", () => import("@hpcc-js/wasm-graphviz"));
  expect(svg).toContain("<svg");
});
