/**
 * @file `pnpm demo`: the command-line face of the MNIST demo (see mnist-demo.ts; `--model cnn`: cnn-demo.ts).
 */

import { ChainruleError } from "@chainrule/autograd";
import { CNN_DEFAULTS, runCnn } from "./cnn-demo.js";
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
    const io = { print: (l: string) => console.log(l), stream: process.stdout };
    if (options.model === "cnn") {
      const { epochs, batchSize, lr, hidden, seed, dtype, chart, quiet, save, load } = options;
      await runCnn(
        {
          ...CNN_DEFAULTS,
          ...{ epochs, batchSize, lr, hidden, seed, dtype, chart, quiet },
          ...(save === undefined ? {} : { save }),
          ...(load === undefined ? {} : { load }),
        },
        io,
      );
    } else {
      await runDemo(options, io);
    }
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
