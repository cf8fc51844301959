/**
 * @file The entry point of a child process: run one case, write its result and this process's
 * own peak RSS to the file the parent named. Used by suite.ts; not a command for people.
 * Imports cases.ts, suite.ts.
 *
 *   node --expose-gc dist/child.js <case id> '{"quick":false,"samples":null}' <result file>
 */

import { writeFileSync } from "node:fs";
import { caseById } from "./cases.js";
import { runCaseHere } from "./suite.js";

const [id, optionsJson, resultFile] = process.argv.slice(2);
if (id === undefined || optionsJson === undefined || resultFile === undefined) {
  process.stderr.write("usage: child.js <case id> <options JSON> <result file>\n");
  process.exit(2);
}
const { quick, samples } = JSON.parse(optionsJson) as { quick: boolean; samples: number | null };
const result = await runCaseHere(caseById(id), {
  quick,
  samples,
  log: (line) => process.stderr.write(`${line}\n`),
});
// process.resourceUsage().maxRSS is in KB: the fallback when /usr/bin/time is not installed.
writeFileSync(resultFile, JSON.stringify({ result, maxRssKB: process.resourceUsage().maxRSS }));
// TF.js keeps handles open; the result is written, so end here.
process.exit(0);
