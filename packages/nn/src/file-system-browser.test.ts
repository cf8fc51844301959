import { ChainruleError } from "@chainrule/autograd";
import { expect, test } from "vitest";
import { fileSystem } from "./file-system-browser.js";

// Bundlers for the browser pick this module for "#file-system" (package.json's "browser" condition).
test("in a browser, functions that take a path explain that a page works with bytes", async () => {
  const failure = fileSystem("saveModel");
  await expect(failure).rejects.toBeInstanceOf(ChainruleError);
  await expect(fileSystem("loadModel")).rejects.toThrow(
    /^loadModel: reading and writing files by path needs Node; in a browser use the bytes instead: encodeModel/,
  );
});
