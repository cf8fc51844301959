/**
 * @file Digits as text: `asciiDigit` draws a grey-level image with a ramp of characters, and
 * `sideBySide` sets several drawings in a row with captions ("true 4", "predicted 9"), wrapping
 * at 80 columns, so the demo can show what the network gets wrong. Imports `ChainruleError` from
 * @chainrule/autograd.
 */

import { ChainruleError } from "@chainrule/autograd";

/** From blank to full ink: the character for a grey level in [0, 1] is RAMP[⌊10·v⌋]. */
export const RAMP = " .:-=+*#%@";

export interface AsciiDigitOptions {
  /** Pixels across per character (and twice as many down); default 1. */
  block?: number;
  /** Drop the blank lines and columns around the drawing; default false. */
  trim?: boolean;
}

/**
 * An image of grey levels in [0, 1] (0 = background, 1 = ink: MNIST's pixel values, as `pixels`
 * returns them; divide codes 0…255 by 255 first), `width` pixels per row, as lines of text.
 *
 * A terminal cell is about twice as tall as it is wide, so each character stands for `block`
 * pixels across and `2·block` down: a 28 × 28 digit becomes 28 columns × 14 lines with
 * `block = 1`, or 14 × 7 with `block = 2` (five of those fit side by side in 80 columns). With
 * `trim`, the blank border MNIST puts around every digit is cut off (about 20 × 10 characters
 * remain). Every line has the same length, trailing blanks included, so drawings can be laid out
 * as blocks.
 *
 * ```ts
 * console.log(asciiDigit(pixels(images, [0]))); // the first digit, 28 × 14 characters
 * ```
 */
export function asciiDigit(pixels: ArrayLike<number>, width = 28, options: AsciiDigitOptions = {}): string {
  const block = options.block ?? 1;
  if (!Number.isInteger(width) || width < 1 || pixels.length % width !== 0)
    throw new ChainruleError("asciiDigit", `${pixels.length} pixels do not make rows of width ${width}`);
  if (!Number.isInteger(block) || block < 1)
    throw new ChainruleError("asciiDigit", `block must be a positive integer, got ${block}`);
  const height = pixels.length / width;
  let lines: string[] = [];
  for (let top = 0; top < height; top += 2 * block) {
    let line = "";
    for (let left = 0; left < width; left += block) {
      // A cell of two pixels shows their mean, which keeps the anti-aliased edges smooth; a larger
      // cell shows its darkest pixel, since a mean would wash a one-pixel stroke out to a dot.
      // Cells at the right or bottom edge may hold fewer pixels.
      let sum = 0;
      let count = 0;
      let max = 0;
      for (let r = top; r < Math.min(top + 2 * block, height); r++)
        for (let c = left; c < Math.min(left + block, width); c++) {
          const v = pixels[r * width + c]!;
          sum += v;
          count++;
          if (v > max) max = v;
        }
      const grey = block === 1 ? sum / count : max;
      const v = Math.min(1, Math.max(0, grey)); // clamp: standardised inputs may leave [0, 1]
      line += RAMP[Math.min(RAMP.length - 1, Math.floor(v * RAMP.length))];
    }
    lines.push(line);
  }
  if (options.trim === true) lines = trimBlank(lines);
  return lines.join("\n");
}

/** Lines without the blank lines above and below and the blank columns left and right of the ink. */
function trimBlank(lines: string[]): string[] {
  const inked = lines.filter((l) => l.trim() !== "");
  if (inked.length === 0) return [""];
  const first = lines.findIndex((l) => l.trim() !== "");
  const last = lines.length - 1 - [...lines].reverse().findIndex((l) => l.trim() !== "");
  const left = Math.min(...inked.map((l) => l.length - l.trimStart().length));
  const right = Math.max(...inked.map((l) => l.trimEnd().length));
  return lines.slice(first, last + 1).map((l) => l.slice(left, right));
}

export interface SideBySideOptions {
  /** Blank columns between drawings; default 3. */
  gap?: number;
  /** Width of the terminal; drawings that do not fit start a new band below. Default 80. */
  maxWidth?: number;
}

/** `text` centred in `width` columns. */
function centre(text: string, width: number): string {
  return " ".repeat(Math.floor((width - text.length) / 2)) + text;
}

/**
 * Text drawings set in a row, each with its caption underneath (a caption may span several lines,
 * separated by "\n"). Drawings and captions are centred on each other; when the row would be
 * wider than `maxWidth`, it continues in a new band after a blank line.
 *
 * ```ts
 * const drawings = wrong.map((r) => asciiDigit(pixels(images, [r]), 28, { trim: true }));
 * console.log(sideBySide(drawings, wrong.map((r) => `true ${labels[r]} / predicted ${guess[r]}`)));
 * ```
 */
export function sideBySide(blocks: string[], captions: string[] = [], options: SideBySideOptions = {}): string {
  if (captions.length > blocks.length)
    throw new ChainruleError("sideBySide", `${captions.length} captions for ${blocks.length} drawings`);
  const gap = options.gap ?? 3;
  const maxWidth = options.maxWidth ?? 80;

  const columns = blocks.map((drawing, i) => {
    const art = drawing.split("\n");
    const caption = captions[i] === undefined || captions[i] === "" ? [] : captions[i]!.split("\n");
    const artWidth = Math.max(...art.map((l) => l.length));
    const width = Math.max(artWidth, ...caption.map((l) => l.length));
    // Centre the drawing as a whole (not line by line) so its shape is kept.
    const indent = " ".repeat(Math.floor((width - artWidth) / 2));
    return { width, art: art.map((l) => indent + l), caption: caption.map((l) => centre(l, width)) };
  });

  // Greedy bands: as many drawings per band as fit in maxWidth (always at least one).
  const bands: (typeof columns)[] = [];
  let used = 0;
  for (const column of columns) {
    const band = bands[bands.length - 1];
    if (band !== undefined && used + gap + column.width <= maxWidth) {
      band.push(column);
      used += gap + column.width;
    } else {
      bands.push([column]);
      used = column.width;
    }
  }

  const spacer = " ".repeat(gap);
  const text = bands.map((band) => {
    const artLines = Math.max(...band.map((c) => c.art.length));
    const captionLines = Math.max(...band.map((c) => c.caption.length));
    const lines: string[] = [];
    for (let r = 0; r < artLines + captionLines; r++) {
      const cells = band.map((c) =>
        (r < artLines ? (c.art[r] ?? "") : (c.caption[r - artLines] ?? "")).padEnd(c.width),
      );
      lines.push(cells.join(spacer).trimEnd());
    }
    return lines.join("\n");
  });
  return text.join("\n\n");
}
