/**
 * @file The list of the library's operations, filled as the op modules load: each op's name and
 * whether it has a batching rule (vmap). A test walks it so that no op goes without its rules.
 * Imports nothing (op modules register while the module graph is still loading).
 */

/** What the registry knows of an op. */
export interface RegisteredOp {
  /** Whether the op has a batching rule; without one, vmap loops over the examples. */
  readonly batched: boolean;
}

/** Every registered op by name. */
export const opRegistry = new Map<string, RegisteredOp>();
