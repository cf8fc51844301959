/**
 * @file The demo `pnpm demo` runs.
 */

import { seedNetwork } from "./seed-network.js";

seedNetwork();
