/**
 * @file The ASCII chart has a title, a legend and colour only when asked; the SVG chart is
 * well-formed XML with one polyline per series holding one point per finite value.
 */

import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, test } from "vitest";
import { asciiChart, escapeXml, svgChart } from "./chart.js";

const loss = [0.0712, 0.041, 0.033, 0.029, 0.026, 0.024, 0.022, 0.021, 0.02, 0.019];
const accuracy = [0.7245, 0.84, 0.872, 0.885, 0.893, 0.9, 0.905, 0.909, 0.912, 0.915];

describe("asciiChart", () => {
  test("title, plot rows and a legend, without escape codes when colours are off", () => {
    const text = asciiChart([{ name: "loss", values: loss }], { height: 10, title: "training loss", colors: false });
    const lines = text.split("\n");
    expect(lines[0]?.trim()).toBe("training loss");
    expect(lines).toHaveLength(1 + 11 + 1); // title, height + 1 rows, legend
    expect(lines.at(-1)?.trim()).toBe("── loss 0.0190");
    expect(lines[1]).toMatch(/^0\.0712 ┼/); // the top row is labelled with the maximum
    expect(text).not.toContain("\u001b"); // no escape codes
    // stretched to 60 columns: the axis and label, then one column per point
    expect(Math.max(...lines.slice(1, -1).map((l) => l.trimEnd().length))).toBeLessThanOrEqual(8 + 60);
  });

  test("several series share the axis and each gets a legend entry; colour on request", () => {
    const text = asciiChart(
      [
        { name: "train", values: accuracy },
        { name: "test", values: accuracy.map((a) => a - 0.01) },
      ],
      { height: 6, colors: true },
    );
    expect(text).toContain("\u001b[34m"); // the first series in blue
    expect(text).toMatch(/train 0\.915/);
    expect(text).toMatch(/test 0\.905/);
  });

  test("refuses nothing to draw", () => {
    expect(() => asciiChart([])).toThrow(/asciiChart/);
    expect(() => asciiChart([{ name: "empty", values: [] }])).toThrow(/empty/);
  });
});

describe("svgChart", () => {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });

  test("well-formed SVG with one polyline per series, one point per value", () => {
    const svg = svgChart(
      [
        { name: "loss", values: loss },
        { name: "test accuracy", values: accuracy.slice(0, 7), axis: "right" },
      ],
      { title: "784-30-10 <MNIST> & friends", yLabel: "loss", yLabelRight: "accuracy" },
    );
    expect(XMLValidator.validate(svg)).toBe(true);
    const root = parser.parse(svg).svg;
    expect(root.xmlns).toBe("http://www.w3.org/2000/svg");
    expect(root.title).toBe("784-30-10 <MNIST> & friends"); // escaped on the way out, read back intact
    const polylines = [root.polyline].flat();
    expect(polylines).toHaveLength(2);
    expect(polylines.map((p) => p.title)).toEqual(["loss", "test accuracy"]);
    const points = polylines.map((p) => (p.points as string).split(" "));
    expect(points.map((p) => p.length)).toEqual([10, 7]);
    for (const p of points.flat()) expect(p).toMatch(/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/);
    expect(svg).toContain("accuracy");
    expect(svg).toContain("(right axis)");
  });

  test("every point lies inside the drawing", () => {
    const svg = svgChart([{ name: "loss", values: loss }], { title: "t", width: 400, height: 300 });
    const { polyline } = parser.parse(svg).svg;
    for (const pair of (polyline.points as string).split(" ")) {
      const [x, y] = pair.split(",").map(Number) as [number, number];
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(400);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(300);
    }
  });

  test("a diverged (NaN) value is left out; a single point still draws", () => {
    const svg = svgChart([{ name: "loss", values: [0.5, Number.NaN, 0.3] }], { title: "t" });
    expect(XMLValidator.validate(svg)).toBe(true);
    expect((parser.parse(svg).svg.polyline.points as string).split(" ")).toHaveLength(2);
    const one = svgChart([{ name: "acc", values: [0.9] }], { title: "one epoch" });
    expect(XMLValidator.validate(one)).toBe(true);
    expect(one).not.toMatch(/NaN|Infinity/);
  });
});

test("escapeXml", () => {
  expect(escapeXml(`a<b & "c" 'd'>`)).toBe("a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
});
