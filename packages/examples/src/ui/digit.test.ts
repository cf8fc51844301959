/**
 * @file The shape of the text drawings: 28 × 28 pixels make 14 lines of 28 characters (14 × 7 at
 * block 2), grey levels map onto the ramp, and `sideBySide` captions and wraps within 80 columns.
 */

import { loadMnist, PIXELS, pixels } from "@chainrule/datasets";
import { describe, expect, test } from "vitest";
import { asciiDigit, RAMP, sideBySide } from "./digit.js";

/** A 28 × 28 image with a filled square of ink at rows and columns 8…19. */
const square = Float64Array.from({ length: PIXELS }, (_, i) => {
  const [r, c] = [Math.floor(i / 28), i % 28];
  return r >= 8 && r < 20 && c >= 8 && c < 20 ? 1 : 0;
});

describe("asciiDigit", () => {
  test("28 × 28 pixels → 14 lines of 28 characters; block 2 → 7 lines of 14", () => {
    const lines = asciiDigit(square).split("\n");
    expect(lines).toHaveLength(14);
    expect(lines.every((l) => l.length === 28)).toBe(true);
    expect(lines[4]).toBe(`${" ".repeat(8)}${"@".repeat(12)}${" ".repeat(8)}`);
    expect(lines[0]).toBe(" ".repeat(28));
    const small = asciiDigit(square, 28, { block: 2 }).split("\n");
    expect(small).toHaveLength(7);
    expect(small.every((l) => l.length === 14)).toBe(true);
  });

  test("grey levels follow the ramp from blank to full ink", () => {
    const levels = Array.from({ length: 10 }, (_, k) => (k + 0.5) / 10);
    // a 10 × 2 image: one character per column, each column one grey level
    expect(asciiDigit([...levels, ...levels], 10)).toBe(RAMP);
    expect(asciiDigit([-3, 7], 2)).toBe(" @"); // clamped to [0, 1]
  });

  test("trim cuts the blank border", () => {
    const lines = asciiDigit(square, 28, { trim: true }).split("\n");
    expect(lines).toEqual(Array(6).fill("@".repeat(12)));
    expect(asciiDigit(new Float64Array(PIXELS), 28, { trim: true })).toBe("");
  });

  test("a real digit: the first MNIST row", () => {
    const { images } = loadMnist();
    const text = asciiDigit(pixels(images, [0]));
    expect(text.split("\n")).toHaveLength(14);
    expect(text).toMatch(/@/);
  });

  test("rejects pixels that do not fill whole rows", () => {
    expect(() => asciiDigit(new Float64Array(790))).toThrow(/790 pixels/);
  });
});

describe("sideBySide", () => {
  const digit = asciiDigit(square, 28, { trim: true }); // 12 × 6

  test("drawings in a row with their captions underneath", () => {
    const text = sideBySide([digit, digit], ["true 4 / predicted 9", "true 7\npredicted 1"]);
    const lines = text.split("\n");
    expect(lines).toHaveLength(6 + 2); // drawing lines, then the taller caption
    // column widths max(12, 20) = 20 and max(12, 11) = 12, joined by a gap of 3; a narrower
    // drawing or caption is centred in its column
    expect(lines[0]).toBe(`    ${"@".repeat(12)}       ${"@".repeat(12)}`);
    expect(lines[6]).toBe("true 4 / predicted 9      true 7");
    expect(lines[7]).toBe(`${" ".repeat(23)}predicted 1`);
  });

  test("wraps into bands that fit maxWidth", () => {
    const full = asciiDigit(square); // 28 wide: two per 80 columns with a gap of 3
    const text = sideBySide([full, full, full], ["a", "b", "c"]);
    const lines = text.split("\n");
    // two bands of 14 drawing lines and a caption line, with a blank line between them
    expect(lines).toHaveLength(15 + 1 + 15);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    expect(lines[14]).toBe(`${" ".repeat(13)}a${" ".repeat(30)}b`);
    expect(lines[15]).toBe("");
    expect(lines[16]).toBe("");
    expect(lines[20]).toBe(`${" ".repeat(8)}${"@".repeat(12)}`);
    expect(lines[30]).toBe(`${" ".repeat(13)}c`);
  });

  test("more captions than drawings is an error", () => {
    expect(() => sideBySide([digit], ["a", "b"])).toThrow(/2 captions for 1 drawings/);
  });
});
