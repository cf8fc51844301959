/**
 * The chapter's two-layer network (seed notes' worked instance) as a Value graph, with every node
 * of the derivation labelled; shared by the picture and trace tests.
 */
import { Value } from "../src/index.js";

export function seed() {
  const a0 = new Value(0.5, "a0");
  const w1 = new Value(0.8, "w1");
  const b1 = new Value(-0.2, "b1");
  const w2 = new Value(-1.3, "w2");
  const b2 = new Value(0.4, "b2");
  const z1 = w1.mul(a0).add(b1);
  z1.label = "z1";
  const a1 = z1.sigmoid();
  a1.label = "a1";
  const z2 = w2.mul(a1).add(b2);
  z2.label = "z2";
  const a2 = z2.sigmoid();
  a2.label = "a2";
  const C = a2.sub(1).pow(2).mul(0.5);
  C.label = "C";
  return { a0, w1, b1, w2, b2, z1, a1, z2, a2, C };
}
