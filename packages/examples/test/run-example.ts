/**
 * Runs one example in its quick mode and keeps what it prints: the tests' way in.
 */
import type { ExampleOptions } from "../src/examples/types.js";
import { examples } from "../src/registry.js";

export async function runExample(name: string, options: Partial<ExampleOptions> = {}) {
  const example = examples.find((e) => e.name === name);
  if (example === undefined) throw new Error(`no example ${name}`);
  const lines: string[] = [];
  const result = await example.run({ print: (l) => lines.push(l), quick: true, ...options });
  return { lines, text: lines.join("\n"), result };
}
