/**
 * @file `pnpm example <name>`: runs one example; `pnpm example --list` lists them.
 */

import { parseArgs } from "node:util";
import { examples } from "./registry.js";

function usage(): string {
  const names = examples.map((e) => `  ${e.name.padEnd(14)} ${e.summary}`).join("\n");
  return `usage: pnpm example <name> [--quick] [--out FILE] [--seed N] [--step K]\n       pnpm example --list\n\nexamples:\n${names}`;
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    console.error(`example: ${(e as Error).message}\n\n${usage()}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(usage());
    return 0;
  }
  if (values.list === true) {
    for (const e of examples) console.log(`${e.name.padEnd(14)} ${e.summary}`);
    return 0;
  }
  const name = positionals[0];
  const example = examples.find((e) => e.name === name);
  if (example === undefined) {
    console.error(`example: ${name === undefined ? "no example named" : `unknown example "${name}"`}\n\n${usage()}`);
    return 2;
  }
  const seed = values.seed === undefined || !/^\d{1,9}$/.test(values.seed) ? undefined : Number(values.seed);
  if (values.seed !== undefined && seed === undefined) {
    console.error(`example: --seed must be a non-negative integer, got "${values.seed}"`);
    return 2;
  }
  const step = values.step === undefined ? undefined : Number(values.step);
  if (step !== undefined && (!Number.isInteger(step) || step < 1)) {
    console.error(`example: --step must be a positive integer, got "${values.step}"`);
    return 2;
  }
  await example.run({
    print: (line) => console.log(line),
    quick: values.quick === true,
    ...(values.out === undefined ? {} : { out: values.out }),
    ...(seed === undefined ? {} : { seed }),
    ...(step === undefined ? {} : { step }),
  });
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      quick: { type: "boolean" },
      out: { type: "string" },
      seed: { type: "string" },
      step: { type: "string" },
    },
  });
}

process.exitCode = await main(process.argv.slice(2));
