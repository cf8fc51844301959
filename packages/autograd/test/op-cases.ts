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
  ["sin", (x) => x.sin(), domains.real],
  ["cos", (x) => x.cos(), domains.real],
  ["tan", (x) => x.tan(), { min: -1.2, max: 1.2 }],
  ["atan", (x) => x.atan(), domains.real],
  ["sinh", (x) => x.sinh(), domains.real],
  ["cosh", (x) => x.cosh(), domains.real],
  ["asinh", (x) => x.asinh(), domains.real],
  ["log1p", (x) => x.log1p(), { min: -0.9, max: 3 }],
  ["expm1", (x) => x.expm1(), domains.real],
  ["erf", (x) => x.erf(), domains.real],
  ["square", (x) => x.square(), domains.real],
  ["reciprocal", (x) => x.reciprocal(), { min: -3, max: 3, avoid: [0], margin: 0.3 }],
  ["rsqrt", (x) => x.rsqrt(), domains.positive],
  ["softplus", (x) => x.softplus(), { min: -5, max: 25, avoid: [20], margin: 0.1 }],
  ["silu", (x) => x.silu(), domains.real],
  ["gelu", (x) => x.gelu(), domains.real],
  ["gelu tanh", (x) => x.gelu({ approximate: "tanh" }), domains.real],
  ["elu", (x) => x.elu(), domains.awayFromZero],
  ["logSigmoid", (x) => x.logSigmoid(), { min: -10, max: 10 }],
  ["floor", (x) => x.floor(), { min: -3, max: 3, avoid: [-3, -2, -1, 0, 1, 2, 3], margin: 0.05 }],
  ["ceil", (x) => x.ceil(), { min: -3, max: 3, avoid: [-3, -2, -1, 0, 1, 2, 3], margin: 0.05 }],
  ["round", (x) => x.round(), { min: -3, max: 3, avoid: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], margin: 0.05 }],
  ["sign", (x) => x.sign(), domains.awayFromZero],
];
