/**
 * @file Pooling layers and Flatten, parameterless modules over autograd's maxPool2d, avgPool2d,
 * adaptiveAvgPool2d and Tensor.flatten, with PyTorch's defaults (stride = kernel size) and repr.
 * Imports module.ts and the public API of @chainrule/autograd.
 */

import {
  adaptiveAvgPool2d,
  avgPool2d,
  ChainruleError,
  maxPool2d,
  type SizeArg,
  type Tensor,
} from "@chainrule/autograd";
import { Module, type ModuleConfig, optionsObject } from "./module.js";

/** Python's repr of an int or a tuple: 2, (2, 3), (None, 7). */
function py(v: SizeArg | readonly (number | null)[]): string {
  if (typeof v === "number") return String(v);
  return `(${v.map((e) => (e === null ? "None" : String(e))).join(", ")})`;
}

/** Options of MaxPool2d. */
export interface MaxPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: SizeArg;
  /** −∞ padding on both sides, at most half the kernel (default 0). */
  padding?: SizeArg;
  /** Spacing between the window's taps (default 1). */
  dilation?: SizeArg;
}

/**
 * 2-D max pooling: [N, C, H, W] → [N, C, oH, oW], the largest element of each window.
 *
 * @example
 * new MaxPool2d(2).forward(x); // [N, 6, 24, 24] → [N, 6, 12, 12]
 */
export class MaxPool2d extends Module {
  /** The window's size. */
  readonly kernelSize: SizeArg;
  /** The step between windows (default: the kernel size). */
  readonly stride: SizeArg;
  /** Padding on both sides of each spatial axis. */
  readonly padding: SizeArg;
  /** The spacing between window elements. */
  readonly dilation: SizeArg;

  constructor(kernelSize: SizeArg, options: MaxPool2dOptions = {}) {
    super();
    options = optionsObject("MaxPool2d", options);
    this.kernelSize = kernelSize;
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }

  override config(): ModuleConfig {
    return {
      type: "MaxPool2d",
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    };
  }

  override repr(): string {
    return `MaxPool2d(kernel_size=${py(this.kernelSize)}, stride=${py(this.stride)}, padding=${py(this.padding)}, dilation=${py(this.dilation)}, ceil_mode=False)`;
  }
}

/** Options of AvgPool2d. */
export interface AvgPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: SizeArg;
  /** Zero padding on both sides, at most half the kernel (default 0). */
  padding?: SizeArg;
  /** Whether padded zeros count in the divisor (default true). */
  countIncludePad?: boolean;
}

/**
 * 2-D average pooling: [N, C, H, W] → [N, C, oH, oW], the mean of each window.
 *
 * @example
 * new AvgPool2d(2).forward(x); // [N, 6, 24, 24] → [N, 6, 12, 12]
 */
export class AvgPool2d extends Module {
  /** The window's size. */
  readonly kernelSize: SizeArg;
  /** The step between windows (default: the kernel size). */
  readonly stride: SizeArg;
  /** Padding on both sides of each spatial axis. */
  readonly padding: SizeArg;
  /** Whether padded zeros count in each average's divisor. */
  readonly countIncludePad: boolean;

  constructor(kernelSize: SizeArg, options: AvgPool2dOptions = {}) {
    super();
    options = optionsObject("AvgPool2d", options);
    this.kernelSize = kernelSize;
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.countIncludePad = options.countIncludePad ?? true;
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      countIncludePad: this.countIncludePad,
    });
  }

  override config(): ModuleConfig {
    return {
      type: "AvgPool2d",
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      countIncludePad: this.countIncludePad,
    };
  }

  override repr(): string {
    return `AvgPool2d(kernel_size=${py(this.kernelSize)}, stride=${py(this.stride)}, padding=${py(this.padding)})`;
  }
}

/**
 * 2-D adaptive average pooling to a fixed output size, whatever the input's.
 *
 * @example
 * new AdaptiveAvgPool2d(1).forward(x); // [N, 16, 5, 7] → [N, 16, 1, 1]
 */
export class AdaptiveAvgPool2d extends Module {
  /** The output's height and width (null: the input's). */
  readonly outputSize: number | readonly (number | null)[];

  constructor(outputSize: number | readonly (number | null)[]) {
    super();
    this.outputSize = outputSize;
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  override config(): ModuleConfig {
    return { type: "AdaptiveAvgPool2d", outputSize: this.outputSize as ModuleConfig[string] };
  }

  override repr(): string {
    return `AdaptiveAvgPool2d(output_size=${py(this.outputSize)})`;
  }
}

/**
 * Flatten axes startDim … endDim into one (default: everything after the batch axis).
 *
 * @example
 * new Flatten().forward(x); // [N, 16, 4, 4] → [N, 256]
 */
export class Flatten extends Module {
  /** The first axis flattened. */
  readonly startDim: number;
  /** The last axis flattened. */
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    for (const [name, v] of [
      ["startDim", startDim],
      ["endDim", endDim],
    ] as const) {
      if (!Number.isInteger(v)) throw new ChainruleError("Flatten", `${name} must be an integer, got ${String(v)}`);
    }
    this.startDim = startDim;
    this.endDim = endDim;
  }

  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override config(): ModuleConfig {
    return { type: "Flatten", startDim: this.startDim, endDim: this.endDim };
  }

  override repr(): string {
    return `Flatten(start_dim=${this.startDim}, end_dim=${this.endDim})`;
  }
}
