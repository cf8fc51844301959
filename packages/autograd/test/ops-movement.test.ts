/**
 * The movement ops of ops/rearrange.ts (pad, flip, roll, tile, repeatInterleave, split, chunk,
 * tril, triu) and einsum: first and second derivatives against finite differences over random
 * shapes (size-0 and size-1 axes, negative axes), values against hand-computed results and
 * identities (einsum against a loop over every index), and every error.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { arange, ChainruleError, concat, einsum, eye, type PadMode, type Tensor, tensor, zeros } from "../src/index.js";
import { checkGradients, checkTransforms, shapeArb, tensorArb } from "../src/testing/index.js";

// These ops are linear, so their second derivatives vanish; squaring the result makes the
// second-order check run through the backward rule's own backward rule.
const sq = (t: Tensor) => t.mul(t);
const both = { gradgrad: true, numRuns: 1 };

/** Shapes with size-0 and size-1 axes among the others. */
const shapes = (minRank = 0, maxRank = 3) => shapeArb({ minRank, maxRank, minDim: 0, maxDim: 4 });

/** A checkGradients run on one drawn example (the outer property draws the arguments). */
const check = (f: (x: Tensor) => Tensor, x: Tensor) => checkGradients(f, fc.constant([x] as [Tensor]), both);

const values = (t: Tensor) => t.toArray();

describe("pad", () => {
  const arb = shapes().chain((shape) =>
    fc
      .record({
        mode: fc.constantFrom<PadMode>("constant", "reflect", "replicate"),
        value: fc.double({ min: -2, max: 2, noNaN: true }),
        raw: fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: shape.length, maxLength: shape.length }),
        x: tensorArb(shape),
      })
      .map(({ mode, value, raw, x }) => {
        // reflect needs widths below the axis length; replicate an element to repeat
        const widths = raw.map(([b, a], d): [number, number] => {
          const n = shape[d] as number;
          if (mode === "reflect") return n === 0 ? [0, 0] : [b % n, a % n];
          if (mode === "replicate" && n === 0) return [0, 0];
          return [b, a];
        });
        return { mode, value, widths, x };
      }),
  );
  test("first and second derivatives, every mode", () => {
    fc.assert(
      fc.property(arb, ({ mode, value, widths, x }) => {
        const options = mode === "constant" ? { mode, value } : { mode };
        check((t) => sq(t.pad(widths, options)), x);
      }),
      { numRuns: 60 },
    );
  });
  test("the shape grows by the widths; the interior is x", () => {
    fc.assert(
      fc.property(arb, ({ mode, widths, x }) => {
        const y = x.pad(widths, { mode });
        expect(y.shape).toEqual(
          x.shape.map((n, d) => n + (widths[d] as [number, number])[0] + (widths[d] as [number, number])[1]),
        );
        const inner = y.slice(...widths.map(([b], d) => [b, b + (x.shape[d] as number)] as const));
        expect(values(inner)).toEqual(values(x));
      }),
      { numRuns: 60 },
    );
  });
  test("values: constant, reflect, replicate (torch.nn.functional.pad's)", () => {
    const x = arange(6).reshape([2, 3]);
    expect(
      values(
        x.pad(
          [
            [1, 0],
            [0, 2],
          ],
          { value: -1 },
        ),
      ),
    ).toEqual([
      [-1, -1, -1, -1, -1],
      [0, 1, 2, -1, -1],
      [3, 4, 5, -1, -1],
    ]);
    expect(
      values(
        x.pad(
          [
            [0, 0],
            [2, 2],
          ],
          { mode: "reflect" },
        ),
      ),
    ).toEqual([
      [2, 1, 0, 1, 2, 1, 0],
      [5, 4, 3, 4, 5, 4, 3],
    ]);
    expect(
      values(
        x.pad(
          [
            [1, 1],
            [1, 0],
          ],
          { mode: "replicate" },
        ),
      ),
    ).toEqual([
      [0, 0, 1, 2],
      [0, 0, 1, 2],
      [3, 3, 4, 5],
      [3, 3, 4, 5],
    ]);
    expect(values(tensor([1, 2]).pad([[1, 2]]))).toEqual([0, 1, 2, 0, 0]);
    expect(tensor(5).pad([]).item()).toBe(5);
  });
  test("the gradient of reflect and replicate collects every copy", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.pad([[2, 1]], { mode: "reflect" })
      .sum()
      .backward(); // [3, 2, 1, 2, 3, 2]
    expect(values(x.grad as Tensor)).toEqual([1, 3, 2]);
    const y = tensor([1, 2, 3], { requiresGrad: true });
    y.pad([[2, 1]], { mode: "replicate" })
      .sum()
      .backward(); // [1, 1, 1, 2, 3, 3]
    expect(values(y.grad as Tensor)).toEqual([3, 1, 2]);
    const z = tensor([1, 2, 3], { requiresGrad: true });
    z.pad([[2, 1]], { value: 7 })
      .mul(arange(6))
      .sum()
      .backward();
    expect(values(z.grad as Tensor)).toEqual([2, 3, 4]);
  });
  test("errors name the argument and what was expected", () => {
    const x = zeros([2, 3]);
    expect(() => x.pad([[1, 1]])).toThrow(
      /pad: widths must list \[before, after\] for each of the 2 axes of shape \[2, 3\]/,
    );
    expect(() =>
      x.pad([
        [1, 1],
        [-1, 0],
      ]),
    ).toThrow(/pad: widths\[1\] must be \[before, after\] with non-negative integers/);
    expect(() =>
      x.pad([
        [0, 0],
        [1.5, 0],
      ]),
    ).toThrow(ChainruleError);
    expect(() =>
      x.pad(
        [
          [2, 0],
          [0, 0],
        ],
        { mode: "reflect" },
      ),
    ).toThrow(/pad: reflect padding widths\[0\] = \[2, 0\] must each be less than the size 2 of axis 0/);
    expect(() =>
      zeros([0, 2]).pad(
        [
          [1, 0],
          [0, 0],
        ],
        { mode: "replicate" },
      ),
    ).toThrow(/replicate padding of axis 0 needs an element to repeat/);
    expect(() =>
      x.pad(
        [
          [0, 0],
          [0, 0],
        ],
        { mode: "circular" as PadMode },
      ),
    ).toThrow(/mode must be "constant", "reflect" or "replicate"/);
    expect(() =>
      x.pad(
        [
          [0, 0],
          [1, 0],
        ],
        { mode: "reflect", value: 1 },
      ),
    ).toThrow(/mode "reflect" takes no value/);
    const reflect = x.pad(
      [
        [0, 0],
        [1, 0],
      ],
      { mode: "reflect" },
    );
    expect(
      values(
        x.pad(
          [
            [0, 0],
            [1, 0],
          ],
          { mode: "reflect", value: 0 },
        ),
      ),
    ).toEqual(values(reflect));
    expect(() =>
      x.pad(
        [
          [0, 0],
          [1, 0],
        ],
        { value: "1" as unknown as number },
      ),
    ).toThrow(/pad: value must be a number/);
  });
});

describe("flip and roll", () => {
  const arb = shapes(1).chain((shape) =>
    fc.record({
      x: tensorArb(shape),
      axes: fc.subarray(shape.map((_, i) => i)).chain((axes) =>
        fc.shuffledSubarray(
          axes.map((a) => (a % 2 === 0 ? a - shape.length : a)),
          { minLength: axes.length },
        ),
      ),
      shifts: fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 3, maxLength: 3 }),
    }),
  );
  test("first and second derivatives, negative axes", () => {
    fc.assert(
      fc.property(arb, ({ x, axes, shifts }) => {
        check((t) => sq(t.flip(axes)), x);
        const s = axes.map((_, i) => shifts[i % 3] as number);
        check((t) => sq(t.roll(s, axes)), x);
        check((t) => sq(t.roll(shifts[0] as number)), x);
      }),
      { numRuns: 50 },
    );
  });
  test("identities: flip twice, roll back, roll = concat of two slices", () => {
    fc.assert(
      fc.property(arb, ({ x, axes, shifts }) => {
        expect(values(x.flip(axes).flip(axes))).toEqual(values(x));
        const s = axes.map((_, i) => shifts[i % 3] as number);
        expect(
          values(
            x.roll(s, axes).roll(
              s.map((v) => -v),
              axes,
            ),
          ),
        ).toEqual(values(x));
        const n = x.shape[0] as number;
        if (n > 0) {
          const k = (((shifts[0] as number) % n) + n) % n;
          expect(values(x.roll(shifts[0] as number, 0))).toEqual(
            values(concat([x.slice([n - k, n]), x.slice([0, n - k])])),
          );
        }
      }),
      { numRuns: 50 },
    );
  });
  test("values (torch.flip, torch.roll)", () => {
    const x = arange(6).reshape([2, 3]);
    expect(values(x.flip(1))).toEqual([
      [2, 1, 0],
      [5, 4, 3],
    ]);
    expect(values(x.flip([0, -1]))).toEqual([
      [5, 4, 3],
      [2, 1, 0],
    ]);
    expect(values(x.roll(1))).toEqual([
      [5, 0, 1],
      [2, 3, 4],
    ]);
    expect(values(x.roll(-1, 1))).toEqual([
      [1, 2, 0],
      [4, 5, 3],
    ]);
    expect(values(x.roll([1, 1], [1, 1]))).toEqual(values(x.roll(2, 1)));
    expect(values(x.roll([1, 2], [0, 1]))).toEqual([
      [4, 5, 3],
      [1, 2, 0],
    ]);
    expect(tensor(3).roll(5).item()).toBe(3);
  });
  test("errors", () => {
    const x = zeros([2, 3]);
    expect(() => x.flip([0, -2])).toThrow(/flip: axes \[0,-2\] repeat an axis/);
    expect(() => x.flip(2)).toThrow(/flip: axis 2 is out of range for a tensor of rank 2/);
    expect(() => x.roll([1, 2])).toThrow(/roll: without an axis, shifts must be one integer/);
    expect(() => x.roll([1, 2], 0)).toThrow(/roll: shifts \[1,2\] and axis 0 must have the same length/);
    expect(() => x.roll(1.5, 0)).toThrow(/roll: shifts must be an integer/);
    expect(() => x.roll(1, -3)).toThrow(/roll: axis -3 is out of range/);
  });
});

describe("tile and repeatInterleave", () => {
  const arb = shapes().chain((shape) =>
    fc.record({
      x: tensorArb(shape),
      reps: fc.array(fc.nat(3), { maxLength: 4 }),
      axis:
        shape.length === 0
          ? fc.constant(undefined)
          : fc.option(fc.integer({ min: -shape.length, max: shape.length - 1 }), { nil: undefined }),
      repeats: fc.array(fc.nat(3), { minLength: 8, maxLength: 8 }),
      perElement: fc.boolean(),
    }),
  );
  test("first and second derivatives, per-element repeats and negative axes", () => {
    fc.assert(
      fc.property(arb, ({ x, reps, axis, repeats, perElement }) => {
        check((t) => sq(t.tile(reps)), x);
        const n = axis === undefined ? x.size : (x.shape.at(axis) as number);
        const r = perElement
          ? repeats.slice(0, n).concat(new Array<number>(Math.max(0, n - 8)).fill(1))
          : (repeats[0] as number);
        check((t) => sq(t.repeatInterleave(r, axis)), x);
      }),
      { numRuns: 60 },
    );
  });
  test("tile's shape: reps padded with leading 1s, or x with leading axes", () => {
    fc.assert(
      fc.property(arb, ({ x, reps }) => {
        const rank = Math.max(x.ndim, reps.length);
        const r = [...new Array<number>(rank - reps.length).fill(1), ...reps];
        const s = [...new Array<number>(rank - x.ndim).fill(1), ...x.shape];
        expect(x.tile(reps).shape).toEqual(s.map((d, i) => d * (r[i] as number)));
      }),
      { numRuns: 40 },
    );
  });
  test("values (torch.tile, torch.repeat_interleave)", () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(values(x.tile([2]))).toEqual([
      [1, 2, 1, 2],
      [3, 4, 3, 4],
    ]);
    expect(values(x.tile([2, 1]))).toEqual([
      [1, 2],
      [3, 4],
      [1, 2],
      [3, 4],
    ]);
    expect(x.tile([2, 1, 1]).shape).toEqual([2, 2, 2]);
    expect(values(tensor([1, 2]).tile([0]))).toEqual([]);
    expect(values(tensor([1, 2]).tile(2))).toEqual([1, 2, 1, 2]);
    expect(values(x.repeatInterleave(2))).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(values(x.repeatInterleave(2, 0))).toEqual([
      [1, 2],
      [1, 2],
      [3, 4],
      [3, 4],
    ]);
    expect(values(x.repeatInterleave([1, 2], -1))).toEqual([
      [1, 2, 2],
      [3, 4, 4],
    ]);
    expect(values(x.repeatInterleave([3], 0))).toEqual(values(x.repeatInterleave(3, 0)));
    expect(values(x.repeatInterleave(tensor([2, 1]), 0))).toEqual([
      [1, 2],
      [1, 2],
      [3, 4],
    ]);
    const w = tensor([1, 2, 3], { requiresGrad: true });
    w.repeatInterleave([0, 1, 3]).mul(arange(4)).sum().backward(); // [2, 3, 3, 3] at positions 0…3
    expect(values(w.grad as Tensor)).toEqual([0, 0, 6]);
  });
  test("errors", () => {
    const x = zeros([2, 3]);
    expect(() => x.tile([-1])).toThrow(/tile: reps must be an array of non-negative integers, got \[-1\]/);
    expect(() => x.repeatInterleave(-1, 0)).toThrow(/repeatInterleave: repeats must be a non-negative integer/);
    expect(() => x.repeatInterleave([1, 2], 1)).toThrow(
      /repeatInterleave: repeats has 2 entries; expected one per element of axis 1 \(3\)/,
    );
    expect(() => x.repeatInterleave(1, 2)).toThrow(/repeatInterleave: axis 2 is out of range/);
    expect(() => x.repeatInterleave(zeros([1, 1]), 0)).toThrow(
      /repeatInterleave: repeats must be a number or a 1-d list/,
    );
  });
});

describe("split and chunk", () => {
  const arb = shapes(1).chain((shape) =>
    fc.record({
      x: tensorArb(shape),
      axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
      size: fc.integer({ min: 1, max: 5 }),
      cuts: fc.array(fc.nat(4), { maxLength: 3 }),
      chunks: fc.integer({ min: 1, max: 5 }),
    }),
  );
  test("first and second derivatives (pieces weighted differently)", () => {
    fc.assert(
      fc.property(arb, ({ x, axis, size, cuts, chunks }) => {
        const n = x.shape.at(axis) as number;
        const sorted = [...cuts.map((c) => Math.min(c, n)), 0, n].sort((a, b) => a - b);
        const sizes = sorted.slice(1).map((c, i) => c - (sorted[i] as number));
        const weigh = (pieces: Tensor[]) =>
          concat(
            pieces.map((p, i) => sq(p).mul(i + 1)),
            axis,
          );
        check((t) => weigh(t.split(size, axis)), x);
        check((t) => weigh(t.split(sizes, axis)), x);
        check((t) => weigh(t.chunk(chunks, axis)), x);
      }),
      { numRuns: 40 },
    );
  });
  test("pieces (torch.split, torch.chunk): sizes, and concatenated they are x", () => {
    fc.assert(
      fc.property(arb, ({ x, axis, size, chunks }) => {
        const n = x.shape.at(axis) as number;
        const pieces = x.split(size, axis);
        expect(pieces.map((p) => p.shape.at(axis))).toEqual(
          n === 0 ? [0] : Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size)),
        );
        expect(values(concat(pieces, axis))).toEqual(values(x));
        const c = x.chunk(chunks, axis);
        expect(c.length).toBe(n === 0 ? chunks : Math.ceil(n / Math.ceil(n / chunks)));
        expect(values(concat(c, axis))).toEqual(values(x));
      }),
      { numRuns: 60 },
    );
  });
  test("values", () => {
    const x = arange(5);
    expect(x.split(2).map(values)).toEqual([[0, 1], [2, 3], [4]]);
    expect(x.split([1, 0, 4]).map(values)).toEqual([[0], [], [1, 2, 3, 4]]);
    expect(arange(6).chunk(4).map(values)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]); // fewer than 4, as torch.chunk
    expect(zeros([0]).chunk(3).length).toBe(3);
    expect(zeros([0]).split(2).length).toBe(1);
  });
  test("errors", () => {
    const x = zeros([2, 3]);
    expect(() => x.split([1, 1], 1)).toThrow(
      /split: sizes \[1,1\] add up to 2, but axis 1 of shape \[2, 3\] has 3 elements/,
    );
    expect(() => x.split(0, 1)).toThrow(/split: the piece size must be a positive integer/);
    expect(() => x.split([2, -1, 2], 1)).toThrow(/split: sizes must be a number or an array of non-negative integers/);
    expect(() => tensor(1).split(1)).toThrow(/split: cannot split a 0-d tensor/);
    expect(() => x.chunk(0)).toThrow(/chunk: chunks must be a positive integer, got 0/);
    expect(() => x.chunk(2, 2)).toThrow(/chunk: axis 2 is out of range/);
  });
});

describe("tril and triu", () => {
  const arb = shapes(2, 4).chain((shape) => fc.record({ x: tensorArb(shape), k: fc.integer({ min: -4, max: 4 }) }));
  test("first and second derivatives, batched", () => {
    fc.assert(
      fc.property(arb, ({ x, k }) => {
        check((t) => sq(t.tril(k)), x);
        check((t) => sq(t.triu(k)), x);
      }),
      { numRuns: 50 },
    );
  });
  test("tril keeps exactly the elements with j − i ≤ k, triu those with j − i ≥ k", () => {
    fc.assert(
      fc.property(arb, ({ x, k }) => {
        const c = x.shape.at(-1) as number;
        const r = x.shape.at(-2) as number;
        const lower = x.tril(k).data;
        const upper = x.triu(k).data;
        x.data.forEach((v, flat) => {
          const j = flat % c;
          const i = Math.floor(flat / c) % r;
          expect(lower[flat]).toBe(j - i <= k ? v : 0);
          expect(upper[flat]).toBe(j - i >= k ? v : 0);
        });
      }),
      { numRuns: 50 },
    );
  });
  test("values (torch.tril, torch.triu); infinities off the triangle become 0", () => {
    const x = arange(1, 10).reshape([3, 3]);
    expect(values(x.tril())).toEqual([
      [1, 0, 0],
      [4, 5, 0],
      [7, 8, 9],
    ]);
    expect(values(x.triu(1))).toEqual([
      [0, 2, 3],
      [0, 0, 6],
      [0, 0, 0],
    ]);
    expect(values(x.tril(-1))).toEqual([
      [0, 0, 0],
      [4, 0, 0],
      [7, 8, 0],
    ]);
    expect(
      values(
        tensor([
          [1, Number.POSITIVE_INFINITY],
          [Number.NaN, 2],
        ]).tril(),
      ),
    ).toEqual([
      [1, 0],
      [Number.NaN, 2],
    ]);
  });
  test("errors", () => {
    expect(() => zeros([3]).tril()).toThrow(/tril: needs a tensor of rank ≥ 2 .* got shape \[3\]/);
    expect(() => zeros([3, 3]).triu(0.5)).toThrow(/triu: k \(the diagonal\) must be an integer/);
  });
});

// ---- einsum ----

/** einsum by definition: a loop over every assignment of the letters, summing products. */
function reference(spec: string, ...xs: Tensor[]): Tensor {
  const [lhs, rhs] = spec.split("->") as [string, string | undefined];
  const terms = lhs.split(",");
  const all = terms.join("");
  const out =
    rhs ??
    [...new Set(all)]
      .filter((l) => all.indexOf(l) === all.lastIndexOf(l))
      .sort()
      .join("");
  const size = new Map<string, number>();
  terms.forEach((t, i) => {
    [...t].forEach((l, a) => {
      const d = (xs[i] as Tensor).shape[a] as number;
      if (!size.has(l) || size.get(l) === 1) size.set(l, d);
    });
  });
  const letters = [...size.keys()];
  const outShape = [...out].map((l) => size.get(l) as number);
  const result = new Float64Array(outShape.reduce((a, b) => a * b, 1));
  const idx = new Map<string, number>();
  const flat = (t: string, shape: readonly number[]) =>
    [...t].reduce((acc, l, a) => acc * (shape[a] as number) + (shape[a] === 1 ? 0 : (idx.get(l) as number)), 0);
  const visit = (k: number): void => {
    if (k === letters.length) {
      let p = 1;
      terms.forEach((t, i) => {
        const x = xs[i] as Tensor;
        p *= x.data[flat(t, x.shape)] as number;
      });
      const o = [...out].reduce((acc, l, a) => acc * (outShape[a] as number) + (idx.get(l) as number), 0);
      result[o] = (result[o] as number) + p;
      return;
    }
    const l = letters[k] as string;
    for (let i = 0; i < (size.get(l) as number); i++) {
      idx.set(l, i);
      visit(k + 1);
    }
  };
  visit(0);
  return tensor(result, { shape: outShape });
}

/** A random spec over letters with random sizes (0 to 3), with repeats, and operands to fit. */
const specArb = fc
  .record({
    sizes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 5, maxLength: 5 }),
    terms: fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), { minLength: 1, maxLength: 3 }),
    explicit: fc.boolean(),
    upper: fc.boolean(),
  })
  .chain(({ sizes, terms, explicit, upper }) => {
    const letters = upper ? "aBcDe" : "abcde";
    const lhs = terms.map((t) => t.map((u) => letters[u]).join("")).join(",");
    return fc
      .record({
        out: fc.shuffledSubarray([...new Set(terms.flat())]),
        xs: fc.tuple(...terms.map((t) => tensorArb(t.map((u) => sizes[u] as number)))),
      })
      .map(({ out, xs }) => ({
        spec: explicit ? `${lhs}->${out.map((u) => letters[u]).join("")}` : lhs,
        xs: xs as Tensor[],
      }));
  });

describe("einsum", () => {
  test("values equal a loop over every index (random specs with repeats, empty axes, implicit outputs)", () => {
    fc.assert(
      fc.property(specArb, ({ spec, xs }) => {
        const got = einsum(spec, ...xs);
        const want = reference(spec, ...xs);
        expect(got.shape).toEqual(want.shape);
        got.data.forEach((v, i) => {
          expect(v).toBeCloseTo(want.data[i] as number, 10);
        });
      }),
      { numRuns: 200 },
    );
  });
  test("first and second derivatives (random specs)", () => {
    fc.assert(
      fc.property(specArb, ({ spec, xs }) => {
        // one operand is linear: square it so the second derivative is not zero
        const f = xs.length === 1 ? (x: Tensor) => sq(einsum(spec, x)) : (...ts: Tensor[]) => einsum(spec, ...ts);
        checkGradients(f, fc.constant(xs), both);
      }),
      { numRuns: 50 },
    );
  });
  test("jvp, vmap and batched pullbacks (random specs)", () => {
    fc.assert(
      fc.property(specArb, ({ spec, xs }) => {
        checkTransforms((...ts: Tensor[]) => einsum(spec, ...ts), fc.constant(xs), { numRuns: 1 });
      }),
      { numRuns: 40 },
    );
  });
  test("known results: matrix products, trace, diagonal, outer product, transpose, bilinear form", () => {
    const a = arange(6).reshape([2, 3]);
    const b = arange(12).reshape([3, 4]);
    const m = arange(9).reshape([3, 3]);
    const close = (x: Tensor, y: Tensor) => expect(values(x)).toEqual(values(y));
    close(einsum("ij,jk->ik", a, b), a.matmul(b));
    close(einsum("ij,jk", a, b), a.matmul(b));
    close(einsum("ij,kj->ik", a, a), a.matmul(a.T));
    close(einsum("ji,jk->ik", a, a), a.T.matmul(a));
    close(
      einsum("bij,bjk->bik", arange(12).reshape([2, 2, 3]), arange(24).reshape([2, 3, 4])),
      arange(12)
        .reshape([2, 2, 3])
        .matmul(arange(24).reshape([2, 3, 4])),
    );
    expect(einsum("ii", m).item()).toBe(12);
    expect(einsum("ii->", m).item()).toBe(12);
    expect(values(einsum("ii->i", m))).toEqual([0, 4, 8]);
    expect(values(einsum("i,j->ij", tensor([1, 2]), tensor([3, 4])))).toEqual([
      [3, 4],
      [6, 8],
    ]);
    expect(values(einsum("ij->ji", a))).toEqual(values(a.T));
    expect(values(einsum("ba", a))).toEqual(values(a.T)); // implicit output sorted: "ab"… of letters b, a
    expect(
      einsum(
        "i,ij,j->",
        tensor([1, 2]),
        tensor([
          [1, 2],
          [3, 4],
        ]),
        tensor([1, 1]),
      ).item(),
    ).toBe(17);
    expect(einsum("i,i", tensor([1, 2, 3]), tensor([4, 5, 6])).item()).toBe(32);
    expect(values(einsum("Ab,b->A", a, tensor([1, 1, 1])))).toEqual([3, 12]);
    expect(values(einsum("i,i->i", tensor([2]), tensor([1, 2, 3])))).toEqual([2, 4, 6]); // size 1 broadcasts
    expect(einsum(" ij , ij -> ", eye(2), eye(2)).item()).toBe(2);
    expect(values(einsum("bi,bi->b", a, a))).toEqual([5, 50]); // a dot product per row
    close(einsum("ij,jk", [a, b]), a.matmul(b)); // the operands as one list
  });
  test("batched products go through mm, without permutes where a transpose flag will do", () => {
    const ops = (t: Tensor): string[] => [
      t.op,
      ...t.parents.flatMap((p) => (p.requiresGrad && !p.isLeaf ? ops(p) : [])),
    ];
    const a = arange(6).reshape([2, 3]).requireGrad();
    const b = arange(6).reshape([2, 3]).requireGrad();
    expect(ops(einsum("ij,kj->ik", a, b))).toEqual(["reshape", "matmul", "reshape", "reshape"]);
    expect(ops(einsum("ji,jk->ik", a, b))).not.toContain("permute");
    expect(ops(einsum("bij,bjk->bik", a.reshape([1, 2, 3]), b.reshape([1, 3, 2])))).toContain("matmul");
  });
  test("errors name the subscript and the shapes", () => {
    const a = zeros([2, 3]);
    const b = zeros([4, 5]);
    expect(() => einsum("ij,jk->ik", a, b)).toThrow(
      /einsum: subscript 'j' has size 4 in operand 1 but 3 elsewhere \(shapes \[2, 3\], \[4, 5\]\)/,
    );
    expect(() => einsum("ij,jk->ik", a)).toThrow(/einsum: spec "ij,jk->ik" has 2 operands, but 1 tensor was given/);
    expect(() => einsum("ijk", a)).toThrow(
      /einsum: operand 0 has subscripts "ijk" \(3\) but shape \[2, 3\] \(rank 2\)/,
    );
    expect(() => einsum("ii", a)).toThrow(
      /einsum: subscript 'i' is repeated in operand 0 \("ii"\) over axes of sizes 2 and 3/,
    );
    expect(() => einsum("ij->ik", a)).toThrow(/einsum: spec "ij->ik": output subscript 'k' appears in no operand/);
    expect(() => einsum("ij->ii", a)).toThrow(/output subscript 'i' appears twice/);
    expect(() => einsum("i1", a)).toThrow(/subscript '1' of operand 0 is not a letter/);
    expect(() => einsum("i->i->i", a)).toThrow(/more than one "->"/);
    expect(() => einsum("...ij->ij", a)).toThrow(/ellipses/);
  });
});

describe("fuzz: the ops above with random, often invalid, arguments", () => {
  const junk = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.constant(Number.NaN),
    fc.constant("2"),
    fc.constant({}),
    fc.constant({ mode: "reflect" }),
    fc.constant({ mode: "replicate" }),
    fc.integer({ min: -5, max: 5 }),
    fc.double({ min: -3, max: 3, noNaN: true }),
    fc.array(fc.integer({ min: -4, max: 6 }), { maxLength: 4 }),
    fc.array(fc.tuple(fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 })), { maxLength: 4 }),
  );
  const names = ["pad", "split", "chunk", "tile", "repeatInterleave", "flip", "roll", "tril", "triu"] as const;
  test("every call returns well-formed tensors or throws a ChainruleError, leaving its input unchanged", () => {
    fc.assert(
      fc.property(
        shapes(),
        fc.constantFrom(...names),
        fc.array(junk, { maxLength: 3 }),
        fc.oneof(fc.string({ maxLength: 8 }), fc.stringMatching(/^[abC]{0,3}(,[abC]{0,3})?(->[abC]{0,3})?$/)),
        (shape, name, args, spec) => {
          const x = tensorArb(shape).map((t) => t.requireGrad());
          fc.assert(
            fc.property(x, (t) => {
              const before = Array.from(t.data);
              const outputs: Tensor[] = [];
              for (const call of [
                () => (t as unknown as Record<string, (...a: unknown[]) => Tensor | Tensor[]>)[name]?.(...args),
                () => einsum(spec, t),
                () => einsum(spec, t, t),
              ]) {
                try {
                  const r = call();
                  outputs.push(...(Array.isArray(r) ? r : [r as Tensor]));
                } catch (e) {
                  if (!(e instanceof ChainruleError))
                    throw new Error(
                      `${name}(${JSON.stringify(args)}) / einsum("${spec}") on [${shape}] threw ${String(e)}`,
                    );
                }
              }
              expect(Array.from(t.data)).toEqual(before);
              for (const y of outputs) {
                expect(y.data.length).toBe(y.shape.reduce((a, b) => a * b, 1));
                y.sum().backward();
              }
              if (t.grad !== null) expect(t.grad.shape).toEqual(t.shape);
            }),
            { numRuns: 1 },
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
