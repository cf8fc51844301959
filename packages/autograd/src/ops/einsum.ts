/**
 * @file einsum: Einstein summation, composed from other ops, so that its gradients, tangents and
 * batching rules are theirs. A spec such as "bij,bjk->bik" names every axis by a letter; letters
 * shared by operands are multiplied along, letters missing from the output are summed.
 *
 * The evaluation, much as PyTorch's: a letter repeated within one operand takes a diagonal ("ii->i");
 * a letter of one operand only, and not in the output, is summed at once; then the operands are
 * combined left to right. Each pairwise step is a batched matrix product: letters of both operands
 * that stay (batch), letters of both that go (contracted: K), letters of one only (M and N). The
 * operands are reshaped to [batch, M, K] and [batch, K, N] and multiplied by `mm`, whose transpose
 * flags take [batch, K, M] or [batch, N, K] as they are, so "ij,kj->ik" permutes nothing. A pair
 * with nothing to contract is a broadcasting product, and one whose every result is a single dot
 * product (M = N = 1, "bi,bi->b") is products and a sum, rather than B products of 1 × 1 matrices.
 * Imports tensor.ts, errors.ts, shape.ts, ops/matmul.ts, ops/rearrange.ts.
 */

import { ChainruleError } from "../errors.js";
import { formatShape, sizeOf } from "../shape.js";
import { Tensor } from "../tensor.js";
import { mm } from "./matmul.js";
import { diagonal } from "./rearrange.js";

/** An operand on the way: its values and the letter of each axis (no letter twice). */
interface Term {
  x: Tensor;
  letters: string[];
}

const LETTER = /^[a-zA-Z]$/;

/**
 * Einstein summation over single-letter subscripts, NumPy's and PyTorch's einsum: "ij,jk->ik" is
 * a matrix product, "ii->" a trace, "ii->i" a diagonal, "i,j->ij" an outer product, "bij->bji" a
 * permutation. Without "->", the output is every letter that appears once, in alphabetical order.
 * Axes of size 1 broadcast against the same letter's size elsewhere. The operands may also be
 * given as one array: `einsum("ij,jk", [a, b])`.
 */
export function einsum(spec: string, ...operands: Tensor[] | [readonly Tensor[]]): Tensor {
  if (typeof spec !== "string") throw new ChainruleError("einsum", `spec must be a string, got ${String(spec)}`);
  // the operands one by one, or as one list (torch.einsum accepts both)
  const tensors = (operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands) as Tensor[];
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ChainruleError("einsum", `operand ${i} is not a Tensor`);
  });
  const { inputs, output, sizes } = parse(spec.replace(/\s+/g, ""), tensors);

  // Each operand with distinct letters (diagonals taken), its size-1 axes broadcast.
  let terms: Term[] = inputs.map((letters, i) => {
    let x = tensors[i] as Tensor;
    const ls = [...letters];
    for (let a = 0; a < ls.length; a++) {
      const b = ls.indexOf(ls[a] as string, a + 1);
      if (b < 0) continue;
      const letter = ls[a] as string;
      x = diagonal(x, a, b); // the two axes become one, moved last
      ls.splice(b, 1);
      ls.splice(a, 1);
      ls.push(letter);
      a--;
    }
    const full = ls.map((l) => sizes.get(l) as number);
    if (full.some((d, k) => d !== x.shape[k])) x = x.expand(full);
    return { x, letters: ls };
  });

  // Sum letters that nothing after needs, then combine the operands left to right.
  const neededAfter = (k: number) => new Set([...output, ...inputs.slice(k).flat()]);
  terms = terms.map((t, k) => sumOut(t, new Set([...output, ...inputs.filter((_, j) => j !== k).flat()])));
  let acc = terms[0] as Term;
  for (let k = 1; k < terms.length; k++) acc = contract(acc, terms[k] as Term, neededAfter(k + 1));
  acc = sumOut(acc, new Set(output));
  const perm = output.map((l) => acc.letters.indexOf(l));
  return perm.every((p, i) => p === i) ? acc.x : acc.x.permute(perm);
}

/** The spec read and checked against the operands: letters per operand, the output, each letter's size. */
function parse(
  spec: string,
  tensors: readonly Tensor[],
): { inputs: string[][]; output: string[]; sizes: Map<string, number> } {
  const shapes = () => tensors.map((t) => formatShape(t.shape)).join(", ");
  const sides = spec.split("->");
  if (sides.length > 2) throw new ChainruleError("einsum", `spec "${spec}" has more than one "->"`);
  const lhs = sides[0] as string;
  if (lhs.includes(".")) throw new ChainruleError("einsum", `spec "${spec}": ellipses ("...") are not supported`);
  const inputs = lhs.split(",").map((term) => [...term]);
  if (inputs.length !== tensors.length) {
    throw new ChainruleError(
      "einsum",
      `spec "${spec}" has ${inputs.length} operand${inputs.length === 1 ? "" : "s"}, but ${tensors.length} tensor${tensors.length === 1 ? " was" : "s were"} given`,
    );
  }
  const sizes = new Map<string, number>();
  inputs.forEach((letters, i) => {
    const t = tensors[i] as Tensor;
    for (const l of letters) {
      if (!LETTER.test(l))
        throw new ChainruleError(
          "einsum",
          `spec "${spec}": subscript '${l}' of operand ${i} is not a letter a–z or A–Z`,
        );
    }
    if (letters.length !== t.ndim) {
      throw new ChainruleError(
        "einsum",
        `operand ${i} has subscripts "${letters.join("")}" (${letters.length}) but shape ${formatShape(t.shape)} (rank ${t.ndim})`,
      );
    }
    letters.forEach((l, a) => {
      const d = t.shape[a] as number;
      const first = letters.indexOf(l);
      if (first < a && t.shape[first] !== d) {
        throw new ChainruleError(
          "einsum",
          `subscript '${l}' is repeated in operand ${i} ("${letters.join("")}") over axes of sizes ${t.shape[first]} and ${d}; a diagonal needs equal sizes (shapes ${shapes()})`,
        );
      }
      const seen = sizes.get(l);
      if (seen === undefined || seen === 1) sizes.set(l, d);
      else if (d !== seen && d !== 1) {
        throw new ChainruleError(
          "einsum",
          `subscript '${l}' has size ${d} in operand ${i} but ${seen} elsewhere (shapes ${shapes()})`,
        );
      }
    });
  });
  const all = inputs.flat();
  let output: string[];
  if (sides.length === 2) {
    output = [...(sides[1] as string)];
    output.forEach((l, k) => {
      if (!LETTER.test(l))
        throw new ChainruleError("einsum", `spec "${spec}": output subscript '${l}' is not a letter`);
      if (output.indexOf(l) !== k)
        throw new ChainruleError("einsum", `spec "${spec}": output subscript '${l}' appears twice`);
      if (!sizes.has(l))
        throw new ChainruleError("einsum", `spec "${spec}": output subscript '${l}' appears in no operand`);
    });
  } else {
    // NumPy's implicit output: the letters that appear once, in alphabetical (ASCII) order
    output = [...new Set(all)].filter((l) => all.indexOf(l) === all.lastIndexOf(l)).sort();
  }
  return { inputs, output, sizes };
}

/** t with every letter not in `keep` summed out. */
function sumOut(t: Term, keep: ReadonlySet<string>): Term {
  const axes = t.letters.flatMap((l, a) => (keep.has(l) ? [] : [a]));
  if (axes.length === 0) return t;
  return { x: t.x.sum(axes), letters: t.letters.filter((l) => keep.has(l)) };
}

/** The product of two terms, summed over the letters they share that `keep` does not hold. */
function contract(A: Term, B: Term, keep: ReadonlySet<string>): Term {
  const inB = new Set(B.letters);
  const inA = new Set(A.letters);
  const a = sumOut(A, new Set([...keep, ...B.letters]));
  const b = sumOut(B, new Set([...keep, ...A.letters]));
  const batch = a.letters.filter((l) => inB.has(l) && keep.has(l));
  const k = a.letters.filter((l) => inB.has(l) && !keep.has(l));
  const m = a.letters.filter((l) => !inB.has(l));
  const n = b.letters.filter((l) => !inA.has(l));
  const dims = (t: Term, ls: readonly string[]) => ls.map((l) => t.x.shape[t.letters.indexOf(l)] as number);
  const letters = [...batch, ...m, ...n];

  if (k.length === 0) {
    // nothing to sum: a broadcasting product, a as [batch, m, 1…] times b as [batch, 1…, n]
    const x = arrange(a, [...batch, ...m]).reshape([...dims(a, batch), ...dims(a, m), ...n.map(() => 1)]);
    const y = arrange(b, [...batch, ...n]).reshape([...dims(b, batch), ...m.map(() => 1), ...dims(b, n)]);
    return { x: x.mul(y), letters };
  }

  const [B_, M, K, N] = [sizeOf(dims(a, batch)), sizeOf(dims(a, m)), sizeOf(dims(a, k)), sizeOf(dims(b, n))];
  if (M === 1 && N === 1) {
    // dot products, one per batch entry ("bi,bi->b"): one pass of products and a sum, not B tiny matrix products
    const x = arrange(a, [...batch, ...m, ...k]).reshape([...dims(a, batch), ...dims(a, m), ...n.map(() => 1), K]);
    const y = arrange(b, [...batch, ...n, ...k]).reshape([...dims(b, batch), ...m.map(() => 1), ...dims(b, n), K]);
    return { x: x.mul(y).sum(-1), letters };
  }
  // a as [batch, M, K] (or [batch, K, M], transposed), b as [batch, K, N] (or [batch, N, K])
  const transA = !matches(a, [...batch, ...m, ...k]) && matches(a, [...batch, ...k, ...m]);
  const transB = !matches(b, [...batch, ...k, ...n]) && matches(b, [...batch, ...n, ...k]);
  const x = transA ? a.x.reshape([B_, K, M]) : arrange(a, [...batch, ...m, ...k]).reshape([B_, M, K]);
  const y = transB ? b.x.reshape([B_, N, K]) : arrange(b, [...batch, ...k, ...n]).reshape([B_, K, N]);
  const out = mm(x, y, transA, transB).reshape([...dims(a, batch), ...dims(a, m), ...dims(b, n)]);
  return { x: out, letters };
}

/** Whether t's axes are already in the order `ls`. */
function matches(t: Term, ls: readonly string[]): boolean {
  return ls.every((l, i) => t.letters[i] === l);
}

/** t's values with axes in the order `ls` (a permutation of its letters). */
function arrange(t: Term, ls: readonly string[]): Tensor {
  return matches(t, ls) ? t.x : t.x.permute(ls.map((l) => t.letters.indexOf(l)));
}
