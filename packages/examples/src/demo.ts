/**
 * @file `pnpm demo`: the command-line face of the MNIST demo (see mnist-demo.ts).
 */

import { ChainruleError } from "@chainrule/autograd";
import { type DemoOptions, parseDemoArgs, runDemo, USAGE } from "./mnist-demo.js";

async function main(): Promise<number> {
  let options: DemoOptions | "help";
  try {
    options = parseDemoArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`demo: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  try {
    await runDemo(options, { print: (l) => console.log(l), stream: process.stdout });
    return 0;
  } catch (e) {
    if (e instanceof ChainruleError || (e as NodeJS.ErrnoException).code === "ENOENT") {
      console.error(`demo: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main();
