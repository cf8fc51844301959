// Assemble the WebAssembly kernel before any test imports it: its bytes live in a generated
// module that `pnpm build` also writes, so a bare `vitest run` works on a fresh checkout too.
export async function setup(): Promise<void> {
  await import("./packages/autograd/scripts/build-wasm.mjs");
}
