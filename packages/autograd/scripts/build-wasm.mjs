/**
 * @file Assembles src/kernels/gemm.wat (WebAssembly text, with SIMD) into a module and writes its
 * bytes, base64-encoded, to src/kernels/gemm-wasm.generated.ts. Shipping the bytes inside a
 * TypeScript module lets Node and browsers instantiate the kernels synchronously, with no file
 * read or fetch. Run before tsc (the package's "build" and "typecheck" scripts do); the output is
 * rewritten only when it changes, so repeated builds leave its timestamp alone.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const kernels = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "kernels");
const watPath = join(kernels, "gemm.wat");
const outPath = join(kernels, "gemm-wasm.generated.ts");

const wabt = await wabtInit();
const wat = readFileSync(watPath, "utf8");
const MEMORY = '(memory (export "memory") 1)';
if (!wat.includes(MEMORY)) throw new Error(`gemm.wat: expected the line ${MEMORY}`);

/** Assemble WebAssembly text (SIMD, and shared memory when asked) into validated bytes. */
function assemble(text, features) {
  let bytes;
  try {
    // Bytes, not a string: the comments hold UTF-8 (·, ᵀ), and wabt measures its input in bytes.
    const parsed = wabt.parseWat("gemm.wat", new TextEncoder().encode(text), features);
    try {
      parsed.resolveNames();
      // NOTE: wabt's validator rejects shared memories whatever the features (1.0.39); the
      // engine's WebAssembly.validate below checks that build instead.
      if (!features.threads) parsed.validate();
      bytes = parsed.toBinary({}).buffer;
    } finally {
      parsed.destroy();
    }
  } catch (error) {
    // wabt's own stack trace quotes its minified source; the message alone names the line
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
  if (!WebAssembly.validate(bytes)) throw new Error("gemm.wat: the assembled module does not validate");
  return bytes;
}

// Two builds of the same text: one with a memory of its own, and one that imports a shared memory
// (up to 4 GiB), which worker threads instantiate too to compute parts of one product.
const bytes = assemble(wat, { simd: true });
const shared = assemble(wat.replace(MEMORY, '(memory (export "memory") (import "env" "memory") 1 65536 shared)'), {
  simd: true,
  threads: true,
});

const source = `/**
 * @file The WebAssembly module assembled from gemm.wat by scripts/build-wasm.mjs (${bytes.length} bytes),
 * base64-encoded, and the same module importing a shared memory (for worker threads). Generated:
 * edit gemm.wat and rerun the script instead of editing this file.
 */

export const gemmWasmBase64 =
  "${Buffer.from(bytes).toString("base64")}";

export const gemmWasmSharedBase64 =
  "${Buffer.from(shared).toString("base64")}";
`;

let previous = "";
try {
  previous = readFileSync(outPath, "utf8");
} catch {
  // first build: nothing to compare with
}
if (previous !== source) writeFileSync(outPath, source);
console.log(`build-wasm: gemm.wat → gemm-wasm.generated.ts (${bytes.length} + ${shared.length} bytes)`);
