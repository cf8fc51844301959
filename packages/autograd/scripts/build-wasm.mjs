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

/**
 * Assemble WebAssembly text (SIMD, and shared memory or relaxed SIMD when asked) into validated
 * bytes. The engine running this script validates them too, except relaxed SIMD, which it may
 * lack (Node 20 has it only behind --experimental-wasm-relaxed-simd): wabt's validator checks it.
 */
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
  if (!features.relaxed_simd && !WebAssembly.validate(bytes))
    throw new Error("gemm.wat: the assembled module does not validate");
  return bytes;
}

/**
 * The fused variant of the micro-kernels: every step's `acc + x·b` (a product rounded, then a sum
 * rounded) becomes `f32x4.relaxed_madd(x, b, acc)` / `f64x2.relaxed_madd`, which an engine runs
 * as a fused multiply-add (one rounding) where the CPU has one. Everything else is unchanged.
 */
function fused(text) {
  let count = 0;
  const out = text.replace(
    /\((f32x4|f64x2)\.add \(local\.get (\$c\d\d)\) \(\1\.mul \(local\.get \$x\) \(local\.get (\$b\d)\)\)\)/g,
    (_, type, acc, b) => {
      count++;
      return `(${type}.relaxed_madd (local.get $x) (local.get ${b}) (local.get ${acc}))`;
    },
  );
  // 8 steps × 8 accumulators in each of the two micro-kernels
  if (count !== 128) throw new Error(`gemm.wat: expected 128 multiply-adds in the micro-kernels, found ${count}`);
  return out;
}

// Four builds of the same text: one with a memory of its own, and one that imports a shared memory
// (up to 4 GiB), which worker threads instantiate too to compute parts of one product; and the
// fused (relaxed SIMD) variant of each, which imports the memory of the first or the shared one.
const SHARED = '(memory (export "memory") (import "env" "memory") 1 65536 shared)';
const IMPORTED = '(memory (export "memory") (import "env" "memory") 1)';
const bytes = assemble(wat, { simd: true });
const shared = assemble(wat.replace(MEMORY, SHARED), { simd: true, threads: true });
const relaxed = assemble(fused(wat).replace(MEMORY, IMPORTED), { simd: true, relaxed_simd: true });
const relaxedShared = assemble(fused(wat).replace(MEMORY, SHARED), { simd: true, threads: true, relaxed_simd: true });

const source = `/**
 * @file The WebAssembly module assembled from gemm.wat by scripts/build-wasm.mjs (${bytes.length} bytes),
 * base64-encoded; the same module importing a shared memory (for worker threads); and both with
 * fused multiply-adds in the micro-kernels (relaxed SIMD). Generated:
 * edit gemm.wat and rerun the script instead of editing this file.
 */

export const gemmWasmBase64 =
  "${Buffer.from(bytes).toString("base64")}";

export const gemmWasmSharedBase64 =
  "${Buffer.from(shared).toString("base64")}";

export const gemmWasmRelaxedBase64 =
  "${Buffer.from(relaxed).toString("base64")}";

export const gemmWasmRelaxedSharedBase64 =
  "${Buffer.from(relaxedShared).toString("base64")}";
`;

let previous = "";
try {
  previous = readFileSync(outPath, "utf8");
} catch {
  // first build: nothing to compare with
}
if (previous !== source) writeFileSync(outPath, source);
console.log(
  `build-wasm: gemm.wat → gemm-wasm.generated.ts (${bytes.length} + ${shared.length} bytes; relaxed SIMD ${relaxed.length} + ${relaxedShared.length})`,
);
