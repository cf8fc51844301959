/**
 * The unary operations with the domains their derivatives are tested on (away from kinks and
 * outside domains by construction), shared by the gradient and the agreement tests.
 */
import type { Tensor } from "../src/index.js";
import { type Domain, domains } from "../src/testing/index.js";

export const unaryCases: [name: string, f: (x: Tensor) => Tensor, domain: Domain][] = [
  ["neg", (x) => x.neg(), domains.real],
  ["exp", (x) => x.exp(), domains.real],
  ["log", (x) => x.log(), domains.positive],
  ["sqrt", (x) => x.sqrt(), domains.positive],
  ["abs", (x) => x.abs(), domains.awayFromZero],
  ["tanh", (x) => x.tanh(), domains.real],
  ["sigmoid", (x) => x.sigmoid(), domains.real],
  ["relu", (x) => x.relu(), domains.awayFromZero],
  ["pow 2.5", (x) => x.pow(2.5), domains.positive],
];
