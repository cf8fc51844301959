/**
 * Convolutions and pooling: values against direct loops written from the definitions (random
 * strides, paddings, dilations, groups, odd sizes), gradients against central finite differences
 * (first order everywhere, second order for the convolutions and average pooling), the fused
 * backward pass against the composed one, hand-computed cases, and every error.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  adaptiveAvgPool2d,
  avgPool2d,
  ChainruleError,
  conv1d,
  conv2d,
  convTranspose2d,
  gradcheck,
  maxPool2d,
  Random,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "../src/index.js";
import { checkGradients, tensorArb } from "../src/testing/index.js";

// ---- direct loops: the definitions, for reference ----

/** y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v]·x[n, g·C/G + c, i·s − p + u·d, j·s − p + v·d] */
function naiveConv2d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  stride: number[],
  padBefore: number[],
  dilation: number[],
  groups: number,
  outSize: number[],
): number[] {
  const [n, c, h, wd] = x.shape as number[];
  const [o, cg, kh, kw] = w.shape as number[];
  const og = (o as number) / groups;
  const [oh, ow] = outSize as [number, number];
  const out: number[] = [];
  for (let e = 0; e < (n as number); e++)
    for (let oc = 0; oc < (o as number); oc++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = b === null ? 0 : (b.data[oc] as number);
          const grp = Math.floor(oc / og);
          for (let ci = 0; ci < (cg as number); ci++)
            for (let u = 0; u < (kh as number); u++)
              for (let v = 0; v < (kw as number); v++) {
                const y = i * (stride[0] as number) - (padBefore[0] as number) + u * (dilation[0] as number);
                const xx = j * (stride[1] as number) - (padBefore[1] as number) + v * (dilation[1] as number);
                if (y < 0 || y >= (h as number) || xx < 0 || xx >= (wd as number)) continue;
                const ch = grp * (cg as number) + ci;
                s +=
                  (w.data[((oc * (cg as number) + ci) * (kh as number) + u) * (kw as number) + v] as number) *
                  (x.data[((e * (c as number) + ch) * (h as number) + y) * (wd as number) + xx] as number);
              }
          out.push(s);
        }
  return out;
}

const close = (got: Tensor, want: number[], tol = 1e-12) => {
  expect(got.size).toBe(want.length);
  want.forEach((v, i) => {
    if (v === got.data[i]) return; // equal infinities
    expect(Math.abs((got.data[i] as number) - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v)));
  });
};

/** Random conv2d settings with a valid geometry: sizes, stride, padding, dilation, groups. */
const conv2dCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 2 }),
    og: fc.integer({ min: 1, max: 2 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    extraH: fc.integer({ min: 0, max: 3 }),
    extraW: fc.integer({ min: 0, max: 3 }),
    bias: fc.boolean(),
  })
  .chain((p) => {
    // the smallest input the padded kernel fits, plus a little
    const h = Math.max(1, p.dh * (p.kh - 1) + 1 - 2 * p.ph) + p.extraH;
    const w = Math.max(1, p.dw * (p.kw - 1) + 1 - 2 * p.pw) + p.extraW;
    const c = p.groups * p.cg;
    const o = p.groups * p.og;
    return fc
      .tuple(tensorArb([p.n, c, h, w]), tensorArb([o, p.cg, p.kh, p.kw]), p.bias ? tensorArb([o]) : fc.constant(null))
      .map(([x, wt, b]) => ({ ...p, x, w: wt, b }));
  });

describe("conv2d", () => {
  test("equals the direct loops (random strides, paddings, dilations, groups)", () => {
    fc.assert(
      fc.property(conv2dCase, (p) => {
        const y = conv2d(p.x, p.w, p.b, {
          stride: [p.sh, p.sw],
          padding: [p.ph, p.pw],
          dilation: [p.dh, p.dw],
          groups: p.groups,
        });
        const [, , h, w] = p.x.shape as number[];
        const oh = Math.floor(((h as number) + 2 * p.ph - p.dh * (p.kh - 1) - 1) / p.sh) + 1;
        const ow = Math.floor(((w as number) + 2 * p.pw - p.dw * (p.kw - 1) - 1) / p.sw) + 1;
        expect(y.shape).toEqual([p.n, p.groups * p.og, oh, ow]);
        close(y, naiveConv2d(p.x, p.w, p.b, [p.sh, p.sw], [p.ph, p.pw], [p.dh, p.dw], p.groups, [oh, ow]));
      }),
      { numRuns: 60 },
    );
  });

  test("gradients and second derivatives against finite differences", () => {
    checkGradients(
      (x: Tensor, w: Tensor) =>
        conv2d(x, w, null, { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2 })
          .pow(2)
          .sum(),
      fc.tuple(tensorArb([2, 4, 5, 6]), tensorArb([2, 2, 2, 2])),
      { gradgrad: true, numRuns: 4 },
    );
    checkGradients(
      (x: Tensor, w: Tensor, b: Tensor) => conv2d(x, w, b, { padding: "same" }).tanh(),
      fc.tuple(tensorArb([1, 2, 4, 3]), tensorArb([3, 2, 2, 3]), tensorArb([3])),
      { gradgrad: true, numRuns: 4 },
    );
  });

  test("first derivatives over random geometries", () => {
    fc.assert(
      fc.property(conv2dCase, (p) => {
        const options = { stride: [p.sh, p.sw], padding: [p.ph, p.pw], dilation: [p.dh, p.dw], groups: p.groups };
        const inputs = p.b === null ? [p.x, p.w] : [p.x, p.w, p.b];
        const report = gradcheck(
          (...t: Tensor[]) => conv2d(t[0] as Tensor, t[1] as Tensor, t[2] ?? null, options).tanh(),
          inputs,
        );
        if (!report.ok) throw new Error(report.toString());
      }),
      { numRuns: 25 },
    );
  });

  test("a plain backward pass (fused, reusing the packing) equals the recorded one", () => {
    const r = new Random(3);
    const x = randn([3, 4, 7, 6], r, { requiresGrad: true });
    const w = randn([6, 2, 3, 2], r, { requiresGrad: true });
    const f = () => conv2d(x, w, null, { stride: 2, padding: 1, groups: 2 }).pow(2).sum();
    f().backward();
    const plain = [x.grad as Tensor, w.grad as Tensor];
    x.zeroGrad();
    w.zeroGrad();
    f().backward(undefined, { createGraph: true });
    close(x.grad as unknown as Tensor, [...plain[0]!.data]);
    close(w.grad as unknown as Tensor, [...plain[1]!.data]);
  });

  test("an unbatched input [C, H, W] is a batch of one; float32 stays float32", () => {
    const r = new Random(1);
    const x = randn([2, 5, 5], r);
    const w = randn([3, 2, 3, 3], r);
    const y = conv2d(x, w);
    expect(y.shape).toEqual([3, 3, 3]);
    close(y, [...conv2d(x.unsqueeze(0), w).data]);
    const y32 = conv2d(x.astype("float32"), w.astype("float32"));
    expect(y32.dtype).toBe("float32");
    close(y32, [...y.data], 1e-5);
  });

  test("a hand-computed case: a 2×2 kernel of ones sums each window", () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3] });
    const y = conv2d(x, tensor([1, 1, 1, 1], { shape: [1, 1, 2, 2] }), tensor([10]));
    expect(y.toArray()).toEqual([
      [
        [
          [22, 26],
          [34, 38],
        ],
      ],
    ]);
  });

  test('padding "same": odd total padding goes to the right and bottom', () => {
    const x = tensor([1, 2, 3, 4], { shape: [1, 1, 1, 4] });
    // kernel [1, 2]: total padding 1 along the width, all of it after: y[j] = x[j]·1 + x[j+1]·10
    const y = conv2d(x, tensor([1, 10], { shape: [1, 1, 1, 2] }), null, { padding: "same" });
    expect(y.toArray()).toEqual([[[[21, 32, 43, 4]]]]);
  });
});

describe("conv1d", () => {
  test("equals conv2d on a height-1 image, with bias, stride, padding, dilation, groups", () => {
    const r = new Random(5);
    const x = randn([2, 4, 11], r);
    const w = randn([6, 2, 3], r);
    const b = randn([6], r);
    const options = { stride: 2, padding: 2, dilation: 2, groups: 2 };
    const y = conv1d(x, w, b, options);
    const y2 = conv2d(x.unsqueeze(2), w.unsqueeze(2), b, {
      ...options,
      stride: [1, 2],
      padding: [0, 2],
      dilation: [1, 2],
    });
    expect(y.shape).toEqual([2, 6, 6]); // ⌊(11 + 4 − 2·2 − 1)/2⌋ + 1
    close(y, [...y2.data]);
  });

  test("equals the direct loops over random geometries (a 1-D signal is an image of height 1)", () => {
    fc.assert(
      fc.property(
        conv2dCase.filter((p) => p.kh === 1 && p.x.shape[2] === 1),
        (p) => {
          const x = p.x.squeeze(2);
          const w = p.w.squeeze(2);
          const y = conv1d(x, w, p.b, { stride: p.sw, padding: p.pw, dilation: p.dw, groups: p.groups });
          const [, , len] = x.shape as number[];
          const ow = Math.floor(((len as number) + 2 * p.pw - p.dw * (p.kw - 1) - 1) / p.sw) + 1;
          expect(y.shape).toEqual([p.n, p.groups * p.og, ow]);
          close(y, naiveConv2d(p.x, p.w, p.b, [1, p.sw], [0, p.pw], [1, p.dw], p.groups, [1, ow]));
        },
      ),
      { numRuns: 25 },
    );
  });

  test("gradients and second derivatives against finite differences", () => {
    checkGradients(
      (x: Tensor, w: Tensor, b: Tensor) => conv1d(x, w, b, { stride: 2, padding: "valid", dilation: 2 }).tanh(),
      fc.tuple(tensorArb([2, 2, 7]), tensorArb([3, 2, 2]), tensorArb([3])),
      { gradgrad: true, numRuns: 4 },
    );
  });
});

describe("convTranspose2d", () => {
  test("is the adjoint of conv2d: ⟨convTranspose(y, w), x⟩ = ⟨y, conv(x, w)⟩", () => {
    fc.assert(
      fc.property(conv2dCase, (p) => {
        const options = { stride: [p.sh, p.sw], padding: [p.ph, p.pw], dilation: [p.dh, p.dw], groups: p.groups };
        const y = conv2d(p.x, p.w, null, options);
        const [, , h, w] = p.x.shape as number[];
        // The output padding that brings the transposed size back to the input's.
        const outputPadding = [0, 1].map((i) => {
          const n = [h, w][i] as number;
          const s = options.stride[i] as number;
          const k = [p.kh, p.kw][i] as number;
          const d = options.dilation[i] as number;
          return n - ((y.shape[2 + i] as number) - 1) * s + 2 * (options.padding[i] as number) - d * (k - 1) - 1;
        });
        if (outputPadding.some((v, i) => v >= (options.stride[i] as number) && v >= (options.dilation[i] as number)))
          return;
        const ybar = y.mul(0).add(y.tanh());
        const z = convTranspose2d(ybar, p.w, null, { ...options, outputPadding });
        expect(z.shape).toEqual(p.x.shape);
        const lhs = z.mul(p.x).sum().item();
        const rhs = ybar.mul(y).sum().item();
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * (1 + Math.abs(rhs)));
      }),
      { numRuns: 60 },
    );
  });

  test("first derivatives over random geometries", () => {
    fc.assert(
      fc.property(conv2dCase, fc.integer({ min: 0, max: 1 }), (p, extra) => {
        // the transposed convolution of an input shaped like conv2d's output
        const options = { stride: [p.sh, p.sw], padding: [p.ph, p.pw], dilation: [p.dh, p.dw], groups: p.groups };
        const y = conv2d(p.x, p.w, null, options);
        const outputPadding = [0, 1].map((i) =>
          extra < Math.max(options.stride[i] as number, options.dilation[i] as number) ? extra : 0,
        );
        // (padding larger than the transposed output would be is refused: see the errors below)
        const size = [0, 1].map(
          (i) =>
            ((y.shape[2 + i] as number) - 1) * (options.stride[i] as number) -
            2 * (options.padding[i] as number) +
            (options.dilation[i] as number) * ([p.kh, p.kw][i]! - 1) +
            (outputPadding[i] as number) +
            1,
        );
        if (size.some((v) => v < 1)) return;
        const f = (a: Tensor, w: Tensor) => convTranspose2d(a, w, null, { ...options, outputPadding }).tanh();
        const report = gradcheck(f, [y.mul(0.3), p.w]);
        if (!report.ok) throw new Error(report.toString());
      }),
      { numRuns: 20 },
    );
  });

  test("a hand-computed case: stride 2 spreads each input over its own 2×2 block", () => {
    const x = tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2] });
    const y = convTranspose2d(x, tensor([1, 1, 1, 1], { shape: [1, 1, 2, 2] }), null, { stride: 2 });
    expect(y.toArray()).toEqual([
      [
        [
          [1, 1, 2, 2],
          [1, 1, 2, 2],
          [3, 3, 4, 4],
          [3, 3, 4, 4],
        ],
      ],
    ]);
  });

  test("output size formula, groups and bias", () => {
    const r = new Random(2);
    const y = convTranspose2d(randn([2, 4, 3, 5], r), randn([4, 3, 3, 2], r), randn([6], r), {
      stride: [2, 3],
      padding: [1, 0],
      outputPadding: [1, 2],
      groups: 2,
      dilation: [1, 2],
    });
    // (3 − 1)·2 − 2 + 1·2 + 1 + 1 = 6;  (5 − 1)·3 − 0 + 2·1 + 2 + 1 = 17
    expect(y.shape).toEqual([2, 6, 6, 17]);
  });

  test("gradients and second derivatives against finite differences", () => {
    checkGradients(
      (x: Tensor, w: Tensor, b: Tensor) =>
        convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }).pow(2).sum(),
      fc.tuple(tensorArb([1, 4, 2, 3]), tensorArb([4, 1, 3, 2]), tensorArb([2])),
      { gradgrad: true, numRuns: 4 },
    );
  });
});

// ---- pooling ----

function naivePool(
  x: Tensor,
  k: number[],
  s: number[],
  p: number[],
  d: number[],
  reduce: (values: number[], inside: number) => number,
): { values: number[]; shape: number[] } {
  const [n, c, h, w] = x.shape as number[];
  const oh =
    Math.floor(
      ((h as number) + 2 * (p[0] as number) - (d[0] as number) * ((k[0] as number) - 1) - 1) / (s[0] as number),
    ) + 1;
  const ow =
    Math.floor(
      ((w as number) + 2 * (p[1] as number) - (d[1] as number) * ((k[1] as number) - 1) - 1) / (s[1] as number),
    ) + 1;
  const values: number[] = [];
  for (let plane = 0; plane < (n as number) * (c as number); plane++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const vs: number[] = [];
        let inside = 0;
        for (let u = 0; u < (k[0] as number); u++)
          for (let v = 0; v < (k[1] as number); v++) {
            const y = i * (s[0] as number) - (p[0] as number) + u * (d[0] as number);
            const xx = j * (s[1] as number) - (p[1] as number) + v * (d[1] as number);
            if (y < 0 || y >= (h as number) || xx < 0 || xx >= (w as number)) continue;
            inside++;
            vs.push(x.data[(plane * (h as number) + y) * (w as number) + xx] as number);
          }
        values.push(reduce(vs, inside));
      }
  return { values, shape: [n as number, c as number, oh, ow] };
}

const poolCase = fc
  .record({
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    padH: fc.boolean(),
    padW: fc.boolean(),
    extraH: fc.integer({ min: 0, max: 3 }),
    extraW: fc.integer({ min: 0, max: 3 }),
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 2 }),
  })
  .chain((p) => {
    const ph = p.padH ? Math.floor(p.kh / 2) : 0;
    const pw = p.padW ? Math.floor(p.kw / 2) : 0;
    const h = Math.max(1, p.dh * (p.kh - 1) + 1 - 2 * ph) + p.extraH;
    const w = Math.max(1, p.dw * (p.kw - 1) + 1 - 2 * pw) + p.extraW;
    const size = p.n * p.c * h * w;
    // distinct values: no ties, so max pooling is differentiable at the point
    return fc
      .shuffledSubarray(
        Array.from({ length: size }, (_, i) => i),
        { minLength: size, maxLength: size },
      )
      .map((perm) => ({
        ...p,
        ph,
        pw,
        x: tensor(
          perm.map((v) => 0.1 * v - 1),
          { shape: [p.n, p.c, h, w] },
        ),
      }));
  });

describe("maxPool2d", () => {
  test("equals the direct loops (padding as −∞, dilation)", () => {
    fc.assert(
      fc.property(poolCase, (p) => {
        const y = maxPool2d(p.x, [p.kh, p.kw], { stride: [p.sh, p.sw], padding: [p.ph, p.pw], dilation: [p.dh, p.dw] });
        const want = naivePool(p.x, [p.kh, p.kw], [p.sh, p.sw], [p.ph, p.pw], [p.dh, p.dw], (vs) => Math.max(...vs));
        expect(y.shape).toEqual(want.shape);
        close(y, want.values);
      }),
      { numRuns: 60 },
    );
  });

  test("gradients against finite differences (distinct values), random geometries", () => {
    checkGradients(
      (x: Tensor) => maxPool2d(x.mul(x), 3, { stride: 2, padding: 1 }).sum(),
      poolCase.map((p) => [p.x.add(1.5)] as [Tensor]),
      { numRuns: 10 },
    );
    checkGradients(
      (x: Tensor) =>
        maxPool2d(x, [2, 3], { stride: [1, 2], dilation: [2, 1] })
          .pow(2)
          .sum(),
      fc.constant([
        tensor(
          Array.from({ length: 2 * 5 * 6 }, (_, i) => Math.sin(i * 2.1)),
          { shape: [1, 2, 5, 6] },
        ),
      ] as [Tensor]),
      { numRuns: 1 },
    );
  });

  test("gradients over random kernels, strides, paddings and dilations", () => {
    fc.assert(
      fc.property(poolCase, (p) => {
        const options = { stride: [p.sh, p.sw], padding: [p.ph, p.pw], dilation: [p.dh, p.dw] };
        // (a window wholly in the padding gives −∞: clamped, so the check sees a finite constant there)
        const report = gradcheck((x: Tensor) => maxPool2d(x, [p.kh, p.kw], options).clamp(-5).pow(2), [p.x]);
        if (!report.ok) throw new Error(report.toString());
      }),
      { numRuns: 25 },
    );
  });

  test("ties: the whole gradient goes to the first maximum, as PyTorch", () => {
    const x = tensor([1, 3, 3, 0, 3, 3, 0, 0], { shape: [1, 1, 2, 4], requiresGrad: true });
    maxPool2d(x, 2).sum().backward();
    expect((x.grad as Tensor).toArray()).toEqual([
      [
        [
          [0, 1, 1, 0],
          [0, 0, 0, 0],
        ],
      ],
    ]);
  });

  test("a window wholly in the padding gives −∞ and passes no gradient", () => {
    // width 1, kernel 2 with dilation 2 and padding 1: the window's taps are at −1 and 1
    const x = tensor([2], { shape: [1, 1, 1, 1], requiresGrad: true });
    const y = maxPool2d(x, [1, 2], { padding: [0, 1], dilation: [1, 2] });
    expect(y.toArray()).toEqual([[[[Number.NEGATIVE_INFINITY]]]]);
    y.sum().backward();
    expect((x.grad as Tensor).toArray()).toEqual([[[[0]]]]);
  });

  test("a window of −∞ gives −∞; a NaN wins its window", () => {
    const x = tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, Number.NaN], { shape: [1, 1, 1, 4] });
    const y = maxPool2d(x, [1, 2]);
    expect(y.data[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(y.data[1] as number)).toBe(true);
  });
});

describe("avgPool2d", () => {
  test("equals the direct loops, with and without padding in the count", () => {
    fc.assert(
      fc.property(poolCase, fc.boolean(), (p, countIncludePad) => {
        const y = avgPool2d(p.x, [p.kh, p.kw], { stride: [p.sh, p.sw], padding: [p.ph, p.pw], countIncludePad });
        const want = naivePool(p.x, [p.kh, p.kw], [p.sh, p.sw], [p.ph, p.pw], [1, 1], (vs, inside) => {
          const sum = vs.reduce((a, b) => a + b, 0);
          return sum / (countIncludePad ? p.kh * p.kw : inside);
        });
        expect(y.shape).toEqual(want.shape);
        close(y, want.values);
      }),
      { numRuns: 60 },
    );
  });

  test("gradients over random kernels, strides and paddings", () => {
    fc.assert(
      fc.property(poolCase, fc.boolean(), (p, countIncludePad) => {
        const options = { stride: [p.sh, p.sw], padding: [p.ph, p.pw], countIncludePad };
        const report = gradcheck((x: Tensor) => avgPool2d(x, [p.kh, p.kw], options).pow(2), [p.x]);
        if (!report.ok) throw new Error(report.toString());
      }),
      { numRuns: 25 },
    );
  });

  test("gradients and second derivatives against finite differences", () => {
    checkGradients(
      (x: Tensor) =>
        avgPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 1], countIncludePad: false })
          .pow(2)
          .sum(),
      fc.tuple(tensorArb([2, 1, 5, 4])),
      { gradgrad: true, numRuns: 4 },
    );
    checkGradients((x: Tensor) => avgPool2d(x, 2, { divisorOverride: 3 }).tanh(), fc.tuple(tensorArb([1, 2, 4, 5])), {
      gradgrad: true,
      numRuns: 4,
    });
  });
});

describe("adaptiveAvgPool2d", () => {
  test("windows ⌊i·n/out⌋ … ⌈(i + 1)·n/out⌉ − 1, overlapping when out does not divide n", () => {
    const x = tensor([1, 2, 3, 4, 5], { shape: [1, 1, 1, 5] });
    // out 3 over 5: [0, 2), [1, 4), [3, 5)
    close(adaptiveAvgPool2d(x, [1, 3]), [1.5, 3, 4.5]);
    close(adaptiveAvgPool2d(x, [null, 1]), [3]);
    expect(adaptiveAvgPool2d(randn([2, 3, 6, 4], new Random(0)), 2).shape).toEqual([2, 3, 2, 2]);
  });

  test("gradients for random input and output sizes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (h, w, oh, ow) => {
          const x = randn([1, 2, h, w], new Random(h * 7 + w));
          const report = gradcheck((t: Tensor) => adaptiveAvgPool2d(t, [oh, ow]).pow(2), [x]);
          if (!report.ok) throw new Error(report.toString());
        },
      ),
      { numRuns: 25 },
    );
  });

  test("equals avgPool2d when the output divides the input", () => {
    const x = randn([2, 3, 6, 8], new Random(4));
    close(adaptiveAvgPool2d(x, [3, 2]), [...avgPool2d(x, [2, 4]).data]);
  });

  test("gradients and second derivatives against finite differences", () => {
    checkGradients((x: Tensor) => adaptiveAvgPool2d(x, [2, 3]).pow(2).sum(), fc.tuple(tensorArb([1, 2, 5, 4])), {
      gradgrad: true,
      numRuns: 4,
    });
  });
});

describe("empty batches", () => {
  test("a batch of 0 gives an empty output and zero weight gradients", () => {
    const x = zeros([0, 2, 5, 5], { requiresGrad: true });
    const w = randn([3, 2, 3, 3], new Random(0), { requiresGrad: true });
    const y = conv2d(x, w, tensor([1, 2, 3]));
    expect(y.shape).toEqual([0, 3, 3, 3]);
    y.sum().backward();
    expect((x.grad as Tensor).shape).toEqual([0, 2, 5, 5]);
    expect([...(w.grad as Tensor).data].every((v) => v === 0)).toBe(true);
    expect(maxPool2d(x, 2).shape).toEqual([0, 2, 2, 2]);
    expect(avgPool2d(x, 2).shape).toEqual([0, 2, 2, 2]);
    expect(convTranspose2d(zeros([0, 3, 3, 3]), w).shape).toEqual([0, 2, 5, 5]);
  });
});

describe("a LeNet-like composite", () => {
  test("conv → relu → maxPool → conv → avgPool → flatten → matmul: gradients against finite differences", () => {
    const r = new Random(11);
    const w1 = randn([3, 1, 3, 3], r);
    const w2 = randn([4, 3, 2, 2], r);
    const fc1 = randn([4 * 3 * 3, 3], r);
    checkGradients(
      (x: Tensor, a: Tensor, b: Tensor, c: Tensor) => {
        const h = maxPool2d(conv2d(x, a, null, { padding: 1 }).tanh(), 2);
        const z = avgPool2d(conv2d(h, b, null), 1);
        return z.flatten(1).matmul(c).logSoftmax(-1).sum();
      },
      fc.constant([randn([2, 1, 8, 8], r), w1, w2, fc1] as [Tensor, Tensor, Tensor, Tensor]),
      { numRuns: 1 },
    );
  });
});

describe("bad input throws a ChainruleError naming the op, the shapes and what was expected", () => {
  const r = new Random(0);
  const x = randn([1, 4, 5, 5], r);
  const cases: [string, () => unknown, RegExp][] = [
    [
      "kernel larger than the padded input",
      () => conv2d(x, randn([2, 4, 7, 3], r)),
      /conv2d: .*larger than the padded input.*\[1, 4, 5, 5\].*\[2, 4, 7, 3\]/,
    ],
    [
      "channels not divisible by groups",
      () => conv2d(x, randn([3, 2, 3, 3], r), null, { groups: 2 }),
      /conv2d: groups = 2 must divide.*\(3\)/,
    ],
    [
      "weight's channels disagree",
      () => conv2d(x, randn([2, 3, 3, 3], r)),
      /conv2d: weight \[2, 3, 3, 3\] expects 3 input channels.*has 4/,
    ],
    [
      "wrong input rank",
      () => conv2d(randn([4, 5], r), randn([2, 4, 3, 3], r)),
      /conv2d: input must have rank 4 or 3.*\[4, 5\]/,
    ],
    ["wrong weight rank", () => conv1d(randn([1, 4, 5], r), randn([2, 4, 3, 3], r)), /conv1d: weight must have rank 3/],
    [
      "non-integer stride",
      () => conv2d(x, randn([2, 4, 3, 3], r), null, { stride: 1.5 }),
      /conv2d: stride must be a positive integer.*1\.5/,
    ],
    [
      "zero stride",
      () => conv1d(randn([1, 4, 5], r), randn([2, 4, 3], r), null, { stride: [0] }),
      /conv1d: stride must be a positive integer/,
    ],
    [
      "negative padding",
      () => conv2d(x, randn([2, 4, 3, 3], r), null, { padding: -1 }),
      /conv2d: padding must be a non-negative integer/,
    ],
    [
      '"same" with stride 2',
      () => conv2d(x, randn([2, 4, 3, 3], r), null, { padding: "same", stride: 2 }),
      /conv2d: padding "same" needs stride 1/,
    ],
    [
      "bias of the wrong shape",
      () => conv2d(x, randn([2, 4, 3, 3], r), randn([3], r)),
      /conv2d: bias must have shape \[2\]/,
    ],
    [
      "not a tensor",
      () => conv2d([1, 2] as unknown as Tensor, randn([2, 4, 3, 3], r)),
      /conv2d: input must be a Tensor/,
    ],
    [
      "transposed: channels disagree",
      () => convTranspose2d(x, randn([3, 2, 3, 3], r)),
      /convTranspose2d: weight \[3, 2, 3, 3\] expects 3 input channels/,
    ],
    [
      "transposed: outputPadding too large",
      () => convTranspose2d(x, randn([4, 2, 3, 3], r), null, { stride: 2, outputPadding: 2 }),
      /convTranspose2d: outputPadding 2 must be smaller/,
    ],
    [
      "transposed: groups",
      () => convTranspose2d(x, randn([4, 2, 3, 3], r), null, { groups: 3 }),
      /convTranspose2d: groups = 3 must divide/,
    ],
    [
      "transposed: padding crops everything",
      () => convTranspose2d(randn([1, 1, 1, 1], r), randn([1, 1, 1, 1], r), null, { stride: 3, padding: 1 }),
      /convTranspose2d: the output would have size -1 along spatial axis 0/,
    ],
    [
      "transposed: wrong rank",
      () => convTranspose2d(randn([4], r), randn([4, 2, 3, 3], r)),
      /convTranspose2d: input must have rank/,
    ],
    [
      "pool: window larger than the input",
      () => maxPool2d(x, 6),
      /maxPool2d: the window .* larger than the padded input/,
    ],
    [
      "pool: padding over half the kernel",
      () => maxPool2d(x, 2, { padding: 2 }),
      /maxPool2d: padding 2 must be at most half the kernel size 2/,
    ],
    ["pool: wrong rank", () => avgPool2d(randn([5, 5], r), 2), /avgPool2d: input must have rank 4 or 3.*\[5, 5\]/],
    ["pool: non-integer kernel", () => avgPool2d(x, 1.5), /avgPool2d: kernelSize must be a positive integer/],
    ["pool: non-integer stride", () => maxPool2d(x, 2, { stride: [1, 0.5] }), /maxPool2d: stride must be/],
    ["adaptive: bad output size", () => adaptiveAvgPool2d(x, [0, 2]), /adaptiveAvgPool2d: outputSize must be/],
    [
      "adaptive: empty input",
      () => adaptiveAvgPool2d(zeros([1, 1, 0, 3]), 1),
      /adaptiveAvgPool2d: .*empty spatial axis/,
    ],
  ];
  test.each(cases)("%s", (_name, f, message) => {
    expect(f).toThrow(ChainruleError);
    expect(f).toThrow(message);
  });
});
