/**
 * @file The demo `pnpm demo` runs.
 */

import { seedNetwork } from "./examples/seed-network.js";

seedNetwork();
