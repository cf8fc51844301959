import { describe, expect, test } from "vitest";
import { customOp } from "./custom.js";
import { noGrad } from "./engine.js";
import { ChainruleError } from "./errors.js";
import { manualSeed, Random } from "./random.js";
import { broadcastStrides } from "./shape.js";
import {
  arange,
  concat,
  eye,
  full,
  linspace,
  ones,
  onesLike,
  rand,
  randn,
  stack,
  Tensor,
  tensor,
  where,
  zeros,
  zerosLike,
} from "./tensor.js";

describe("creation", () => {
  test("nested arrays, numbers and typed arrays", () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.ndim).toBe(2);
    expect(t.dtype).toBe("float64");
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const s = tensor(3.5);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(3.5);
    expect(s.toArray()).toBe(3.5);
    const f = tensor(new Float32Array([1, 2, 3, 4]), { shape: [2, 2], dtype: "float32" });
    expect(f.dtype).toBe("float32");
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
  });

  test("toTypedArray is a copy; data is the live storage", () => {
    const t = tensor([1, 2]);
    const copy = t.toTypedArray();
    copy[0] = 99;
    expect(t.data[0]).toBe(1);
  });

  test("bad input is refused with a clear message", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(
      /tensor: ragged nested array: at \[1\] expected an array of length 2, got length 1/,
    );
    expect(() => tensor([[1, 2], 3] as never)).toThrow(
      /ragged nested array: at \[1\] expected an array of length 2, got a number/,
    );
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(
      /tensor: 3 values do not fill shape \[2, 2\] \(4 elements\)/,
    );
    expect(() => zeros([2, -1])).toThrow(/zeros: shape must be an array of non-negative integers, got \[2, -1\]/);
    expect(() => zeros([1.5])).toThrow(/non-negative integers, got \[1.5\]/);
    expect(() => tensor([1, "a" as never])).toThrow(/tensor: element 1 is string, not a number/);
    expect(() => tensor([1], { dtype: "int64" as never })).toThrow(
      /dtype must be "float64", "float32" or "int32", got "int64"/,
    );
    expect(() => tensor([1, 2]).item()).toThrow(/item: needs a tensor with one element, got shape \[2\]/);
  });

  test("zeros, ones, full, arange, linspace, eye, *Like", () => {
    expect(zeros([2]).toArray()).toEqual([0, 0]);
    expect(ones([1, 2], { dtype: "float32" }).dtype).toBe("float32");
    expect(full([2], 7).toArray()).toEqual([7, 7]);
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    const t = tensor([[1, 2]], { dtype: "float32" });
    expect(zerosLike(t).dtype).toBe("float32");
    expect(onesLike(t).toArray()).toEqual([[1, 1]]);
    expect(() => arange(0, 1, 0)).toThrow(/arange: .*step non-zero/);
  });

  test("random tensors are reproducible from a seed", () => {
    const a = randn([3, 4], new Random(7));
    const b = randn([3, 4], new Random(7));
    expect(a.toArray()).toEqual(b.toArray());
    const u = rand([1000], new Random(1), { low: -2, high: 2 });
    expect(Math.min(...u.data)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u.data)).toBeLessThan(2);
    expect(() => rand([2], 5 as never)).toThrow(/rand: random must be a seeded generator/);
    expect(() => randn([2], null as never)).toThrow(/randn: random must be a seeded generator/);
  });

  test("without a generator, rand and randn draw from the default one, which manualSeed restarts", () => {
    manualSeed(3);
    const a = randn([2, 3], { requiresGrad: true });
    const u = rand([4], { low: 5, high: 6 });
    manualSeed(3);
    const b = randn([2, 3]);
    // bit for bit the same as an explicit generator with that seed
    expect(b.toArray()).toEqual(a.toArray());
    expect(a.requiresGrad).toBe(true);
    const explicit = new Random(3);
    expect(randn([2, 3], explicit).toArray()).toEqual(a.toArray());
    expect(rand([4], explicit, { low: 5, high: 6 }).toArray()).toEqual(u.toArray());
    expect(randn([2, 3]).toArray()).not.toEqual(a.toArray()); // the stream goes on
  });
});

describe("backward", () => {
  test("one-element outputs default to a seed of 1; others need a seed of their shape", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x);
    expect(() => y.backward()).toThrow(/backward: an output of shape \[3\] needs an explicit seed/);
    expect(() => y.backward(tensor([1, 1]))).toThrow(/seed shape \[2\] does not match the output shape \[3\]/);
    y.backward(tensor([1, 0, 2]));
    expect(x.grad?.toArray()).toEqual([2, 0, 12]);
  });

  test("gradients accumulate until zeroed; intermediates keep none unless retained", () => {
    const w = tensor([0.5, -1], { requiresGrad: true });
    const h = w.mul(3).retainGrad();
    const mid = h.exp();
    const loss = mid.sum();
    loss.backward(undefined, { retainGraph: true });
    expect(h.grad).not.toBeNull();
    expect(mid.grad).toBeNull();
    const first = w.grad?.toArray() as number[];
    loss.backward(undefined, { retainGraph: true });
    expect(w.grad?.toArray()).toEqual(first.map((g) => 2 * g));
    w.zeroGrad();
    expect(w.grad).toBeNull();
  });

  test("a released graph refuses a second backward", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const loss = w.sigmoid().sum();
    loss.backward();
    expect(() => loss.backward()).toThrow(/backward: the graph through 'sum' was already used by a backward pass/);
  });

  test("a tensor used twice and a reused intermediate accumulate over paths", () => {
    const a = tensor(3, { requiresGrad: true });
    const b = a.add(a);
    b.add(b).backward();
    expect(a.grad?.item()).toBe(4);
    const x = tensor([1.5], { requiresGrad: true });
    x.mul(x).sum().backward();
    expect(x.grad?.toArray()).toEqual([3]);
  });

  test("noGrad records nothing; detach cuts the graph", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => w.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.parents).toHaveLength(0);
    const d = w.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(() => d.sum().backward()).toThrow(/backward: this tensor does not require grad/);
  });

  test("a deep chain of 0-d tensors backpropagates without a stack overflow", () => {
    const x0 = tensor(1, { requiresGrad: true });
    let x = x0;
    for (let i = 0; i < 50_000; i++) x = x.mul(1.0000001).add(0);
    x.backward();
    expect(x0.grad?.item()).toBeCloseTo(1.0000001 ** 50_000, 9);
  });

  test("the gradient of a float32 input is float32 even when the result is float64", () => {
    const a = tensor([1, 2], { dtype: "float32", requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const y = a.mul(b);
    expect(y.dtype).toBe("float64");
    y.sum().backward();
    expect(a.grad?.dtype).toBe("float32");
    expect(a.grad?.toArray()).toEqual([3, 4]);
  });
});

describe("operations", () => {
  test("broadcasting add equals adding the explicitly expanded operand", () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tensor([10, 20, 30]);
    expect(a.add(b).toArray()).toEqual(a.add(b.expand([2, 3])).toArray());
    expect(a.add(tensor([[1], [2]])).toArray()).toEqual([
      [2, 3, 4],
      [6, 7, 8],
    ]);
  });

  test("reductions with axes and keepdims", () => {
    const x = arange(24).reshape([2, 3, 4]);
    expect(x.sum().item()).toBe(276);
    expect(x.sum(1).shape).toEqual([2, 4]);
    expect(x.sum([0, 2], true).shape).toEqual([1, 3, 1]);
    expect(x.sum(-1).toArray()).toEqual([
      [6, 22, 38],
      [54, 70, 86],
    ]);
    expect(x.mean(0).toArray()).toEqual(x.sum(0).div(2).toArray());
    expect(x.max(2).toArray()).toEqual([
      [3, 7, 11],
      [15, 19, 23],
    ]);
    expect(x.min([0, 1]).toArray()).toEqual([0, 1, 2, 3]);
    expect(tensor([3, 1, 4, 1, 5]).argmax().item()).toBe(4);
    expect(tensor([3, 1, 4, 1, 5]).argmin().item()).toBe(1);
    expect(x.argmax(1).toArray()).toEqual([
      [2, 2, 2, 2],
      [2, 2, 2, 2],
    ]);
  });

  test("max sends the gradient to the first maximal element", () => {
    const x = tensor([1, 5, 5, 2], { requiresGrad: true });
    x.max().backward();
    expect(x.grad?.toArray()).toEqual([0, 1, 0, 0]);
  });

  test("matmul: 2-D, batched with broadcasting, and the vector cases", () => {
    const a = tensor([
      [1, 2],
      [3, 4],
    ]);
    const v = tensor([1, -1]);
    expect(a.matmul(a).toArray()).toEqual([
      [7, 10],
      [15, 22],
    ]);
    expect(a.matmul(v).toArray()).toEqual([-1, -1]);
    expect(v.matmul(a).toArray()).toEqual([-2, -2]);
    expect(v.matmul(v).shape).toEqual([]);
    expect(v.matmul(v).item()).toBe(2);
    const batch = stack([a, a.mul(2), a.neg()]);
    expect(batch.matmul(a).shape).toEqual([3, 2, 2]);
    expect(ones([4, 1, 2, 3]).matmul(ones([5, 3, 2])).shape).toEqual([4, 5, 2, 2]);
  });

  test("shape operations", () => {
    const x = arange(6).reshape([2, 3]);
    expect(x.reshape([3, -1]).shape).toEqual([3, 2]);
    expect(x.T.toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(x.unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(x.unsqueeze(-1).squeeze().shape).toEqual([2, 3]);
    expect(x.flatten().toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(x.slice(null, [0, null, 2]).toArray()).toEqual([
      [0, 2],
      [3, 5],
    ]);
    expect(x.slice([-1]).toArray()).toEqual([[3, 4, 5]]);
    expect(arange(5).slice([null, null, -1]).toArray()).toEqual([4, 3, 2, 1, 0]);
    expect(x.take([1, 0, 1]).toArray()).toEqual([
      [3, 4, 5],
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(x.index([-1]).toArray()).toEqual([[3, 4, 5]]);
    expect(concat([x, x], 1).shape).toEqual([2, 6]);
    expect(stack([x, x], 1).shape).toEqual([2, 2, 3]);
    expect(x.permute([1, 0]).toArray()).toEqual(x.T.toArray());
  });

  test("softmax, logSoftmax and logsumexp are stable at magnitude 1000", () => {
    const x = tensor(
      [
        [1000, 1001, 999],
        [-1000, -1002, -1001],
      ],
      { requiresGrad: true },
    );
    const s = x.softmax(1);
    for (const row of s.toArray() as number[][]) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect((s.toArray() as number[][])[0]?.[1]).toBeCloseTo(Math.E / (1 + Math.E + Math.exp(-1)), 12);
    const lse = x.logsumexp(1);
    expect(lse.toArray()).toEqual([
      1000 + Math.log(Math.exp(0) + Math.exp(1) + Math.exp(-1)),
      -1000 + Math.log(1 + Math.exp(-2) + Math.exp(-1)),
    ]);
    x.logSoftmax(1)
      .mul(tensor([[1, 0, 2]]))
      .sum()
      .backward();
    for (const g of x.grad?.data ?? []) expect(Number.isFinite(g)).toBe(true);
    expect(tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]).logsumexp().item()).toBe(
      Number.NEGATIVE_INFINITY,
    );
  });

  test("logsumexp(x) ≥ max(x)", () => {
    const x = randn([5, 7], new Random(3));
    const lse = x.logsumexp(1).data;
    const mx = x.max(1).data;
    for (let i = 0; i < 5; i++) expect(lse[i]).toBeGreaterThanOrEqual(mx[i] as number);
  });

  test("where and comparisons", () => {
    const x = tensor([-1, 0, 2]);
    expect(x.gt(0).toArray()).toEqual([0, 0, 1]);
    expect(x.le(0).toArray()).toEqual([1, 1, 0]);
    expect(x.eq(tensor([-1, 1, 2])).toArray()).toEqual([1, 0, 1]);
    expect(where(x.gt(0), x, tensor([5, 6, 7])).toArray()).toEqual([5, 6, 2]);
    expect(x.clamp(-0.5, 1).toArray()).toEqual([-0.5, 0, 1]);
  });

  test("in-place updates: only on leaves, and parameters only under noGrad", () => {
    const p = tensor([1, 2], { requiresGrad: true });
    expect(() => p.addInPlace(tensor([1, 1]))).toThrow(
      /addInPlace: cannot change a leaf that requires grad in place while recording/,
    );
    noGrad(() => p.addInPlace(tensor([1, 1]), -0.5));
    expect(p.toArray()).toEqual([0.5, 1.5]);
    const y = p.mul(2);
    expect(() => noGrad(() => y.fill_(0))).toThrow(/fill_: cannot change the output of 'mul' in place/);
  });
});

describe("errors name the operation, the shapes and the axes", () => {
  test("shape mismatches", () => {
    expect(() => zeros([2, 3]).matmul(zeros([4, 5]))).toThrow(
      /matmul: shapes \[2, 3\] and \[4, 5\] are not aligned: 3 .* ≠ 4/,
    );
    expect(() => zeros([2, 3]).add(zeros([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast together/);
    expect(() => zeros([2, 3]).reshape([4, 2])).toThrow(
      /reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4, 2\]/,
    );
    expect(() => concat([zeros([2, 3]), zeros([3, 3])], 1)).toThrow(
      /concat: tensor 1 has shape \[3, 3\], which does not match \[2, 3\] outside axis 1/,
    );
    expect(() => zeros([2]).expand([3])).toThrow(/expand: shapes \[2\] and \[3\] cannot be broadcast together/);
  });
  test("axes out of range", () => {
    expect(() => zeros([2, 3]).sum(2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2 \(valid: -2…1\)/);
    expect(() => zeros([2, 3]).softmax(-3)).toThrow(/softmax: axis -3 is out of range for a tensor of rank 2/);
    expect(() => zeros([2, 3]).max([0, 0])).toThrow(/max: axis \[0, 0\] repeats an axis/);
    expect(() => zeros([2, 0]).max(1)).toThrow(/max: cannot reduce axis 1 of size 0/);
    expect(() => zeros([2, 3]).take([3])).toThrow(/take: index 3 \(position 0\) is out of range for axis 0 of size 2/);
  });
  test("operands of the wrong kind", () => {
    expect(() => zeros([2]).add("x" as never)).toThrow(ChainruleError);
    expect(() => zeros([2]).mul([1, 2] as never)).toThrow(/mul: operand must be a Tensor or a number, got an array/);
    expect(() => new Tensor(new Float64Array(3), [2])).toThrow(/data has 3 elements but shape \[2\] needs 2/);
  });
});

describe("small storages (up to 2 KB) are windows into shared slabs", () => {
  test("each class: zeroed, exactly its own elements, disjoint, and a slab of at most 16 of its class", () => {
    for (const dtype of ["float64", "float32", "int32"] as const) {
      for (const size of [9, 20, 100, 200, 256, 300]) {
        const ts = Array.from({ length: 40 }, () => zeros([size], { dtype }));
        ts.forEach((t, i) => {
          expect(t.data.length).toBe(size);
          expect(t.data.every((v) => v === 0)).toBe(true);
          if (t.data.byteLength <= 2048) {
            const cls = 2 ** Math.ceil(Math.log2(Math.max(t.data.byteLength, 64)));
            expect(t.data.buffer.byteLength).toBeLessThanOrEqual(cls === 64 ? 1024 : 16 * cls);
          } else {
            expect(t.data.buffer.byteLength).toBe(t.data.byteLength); // a buffer of its own
          }
          t.fill_(i + 1);
        });
        for (const [i, t] of ts.entries()) expect(t.data.every((v) => v === i + 1)).toBe(true);
      }
    }
  });
});

describe("tiny storages are windows into shared slabs", () => {
  test("each is zeroed, holds exactly its own elements, and changes to it stay in it", () => {
    for (const dtype of ["float64", "float32"] as const) {
      // hundreds of tiny results: several slabs, and views that end at a slab's edge
      const xs = Array.from({ length: 400 }, (_, i) => tensor(i + 0.5, { dtype }).mul(2));
      xs.forEach((x, i) => {
        expect(x.item()).toBe(2 * i + 1);
        expect(x.data.length).toBe(1);
        expect(x.data.byteLength).toBe(x.data.BYTES_PER_ELEMENT);
      });
      const small = Array.from({ length: 300 }, () => zeros([3], { dtype }));
      for (const z of small) expect([...z.data]).toEqual([0, 0, 0]);
      (small[100] as Tensor).fill_(7);
      expect([...(small[99] as Tensor).data, ...(small[101] as Tensor).data]).toEqual([0, 0, 0, 0, 0, 0]);
      expect(xs.map((x) => x.item())).toEqual(xs.map((_, i) => 2 * i + 1));
    }
  });
});

describe("a leaf keeps the gradient the pass made for it, and copies any other", () => {
  const shared = (p: Tensor, q: Tensor) => (p.grad as Tensor).data === (q.grad as Tensor).data;

  test("one gradient for two leaves (a + b): each leaf gets a storage of its own", () => {
    const a = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { requiresGrad: true });
    const b = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { requiresGrad: true });
    a.add(b).mul(3).sum().backward();
    expect(shared(a, b)).toBe(false);
    (a.grad as Tensor).mulInPlace(2);
    expect([...(b.grad as Tensor).data]).toEqual(Array(10).fill(3));
  });

  test("a retained intermediate and a leaf fed the same gradient do not share it", () => {
    const x = tensor(
      Array.from({ length: 12 }, (_, i) => i),
      { requiresGrad: true },
    );
    const y = x.add(1);
    y.retainGrad();
    y.mul(2).sum().backward();
    expect(shared(x, y)).toBe(false);
    (x.grad as Tensor).fill_(0);
    expect([...(y.grad as Tensor).data]).toEqual(Array(12).fill(2));
  });

  test("a seed, and a custom op's returned gradient, are copied: changing .grad changes neither", () => {
    const x = tensor(
      Array.from({ length: 16 }, (_, i) => i),
      { requiresGrad: true },
    );
    const seed = tensor(Array(16).fill(5));
    x.add(0).backward(seed);
    (x.grad as Tensor).fill_(0);
    expect([...seed.data]).toEqual(Array(16).fill(5));

    // the op's backward makes its gradient during the pass and keeps it
    let kept = tensor(0);
    const keepIt = customOp({
      name: "keepIt",
      forward: (t) => t.mul(1),
      backward: () => {
        kept = tensor(Array(16).fill(7));
        return [kept];
      },
    });
    const z = tensor(Array(16).fill(1), { requiresGrad: true });
    keepIt(z).sum().backward();
    (z.grad as Tensor).fill_(0);
    expect([...kept.data]).toEqual(Array(16).fill(7));
  });

  test("a user rule that keeps the gradient it receives: leaves and retained outputs get copies", () => {
    const n = 16;
    const w = tensor(Array.from({ length: n }, (_, i) => i + 1));
    let logged = tensor(0);
    const scaleGrad = customOp({
      name: "scaleGrad",
      forward: (t) => t.mul(1),
      backward: (g) => {
        logged = g;
        return [g.mul(-1)];
      },
    });
    const a = tensor(Array(n).fill(1), { requiresGrad: true });
    const x = tensor(Array(n).fill(1), { requiresGrad: true });
    a.add(scaleGrad(x)).mul(w).sum().backward(); // add hands the same gradient to a and to scaleGrad
    (a.grad as Tensor).mulInPlace(0.5);
    expect([...logged.data]).toEqual([...w.data]);
    const y = scaleGrad(x);
    y.retainGrad();
    y.mul(w).sum().backward();
    (y.grad as Tensor).fill_(0);
    expect([...logged.data]).toEqual([...w.data]);
  });

  test("a rule given to the Tensor constructor that caches what it returns: the leaf gets a copy", () => {
    const x = tensor(Array(12).fill(2), { requiresGrad: true });
    let cache: Tensor | null = null;
    const y = new Tensor(x.data.slice(), x.shape, true, "myop", [x], (g) => {
      cache ??= g.mul(3);
      return [cache];
    });
    y.sum().backward();
    (x.grad as Tensor).fill_(0);
    expect([...(cache as unknown as Tensor).data]).toEqual(Array(12).fill(3));
  });
});

describe("divInPlace", () => {
  test("gives the bits of div, short and long (SIMD) arrays, float32 with a divisor rounded to float32", () => {
    for (const n of [7, 3001]) {
      for (const dtype of ["float64", "float32"] as const) {
        for (const divisor of [255, 0.1, -3, 0, Number.POSITIVE_INFINITY]) {
          const values = Array.from({ length: n }, (_, i) =>
            i % 11 === 0 ? [0, -0, Number.NaN, 1e-40][i % 4] : Math.sin(i) * 1e3,
          );
          const t = tensor(values as number[], { dtype });
          const want = t.div(divisor).data;
          const version = t.version;
          expect(t.divInPlace(divisor)).toBe(t);
          expect(t.version).toBe(version + 1);
          for (let i = 0; i < n; i++)
            expect(Object.is(t.data[i], want[i]) || (Number.isNaN(t.data[i]) && Number.isNaN(want[i]))).toBe(true);
        }
      }
    }
  });

  test("refuses an int32 tensor and a leaf that requires grad", () => {
    expect(() => tensor([1, 2], { dtype: "int32" }).divInPlace(2)).toThrow(/^divInPlace: an int32 tensor cannot hold/);
    expect(() => tensor([1, 2], { requiresGrad: true }).divInPlace(2)).toThrow(/divInPlace/);
  });
});

describe("broadcast arithmetic on long arrays (SIMD kernels) gives the loop's bits", () => {
  test("a bias row, a number and equal shapes, either operand first", () => {
    const loop: Record<string, (a: number, b: number) => number> = {
      add: (a, b) => a + b,
      sub: (a, b) => a - b,
      mul: (a, b) => a * b,
      div: (a, b) => a / b,
    };
    const outShape = [2, 8, 100];
    for (const dtype of ["float32", "float64"] as const) {
      const round = dtype === "float32" ? Math.fround : (v: number) => v;
      const x = randn(outShape, new Random(3), { dtype });
      for (const shape of [[100], [1, 100], [8, 100], [2, 8, 100], [], [8, 1]]) {
        const b = randn(shape, new Random(4), { dtype }).add(2);
        // b's value at each flat index of the broadcast result
        const strides = broadcastStrides(shape, outShape);
        const at = (i: number) =>
          b.data[
            Math.floor(i / 800) * strides[0]! + (Math.floor(i / 100) % 8) * strides[1]! + (i % 100) * strides[2]!
          ] as number;
        for (const op of ["add", "sub", "mul", "div"] as const) {
          const y = x[op](b).data;
          const z = b[op](x).data;
          for (let i = 0; i < x.size; i++) {
            expect(y[i]).toBe(round(loop[op]!(x.data[i] as number, at(i))));
            expect(z[i]).toBe(round(loop[op]!(at(i), x.data[i] as number)));
          }
        }
      }
    }
  });
});
