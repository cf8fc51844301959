/**
 * @file The Dropout layer (PyTorch's nn.Dropout): in training mode each element is zeroed with
 * probability p and the rest scaled by 1/(1 − p); in evaluation mode (`eval()`) it is the
 * identity. The masks come from the layer's own seeded generator, so a seed reproduces a run.
 * Imports module.ts and the public API of @chainrule/autograd.
 */

import { ChainruleError, dropout, type Random, Tensor } from "@chainrule/autograd";
import { describe, Module, type ModuleConfig, pythonFloat } from "./module.js";

/** Options of `Dropout`. */
export interface DropoutOptions {
  /** The seeded generator the masks are drawn from (required for p > 0: no hidden global state). */
  random?: Random;
}

/**
 * y = x·m, m = 0 with probability p, else 1/(1 − p) (training); y = x (evaluation).
 *
 * @example
 * const drop = new Dropout(0.5, { random: new Random(0) });
 * drop.forward(x);        // training: a new mask at every call
 * drop.eval().forward(x); // x itself
 */
export class Dropout extends Module {
  /** The probability of zeroing an element in training. */
  readonly p: number;
  private readonly random: Random | undefined;

  constructor(p = 0.5, options: DropoutOptions = {}) {
    super();
    if (typeof p !== "number" || !(p >= 0 && p < 1)) {
      throw new ChainruleError("Dropout", `p must be a probability in [0, 1), got ${describe(p)}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new ChainruleError("Dropout", `options must be an object, got ${describe(options)}`);
    }
    if (p > 0 && typeof (options.random as Partial<Random> | undefined)?.next !== "function") {
      throw new ChainruleError(
        "Dropout",
        "options.random must be a seeded generator (new Random(seed)): the masks are drawn from it",
      );
    }
    this.p = p;
    this.random = options.random;
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new ChainruleError("Dropout", `the input must be a Tensor, got ${describe(x)}`);
    return dropout(x, this.p, {
      training: this.training,
      ...(this.random === undefined ? {} : { random: this.random }),
    });
  }

  override repr(): string {
    return `${this.config().type}(p=${pythonFloat(this.p)}, inplace=False)`;
  }

  override config(): ModuleConfig {
    return { type: "Dropout", p: this.p };
  }
}
