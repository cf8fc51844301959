/**
 * Shapes whose storage no JavaScript engine can allocate are refused before allocating, with a
 * ChainruleError naming the op, the shape and the bytes asked for, instead of the engine's
 * "RangeError: Invalid typed array length" from inside the library.
 */
import { describe, expect, test } from "vitest";
import {
  arange,
  ChainruleError,
  eye,
  linspace,
  ones,
  Random,
  rand,
  randn,
  tensor,
  where,
  zeros,
} from "../src/index.js";

/** The ChainruleError that `fn` throws (fails the test if it throws anything else). */
function errorOf(fn: () => unknown): ChainruleError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ChainruleError);
    return error as ChainruleError;
  }
  throw new Error("expected a ChainruleError, nothing was thrown");
}

describe("huge shapes", () => {
  test("zeros([1e6, 1e6]) names the op, the shape and the bytes", () => {
    const e = errorOf(() => zeros([1e6, 1e6]));
    expect(e.op).toBe("zeros");
    expect(e.message).toMatch(
      /^zeros: a float64 result of shape \[1000000, 1000000\] needs 8000000000000 bytes \(8 TB\), over the limit of 17\.2 GB per tensor$/,
    );
  });

  test.each([
    [
      "ones",
      () => ones([1e5, 1e5], { dtype: "float32" }),
      /ones: a float32 result of shape \[100000, 100000\] needs 40000000000 bytes/,
    ],
    [
      "randn",
      () => randn([1e5, 1e5], new Random(0)),
      /randn: a float64 result of shape \[100000, 100000\] needs 80000000000 bytes/,
    ],
    ["rand", () => rand([1e5, 1e5], new Random(0)), /rand: .* shape \[100000, 100000\]/],
    ["eye", () => eye(1e6), /eye: a float64 result of shape \[1000000, 1000000\] needs 8000000000000 bytes/],
    ["arange", () => arange(1e12), /arange: .* shape \[1000000000000\]/],
    ["linspace", () => linspace(0, 1, 1e12), /linspace: .* shape \[1000000000000\]/],
    [
      "expand",
      () => tensor([1]).expand([1e5, 1e5]).sum(),
      /expand: .* shape \[100000, 100000\] needs 80000000000 bytes/,
    ],
    [
      "matmul",
      () => zeros([1e5, 1]).matmul(zeros([1, 1e5])),
      /matmul: .* shape \[100000, 100000\] needs 80000000000 bytes/,
    ],
    ["add", () => zeros([1e5, 1]).add(zeros([1, 1e5])), /add: .* shape \[100000, 100000\]/],
    ["maximum", () => zeros([1e5, 1]).maximum(zeros([1, 1e5])), /maximum: .* shape \[100000, 100000\]/],
    ["gt", () => zeros([1e5, 1]).gt(zeros([1, 1e5])), /gt: .* shape \[100000, 100000\]/],
    ["where", () => where(zeros([1e5, 1]), zeros([1, 1e5]), 0), /where: .* shape \[100000, 100000\]/],
  ])("%s", (_name, fn, message) => {
    expect(errorOf(fn).message).toMatch(message);
  });

  test("shapes below the limit still work, and an empty huge shape is fine", () => {
    expect(zeros([0, 1e12]).size).toBe(0);
    expect(zeros([1000, 1000]).size).toBe(1e6);
  });
});

describe("movement ops refuse huge results before building their index maps", () => {
  test("tile, repeatInterleave and pad name the op, the shape and the bytes", () => {
    const x = tensor([1, 2, 3]);
    expect(() => x.tile([1e9, 1e3])).toThrow(/tile: .*\[1000000000, 3000\].*bytes/);
    expect(() => x.repeatInterleave(2e9)).toThrow(/repeatInterleave: .*bytes/);
    expect(() => x.pad([[0, 5e9]])).toThrow(/pad: .*bytes/);
  });
});
