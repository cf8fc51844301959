/**
 * @file Every runnable example, by name.
 */

import { example as cnn } from "./examples/cnn.js";
import { example as gradcheck } from "./examples/gradcheck.js";
import { example as graph } from "./examples/graph.js";
import { example as jacobians } from "./examples/jacobians.js";
import { example as moons } from "./examples/moons.js";
import { example as regression } from "./examples/regression.js";
import { example as seedNetwork } from "./examples/seed-network.js";
import type { Example } from "./examples/types.js";
import { example as xor } from "./examples/xor.js";

export const examples: readonly Example[] = [seedNetwork, gradcheck, jacobians, xor, regression, moons, cnn, graph];
