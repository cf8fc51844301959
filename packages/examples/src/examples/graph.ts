/**
 * @file Pictures of computation graphs as SVG (Graphviz compiled to WebAssembly: no system
 * install): the chapter's scalar network node by node, and Nielsen's 784–30–10 tensor network
 * with each layer collapsed into one box.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Random, renderDotToSvg, tensor, toDot } from "@chainrule/autograd";
import { MLP, quadraticCost } from "@chainrule/nn";
import { buildSeedNetwork } from "./seed-network.js";
import type { Example } from "./types.js";

export const example: Example = {
  name: "graph",
  summary:
    "draw the seed network's graph, and a 784–30–10 network by layer, as SVG (--out FILE; else a temporary folder)",
  async run({ print, out }) {
    // Without --out the pictures go to a new temporary folder, never into the working directory.
    const file = out ?? join(mkdtempSync(join(tmpdir(), "chainrule-graph-")), "graph.svg");
    const net = buildSeedNetwork();
    net.C.backward();
    const options = { inputs: [net.a0, net.y], title: "the chapter's network: C = ½(a² − y)²" };
    const dot = toDot(net.C, options);
    writeFileSync(file, await renderDotToSvg(dot));
    const boxes = dot.split("\n").filter((l) => /^\s+[ng]\d+ \[/.test(l)).length;
    print(`the seed network: ${boxes} nodes, values and gradients after backward, written to ${file}`);

    // The reference network, one box per layer: 23,860 parameters in a readable picture.
    const mlp = new MLP([784, 30, 10], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(1) });
    const x = tensor(new Float64Array(10 * 784).fill(0.5), { shape: [10, 784], label: "x" });
    const y = tensor(new Float64Array(100), { shape: [10, 10], label: "y" });
    const loss = quadraticCost(mlp.forward(x), y);
    loss.label = "C";
    loss.backward();
    const mlpFile = file.replace(/(\.svg)?$/, "-mlp.svg");
    const grouped = { groups: "labels" as const, inputs: [x, y], title: "784–30–10, one box per layer" };
    const mlpDot = toDot(loss, grouped);
    writeFileSync(mlpFile, await renderDotToSvg(mlpDot));
    const mlpBoxes = mlpDot.split("\n").filter((l) => /^\s+[ng]\d+ \[/.test(l)).length;
    print(`the 784–30–10 network, layers collapsed: ${mlpBoxes} boxes, written to ${mlpFile}`);
    return { file, boxes, mlpFile, mlpBoxes };
  },
};
