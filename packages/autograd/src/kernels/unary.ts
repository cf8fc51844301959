/**
 * @file Loops of their own for the elementwise math rules: y = f(x) forward, and gx = f′(x, y)·g
 * backward. Each loop below is the same line, written once per op on purpose: V8 inlines a call
 * whose target never varies, so a loop that only ever calls `unary.sin.f` runs sin's arithmetic in
 * place, whereas one loop shared by every rule calls through a site that sees them all, boxing
 * each number it passes and returns (several times the cost of the arithmetic of square or silu).
 * The functions themselves come from rules.ts, so the loops hold no formulas. Imports the
 * FloatArray type of ndarray.ts only.
 */

import type { FloatArray, Storage } from "../ndarray.js";

type Map = (f: (x: number) => number, x: FloatArray, out: FloatArray) => void;
type Grad = (
  df: (x: number, y: number) => number,
  x: FloatArray,
  y: FloatArray,
  g: FloatArray,
  out: FloatArray,
) => void;

// out[i] = f(x[i])
const maps: Record<string, Map> = {
  sin: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  cos: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  tan: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  atan: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  sinh: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  cosh: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  asinh: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  log1p: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  expm1: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  erf: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  square: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  reciprocal: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  rsqrt: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  softplus: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  silu: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  gelu: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  elu: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  logSigmoid: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  floor: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  ceil: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  round: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
  sign: (f, x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  },
};

// out[i] = df(x[i], y[i])·g[i]; the step functions' derivative is 0, so their gradient is 0·g
const grads: Record<string, Grad> = {
  sin: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  cos: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  tan: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  atan: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  sinh: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  cosh: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  asinh: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  log1p: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  expm1: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  erf: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  square: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  reciprocal: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  rsqrt: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  softplus: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  silu: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  gelu: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  elu: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
  logSigmoid: (df, x, y, g, out) => {
    for (let i = 0; i < x.length; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  },
};

/** out[i] = f(x[i]) by the op's own loop; false when the op has none. */
export function mapMath(op: string, f: (x: number) => number, x: Storage, out: Storage): boolean {
  const loop = maps[op];
  if (loop === undefined) return false;
  loop(f, x as FloatArray, out as FloatArray); // the loops read any typed array alike

  return true;
}

/** out[i] = df(x[i], y[i])·g[i] by the op's own loop; false when the op has none. */
export function gradMath(
  op: string,
  df: (x: number, y: number) => number,
  x: Storage,
  y: Storage,
  g: Storage,
  out: Storage,
): boolean {
  const loop = grads[op];
  if (loop === undefined) return false;
  loop(df, x as FloatArray, y as FloatArray, g as FloatArray, out as FloatArray);
  return true;
}
