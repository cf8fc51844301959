/**
 * @file The Embedding layer (PyTorch's nn.Embedding): a table of `numEmbeddings` vectors of
 * `embeddingDim` numbers, looked up by integer id; the gradient goes to the rows used (see
 * autograd's `embedding`). The table starts N(0, 1), PyTorch's initialization, drawn from a
 * seeded generator. Imports module.ts, init.ts and the public API of @chainrule/autograd.
 */

import {
  ChainruleError,
  type EmbeddingIds,
  embedding,
  type Random,
  type Tensor,
  type TensorDtype,
  zeros,
} from "@chainrule/autograd";
import { normal_ } from "./init.js";
import { describe, Module, type ModuleConfig, parameter } from "./module.js";

/** Options of `Embedding`. */
export interface EmbeddingOptions {
  /** The seeded generator the table is drawn from (required). */
  random: Random;
  /** float64 (default) or float32. */
  dtype?: TensorDtype;
}

/**
 * ids of shape S → vectors [...S, embeddingDim]: row ids[i] of the table for each id.
 *
 * @example
 * const emb = new Embedding(1000, 64, { random: new Random(0) });
 * emb.forward([[5, 17, 17]]).shape; // [1, 3, 64]
 */
export class Embedding extends Module {
  /** The table [numEmbeddings, embeddingDim], N(0, 1) at first. */
  readonly weight: Tensor;
  /** How many rows (ids) the table has. */
  readonly numEmbeddings: number;
  /** The length of each row. */
  readonly embeddingDim: number;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions) {
    super();
    for (const [name, v] of [
      ["numEmbeddings", numEmbeddings],
      ["embeddingDim", embeddingDim],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new ChainruleError("Embedding", `${name} must be a positive integer, got ${describe(v)}`);
      }
    }
    if (typeof (options?.random as Partial<Random> | undefined)?.next !== "function") {
      throw new ChainruleError(
        "Embedding",
        "options.random must be a seeded generator (new Random(seed)): the table is drawn from it",
      );
    }
    const dtype = options.dtype ?? "float64";
    if (dtype !== "float64" && dtype !== "float32") {
      throw new ChainruleError("Embedding", `dtype must be "float64" or "float32", got ${describe(dtype)}`);
    }
    const weight = zeros([numEmbeddings, embeddingDim], { dtype });
    normal_(weight, options.random);
    this.weight = parameter(weight, "weight");
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
  }

  forward(ids: EmbeddingIds): Tensor {
    return embedding(ids, this.weight);
  }

  override repr(): string {
    return `${this.config().type}(${this.numEmbeddings}, ${this.embeddingDim})`;
  }

  override config(): ModuleConfig {
    return {
      type: "Embedding",
      numEmbeddings: this.numEmbeddings,
      embeddingDim: this.embeddingDim,
      dtype: this.weight.dtype,
    };
  }
}
