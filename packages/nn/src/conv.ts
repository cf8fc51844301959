/**
 * @file Convolution layers: Conv1d, Conv2d and ConvTranspose2d, with PyTorch's layouts (inputs
 * [N, C, …], weights [out, in/groups, k…], transposed weights [in, out/groups, k…]), parameter
 * names (`weight`, `bias`), default initialisation and repr. The arithmetic and its derivative
 * are autograd's conv1d / conv2d / convTranspose2d. Imports module.ts, init.ts and the public API
 * of @chainrule/autograd.
 *
 * Initialisation (PyTorch's reset_parameters): weight ~ kaiming_uniform(a = √5), whose bound
 * gain·√(3/fanIn) with gain = √(2/(1 + 5)) is exactly 1/√fanIn, then bias ~ U(−1/√fanIn, 1/√fanIn),
 * where fanIn = weight.shape[1]·(kernel size): (in/groups)·k for a convolution and, as PyTorch
 * computes it from the stored weight, (out/groups)·k for a transposed one.
 */

import {
  ChainruleError,
  type ConvOptions,
  conv1d,
  conv2d,
  convTranspose2d,
  type Random,
  type SizeArg,
  type Tensor,
  type TensorDtype,
  zeros,
} from "@chainrule/autograd";
import { fans, symmetricUniform_ } from "./init.js";
import { describe, Module, type ModuleConfig, optionsObject, parameter } from "./module.js";

/** Options of the convolution layers. */
export interface ConvLayerOptions {
  /** The seeded generator the initial weights are drawn from (required: no hidden global state). */
  random: Random;
  /** Step between windows (default 1). */
  stride?: SizeArg;
  /** Zeros added on both sides of each spatial axis (default 0), or "same" / "valid". */
  padding?: SizeArg | "same" | "valid";
  /** Spacing between the kernel's taps (default 1). */
  dilation?: SizeArg;
  /** Independent groups of channels (default 1). */
  groups?: number;
  /** Whether to add a bias per output channel (default true). */
  bias?: boolean;
  /** float64 (default) or float32. */
  dtype?: TensorDtype;
}

/** Options of ConvTranspose2d. */
export interface ConvTransposeLayerOptions extends Omit<ConvLayerOptions, "padding"> {
  /** The padding of the convolution this layer transposes (default 0). */
  padding?: SizeArg;
  /** Extra rows and columns on one side of the output (default 0). */
  outputPadding?: SizeArg;
}

/** A per-axis tuple from a number or an array, as PyTorch's _pair / _single (checked by the op at use). */
function tuple(v: SizeArg, rank: number): number[] {
  return typeof v === "number" ? new Array<number>(rank).fill(v) : [...v];
}

/** Python's tuple repr: (5, 5) or (3,). */
function pyTuple(v: readonly number[]): string {
  return v.length === 1 ? `(${v[0]},)` : `(${v.join(", ")})`;
}

/** What every convolution layer shares: channels, kernel, options, the parameters and their initialisation. */
abstract class ConvBase extends Module {
  /** The kernel weights: [out, in/groups, k…] (ConvTranspose2d: [in, out/groups, k…]). */
  readonly weight: Tensor;
  /** One bias per output channel, or null. */
  readonly bias: Tensor | null;
  /** The input channels C. */
  readonly inChannels: number;
  /** The output channels O. */
  readonly outChannels: number;
  /** The kernel's size along each spatial axis. */
  readonly kernelSize: number[];
  /** The step between windows along each spatial axis. */
  readonly stride: number[];
  /** Zeros added on both sides of each spatial axis, or "same"/"valid". */
  readonly padding: number[] | "same" | "valid";
  /** The spacing between kernel elements along each spatial axis. */
  readonly dilation: number[];
  /** Channel groups: each output channel sees C/groups input channels. */
  readonly groups: number;

  constructor(
    op: string,
    inChannels: number,
    outChannels: number,
    kernelSize: SizeArg,
    rank: number,
    options: ConvLayerOptions | ConvTransposeLayerOptions,
    transposed: boolean,
  ) {
    super();
    for (const [name, v] of [
      ["inChannels", inChannels],
      ["outChannels", outChannels],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new ChainruleError(op, `${name} must be a positive integer, got ${String(v)}`);
    }
    options = optionsObject(op, options);
    if (typeof (options.random as Partial<Random> | undefined)?.next !== "function") {
      throw new ChainruleError(
        op,
        "options.random must be a seeded generator (new Random(seed)): initial weights are always drawn from one",
      );
    }
    const kernel = tuple(kernelSize, rank);
    if (kernel.length !== rank || !kernel.every((k) => Number.isInteger(k) && k >= 1)) {
      throw new ChainruleError(
        op,
        `kernelSize must be a positive integer or an array of ${rank} positive integers, got ${JSON.stringify(kernelSize)}`,
      );
    }
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ChainruleError(
        op,
        `groups must be a positive integer dividing inChannels (${inChannels}) and outChannels (${outChannels}), got ${describe(groups)}`,
      );
    }
    const dtype = options.dtype ?? "float64";
    if (dtype !== "float64" && dtype !== "float32") {
      throw new ChainruleError(op, `dtype must be "float64" or "float32", got ${JSON.stringify(dtype)}`);
    }
    const shape = transposed
      ? [inChannels, outChannels / groups, ...kernel]
      : [outChannels, inChannels / groups, ...kernel];
    const weight = zeros(shape, { dtype });
    const bias = (options.bias ?? true) ? zeros([outChannels], { dtype }) : null;
    const bound = 1 / Math.sqrt(fans(shape).fanIn); // kaiming_uniform(a = √5) and the bias's bound alike
    symmetricUniform_(weight, options.random, bound);
    if (bias !== null) symmetricUniform_(bias, options.random, bound);
    this.weight = parameter(weight, "weight");
    this.bias = bias === null ? null : parameter(bias, "bias");
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernel;
    this.stride = tuple(options.stride ?? 1, rank);
    const padding = options.padding ?? 0;
    this.padding = padding === "same" || padding === "valid" ? padding : tuple(padding, rank);
    this.dilation = tuple(options.dilation ?? 1, rank);
    this.groups = groups;
  }

  /** The options passed to the op on every call. */
  protected convOptions(): ConvOptions {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }

  override config(): ModuleConfig {
    return {
      type: this.constructor.name,
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      bias: this.bias !== null,
      dtype: this.weight.dtype,
    };
  }

  /** PyTorch's repr: `Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))`, then the settings that differ from the defaults. */
  protected reprWith(extra: string[]): string {
    const parts = [
      `${this.inChannels}, ${this.outChannels}`,
      `kernel_size=${pyTuple(this.kernelSize)}`,
      `stride=${pyTuple(this.stride)}`,
    ];
    if (typeof this.padding === "string") parts.push(`padding=${this.padding}`);
    else if (this.padding.some((p) => p !== 0)) parts.push(`padding=${pyTuple(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pyTuple(this.dilation)}`);
    parts.push(...extra);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push("bias=False");
    return `${this.constructor.name}(${parts.join(", ")})`;
  }

  override repr(): string {
    return this.reprWith([]);
  }
}

/**
 * 1-D convolution: x [N, in, W] (or [in, W]) → [N, out, oW].
 *
 * @example
 * const conv = new Conv1d(3, 8, 5, { random: new Random(0), padding: 2 });
 * conv.forward(x); // [N, 3, 100] → [N, 8, 100]
 */
export class Conv1d extends ConvBase {
  constructor(inChannels: number, outChannels: number, kernelSize: SizeArg, options: ConvLayerOptions) {
    super("Conv1d", inChannels, outChannels, kernelSize, 1, options, false);
  }

  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, this.convOptions());
  }
}

/**
 * 2-D convolution: x [N, in, H, W] (or [in, H, W]) → [N, out, oH, oW].
 *
 * @example
 * const conv = new Conv2d(1, 6, 5, { random: new Random(0) });
 * conv.forward(x); // [N, 1, 28, 28] → [N, 6, 24, 24]
 * String(conv); // "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
 */
export class Conv2d extends ConvBase {
  constructor(inChannels: number, outChannels: number, kernelSize: SizeArg, options: ConvLayerOptions) {
    super("Conv2d", inChannels, outChannels, kernelSize, 2, options, false);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.convOptions());
  }
}

/**
 * 2-D transposed convolution (an upsampling layer): x [N, in, H, W] → [N, out, oH, oW] with
 * oH = (H − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 *
 * @example
 * const up = new ConvTranspose2d(16, 8, 4, { random: new Random(0), stride: 2, padding: 1 });
 * up.forward(x); // [N, 16, 7, 7] → [N, 8, 14, 14]
 */
export class ConvTranspose2d extends ConvBase {
  /** Extra size added on one side of each output axis (to pick among the input sizes a stride maps to one size). */
  readonly outputPadding: number[];

  constructor(inChannels: number, outChannels: number, kernelSize: SizeArg, options: ConvTransposeLayerOptions) {
    super("ConvTranspose2d", inChannels, outChannels, kernelSize, 2, options, true);
    const padding = (options as { padding?: unknown }).padding;
    if (typeof padding === "string") {
      throw new ChainruleError(
        "ConvTranspose2d",
        `padding must be a number or an array of 2, got ${JSON.stringify(padding)}`,
      );
    }
    this.outputPadding = tuple(options.outputPadding ?? 0, 2);
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding as number[],
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  /** The layer's sizes and options, for files and `toString`. */
  override config(): ModuleConfig {
    return { ...super.config(), outputPadding: this.outputPadding };
  }

  /** PyTorch's repr, e.g. `ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2))`. */
  override repr(): string {
    return this.reprWith(
      this.outputPadding.some((p) => p !== 0) ? [`output_padding=${pyTuple(this.outputPadding)}`] : [],
    );
  }
}
