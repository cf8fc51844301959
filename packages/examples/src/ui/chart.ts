/**
 * @file Training curves two ways: `asciiChart` draws them in the terminal with asciichart, and
 * `svgChart` writes a standalone SVG line chart (axes, ticks, legend, an optional right-hand axis
 * so loss and accuracy can share one plot) for a report or a browser. Imports asciichart and
 * `ChainruleError` from @chainrule/autograd.
 */

import { ChainruleError } from "@chainrule/autograd";
import { blue, type Color, colored, green, magenta, plot, red, yellow } from "asciichart";

/** One curve: a value per step or epoch. */
export interface ChartSeries {
  name: string;
  values: number[];
  /** Which y-axis of the SVG chart it is read on; default `"left"`. The ASCII chart has one axis. */
  axis?: "left" | "right";
}

/** [min, max] of finite values; a loop, since spreading a long series into Math.min overflows the stack. */
function extent(values: number[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function checkSeries(op: string, series: ChartSeries[]): void {
  if (series.length === 0) throw new ChainruleError(op, "no series to draw");
  for (const s of series) if (s.values.length === 0) throw new ChainruleError(op, `series "${s.name}" has no values`);
}

// ------------------------------------------------------------------------------------------------
// Terminal

export interface AsciiChartOptions {
  /** Rows of the plot area; default 12. */
  height?: number;
  title?: string;
  /** Columns of the plot area; default the longest series, stretched to at least 60. */
  width?: number;
  /** ANSI colours per series; default only when stdout is a terminal, so logs stay plain text. */
  colors?: boolean;
}

const ASCII_COLORS: Color[] = [blue, green, magenta, yellow, red];

/**
 * `values` at `width` evenly spaced positions along an x-axis of `span` steps, by linear
 * interpolation; positions beyond the series' last value are dropped, so a shorter series stops
 * early instead of being stretched to the full width.
 */
function resample(values: number[], span: number, width: number): number[] {
  if (width === span) return values;
  const out: number[] = [];
  for (let c = 0; c < width; c++) {
    const x = width > 1 ? (c * (span - 1)) / (width - 1) : 0;
    if (x > values.length - 1 + 1e-9) break;
    const i = Math.min(Math.floor(x), values.length - 1);
    const t = x - i;
    const a = values[i]!;
    out.push(t > 0 ? a + t * (values[i + 1]! - a) : a);
  }
  return out;
}

/** Decimals that show a difference of `range` with about three significant digits. */
function decimalsFor(range: number): number {
  if (!(range > 0) || !Number.isFinite(range)) return 2;
  return Math.max(0, Math.min(6, 2 - Math.floor(Math.log10(range))));
}

/**
 * A line chart for the terminal, one line per series, with the title above and a legend (name and
 * last value) below. All series share one y-axis.
 *
 * ```ts
 * console.log(asciiChart([{ name: "loss", values: losses }], { height: 10, title: "training loss" }));
 * ```
 */
export function asciiChart(series: ChartSeries[], options: AsciiChartOptions = {}): string {
  checkSeries("asciiChart", series);
  const height = options.height ?? 12;
  const useColor = options.colors ?? process.stdout.isTTY === true;
  const span = Math.max(...series.map((s) => s.values.length));
  const width = options.width ?? Math.max(span, 60);

  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (all.length === 0) throw new ChainruleError("asciiChart", "no finite values to draw");
  const [min, max] = extent(all);
  const decimals = decimalsFor(max - min);
  const labelWidth = Math.max(min.toFixed(decimals).length, max.toFixed(decimals).length);

  const colors = series.map((_, j) => (useColor ? ASCII_COLORS[j % ASCII_COLORS.length] : undefined));
  const chart = plot(
    // NOTE: asciichart cannot skip a point, so a non-finite value (a diverged loss) is drawn at
    // the bottom of the axis rather than breaking the chart; the legend still shows it.
    series.map((s) => resample(s.values, span, width).map((v) => (Number.isFinite(v) ? v : min))),
    {
      height,
      min,
      max,
      colors,
      format: (v: number) => v.toFixed(decimals).padStart(labelWidth),
    },
  );

  const legend = series
    .map((s, j) => {
      const last = s.values[s.values.length - 1]!;
      return `${colored("──", colors[j])} ${s.name} ${last.toFixed(decimals)}`;
    })
    .join("   ");
  const indent = " ".repeat(labelWidth + 2); // lines up with the plot area, right of the axis
  const lines = options.title === undefined ? [] : [`${indent}${options.title}`];
  return [...lines, chart, `${indent}${legend}`].join("\n");
}

// ------------------------------------------------------------------------------------------------
// SVG

export interface SvgChartOptions {
  title: string;
  /** Caption of the x-axis; default `"epoch"`. */
  xLabel?: string;
  /** Caption of the left y-axis. */
  yLabel?: string;
  /** Caption of the right y-axis, used when some series has `axis: "right"`. */
  yLabelRight?: string;
  /** x of the first value; default 1 (epochs counted from 1). Value i is drawn at xStart + i. */
  xStart?: number;
  /** Size in pixels; default 720 × 420. */
  width?: number;
  height?: number;
}

const SVG_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

const XML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Makes text safe inside an XML element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}

/** A round step (1, 2 or 5 × 10ᵏ) that splits [lo, hi] into about `count` intervals. */
function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

interface Scale {
  lo: number;
  hi: number;
  ticks: number[];
  decimals: number;
}

/** An axis range widened to round tick values that enclose every value. */
function niceScale(values: number[], count: number, integer = false): Scale {
  let [lo, hi] = extent(values);
  if (lo === hi) {
    // A flat curve still needs a range to be drawn in; centre it.
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = integer ? Math.max(1, Math.round(niceStep(lo, hi, count))) : niceStep(lo, hi, count);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  // Ticks are computed as k·step from integers k, so no rounding error accumulates.
  const ticks = Array.from({ length: last - first + 1 }, (_, i) => (first + i) * step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { lo: first * step, hi: last * step, ticks, decimals };
}

/** Formats a number for an attribute: at most 2 decimals, no trailing zeros. */
const px = (v: number) => String(Math.round(v * 100) / 100);

/**
 * A standalone SVG line chart (a complete `<svg>` document as a string): one `<polyline>` per
 * series, with as many points as the series has finite values. Series with `axis: "right"` are
 * read on a second y-axis at the right and drawn dashed, so loss and accuracy fit in one plot.
 *
 * ```ts
 * writeFileSync("training.svg", svgChart(
 *   [{ name: "loss", values: losses }, { name: "test accuracy", values: accuracies, axis: "right" }],
 *   { title: "784-30-10 on MNIST", yLabel: "loss", yLabelRight: "accuracy" },
 * ));
 * ```
 */
export function svgChart(series: ChartSeries[], options: SvgChartOptions): string {
  checkSeries("svgChart", series);
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const xStart = options.xStart ?? 1;
  const hasRight = series.some((s) => s.axis === "right");
  const onAxis = (axis: "left" | "right") => series.filter((s) => (s.axis ?? "left") === axis);

  // Plot area inside margins for the title, legend, tick labels and axis captions.
  const left = 72;
  const right = width - (hasRight ? 72 : 24);
  const top = 64;
  const bottom = height - 56;

  const span = Math.max(...series.map((s) => s.values.length));
  const xScale = niceScale([xStart, xStart + Math.max(span - 1, 0)], span <= 12 ? Math.max(span - 1, 1) : 8, true);
  const yScale = (axis: "left" | "right"): Scale | undefined => {
    const values = onAxis(axis)
      .flatMap((s) => s.values)
      .filter(Number.isFinite);
    return values.length > 0 ? niceScale(values, 5) : undefined;
  };
  const scales = { left: yScale("left"), right: yScale("right") };
  if (scales.left === undefined && scales.right === undefined)
    throw new ChainruleError("svgChart", "no finite values to draw");

  const xPos = (x: number) => left + ((x - xScale.lo) / (xScale.hi - xScale.lo)) * (right - left);
  const yPos = (s: Scale, y: number) => bottom - ((y - s.lo) / (s.hi - s.lo)) * (bottom - top);

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="Helvetica, Arial, sans-serif" font-size="12">',
  );
  out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  out.push(
    `<text x="${px(width / 2)}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
  );

  // Grid and ticks of the left axis (or of the right one when it is the only one).
  const gridScale = scales.left ?? scales.right!;
  out.push('<g stroke="#e5e5e5" stroke-width="1">');
  for (const t of gridScale.ticks)
    out.push(`<line x1="${left}" y1="${px(yPos(gridScale, t))}" x2="${right}" y2="${px(yPos(gridScale, t))}"/>`);
  out.push("</g>");

  out.push('<g stroke="#333" stroke-width="1" fill="none">');
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`);
  if (scales.left !== undefined) out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/>`);
  if (scales.right !== undefined) out.push(`<line x1="${right}" y1="${top}" x2="${right}" y2="${bottom}"/>`);
  out.push("</g>");

  // x ticks and labels
  out.push('<g fill="#333" text-anchor="middle">');
  for (const t of xScale.ticks) {
    const x = px(xPos(t));
    out.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${bottom + 18}">${t.toFixed(xScale.decimals)}</text>`);
  }
  out.push(`<text x="${px((left + right) / 2)}" y="${height - 14}">${escapeXml(options.xLabel ?? "epoch")}</text>`);
  out.push("</g>");

  // y ticks, labels and captions; the right axis mirrors the left one
  for (const axis of ["left", "right"] as const) {
    const s = scales[axis];
    if (s === undefined) continue;
    const x0 = axis === "left" ? left : right;
    const dir = axis === "left" ? -1 : 1;
    out.push(`<g fill="#333" text-anchor="${axis === "left" ? "end" : "start"}">`);
    for (const t of s.ticks) {
      const y = px(yPos(s, t));
      out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + 5 * dir}" y2="${y}" stroke="#333"/>`);
      out.push(`<text x="${x0 + 8 * dir}" y="${y}" dy="0.35em">${t.toFixed(s.decimals)}</text>`);
    }
    out.push("</g>");
    const caption = axis === "left" ? options.yLabel : options.yLabelRight;
    if (caption !== undefined) {
      const cx = axis === "left" ? 16 : width - 16;
      const cy = px((top + bottom) / 2);
      out.push(
        `<text x="${cx}" y="${cy}" text-anchor="middle" fill="#333" transform="rotate(${axis === "left" ? -90 : 90} ${cx} ${cy})">${escapeXml(caption)}</text>`,
      );
    }
  }

  // The curves. Non-finite values (a diverged loss) are left out rather than drawn off the chart.
  series.forEach((s, j) => {
    const scale = scales[s.axis ?? "left"]!;
    const color = SVG_COLORS[j % SVG_COLORS.length]!;
    const points = s.values.flatMap((v, i) =>
      Number.isFinite(v) ? [`${px(xPos(xStart + i))},${px(yPos(scale, v))}`] : [],
    );
    const dash = s.axis === "right" ? ' stroke-dasharray="6 4"' : "";
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points.join(" ")}">` +
        `<title>${escapeXml(s.name)}</title></polyline>`,
    );
  });

  // Legend across the top, under the title.
  let lx = left;
  out.push('<g font-size="12">');
  series.forEach((s, j) => {
    const color = SVG_COLORS[j % SVG_COLORS.length]!;
    const dash = s.axis === "right" ? ' stroke-dasharray="6 4"' : "";
    const name = s.axis === "right" && hasRight ? `${s.name} (right axis)` : s.name;
    out.push(`<line x1="${lx}" y1="44" x2="${lx + 24}" y2="44" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="44" dy="0.35em" fill="#333">${escapeXml(name)}</text>`);
    lx += 30 + 7 * name.length + 24; // about 7 px per character at 12 px
  });
  out.push("</g>");

  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
