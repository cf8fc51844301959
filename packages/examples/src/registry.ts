/**
 * @file Every runnable example, by name.
 */

import { example as gradcheck } from "./examples/gradcheck.js";
import { example as graph } from "./examples/graph.js";
import { example as seedNetwork } from "./examples/seed-network.js";
import type { Example } from "./examples/types.js";

export const examples: readonly Example[] = [seedNetwork, gradcheck, graph];
