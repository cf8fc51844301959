/**
 * @file Model files in the safetensors format, the weights format of the Python ecosystem: a file
 * holds named arrays and string metadata, and nothing that could run as code. Layout:
 *
 *   [8 bytes]  N, the header length, unsigned little-endian
 *   [N bytes]  UTF-8 JSON header: { name: { dtype, shape, data_offsets: [begin, end] }, …,
 *              "__metadata__"?: { key: "string value" } }, padded with trailing spaces
 *   [rest]     the data section: each tensor's elements, row-major, little-endian, at
 *              [begin, end) counted from the first byte after the header
 *
 * Encoding and decoding are pure functions over bytes, so they also work in browsers; only
 * `saveSafetensors` and `loadSafetensors` touch the disk, through #file-system (node:fs/promises
 * and node:path in Node, an explanatory error in browsers). A file error becomes a ChainruleError
 * naming the operation and the caller's path, with Node's error as its `cause`. Imports
 * ChainruleError from @chainrule/autograd.
 */

import { ChainruleError } from "@chainrule/autograd";
import { fileSystem, pathFunctions } from "#file-system";

/** The element types this module reads and writes: F64, F32 and I32 in the file. */
export type SafetensorsDtype = "float64" | "float32" | "int32";

/** One named array: `data` holds shape[0]·shape[1]·… elements in row-major order (1 for shape []). */
export interface StoredTensor {
  /** The element type stored in the file. */
  dtype: SafetensorsDtype;
  /** The tensor's shape. */
  shape: number[];
  /** The elements, row-major. */
  data: Float64Array | Float32Array | Int32Array;
}

/** A decoded file. `metadata` has no prototype, so keys like `__proto__` are ordinary keys. */
export interface SafetensorsFile {
  /** The tensors by name, in file order. */
  tensors: Map<string, StoredTensor>;
  /** The file's `__metadata__` strings. */
  metadata: Record<string, string>;
}

/** The file operations `saveSafetensors` needs; node:fs/promises provides them. */
export interface SafetensorsFileSystem {
  /** Open a file (flags as node:fs: `wx` creates a new one). */
  open(path: string, flags: string): Promise<SafetensorsFileHandle>;
  /** Rename a file, replacing `to` atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file (with force, no error when it is missing). */
  rm(path: string, options: { force: boolean }): Promise<void>;
  /** The names in a directory; without it, stale temporary files are not looked for. */
  readdir?(path: string): Promise<string[]>;
}

/** An open file, as node:fs/promises' FileHandle. */
export interface SafetensorsFileHandle {
  /** Write all of `data`. */
  writeFile(data: Uint8Array): Promise<void>;
  /** Flush the file to the disk. */
  sync(): Promise<void>;
  /** Close the file. */
  close(): Promise<void>;
}

/** How each supported dtype is spelled in the file and how many bytes an element takes. */
interface Format {
  code: "F64" | "F32" | "I32";
  itemsize: number;
}

// A Map, not an object literal: a file's dtype string must never find `toString` or `constructor`.
const formatOf = new Map<SafetensorsDtype, Format>([
  ["float64", { code: "F64", itemsize: 8 }],
  ["float32", { code: "F32", itemsize: 4 }],
  ["int32", { code: "I32", itemsize: 4 }],
]);
const dtypeOfCode = new Map<string, SafetensorsDtype>([
  ["F64", "float64"],
  ["F32", "float32"],
  ["I32", "int32"],
  // NOTE: integers of PyTorch's int64 buffers (batch norm's num_batches_tracked) are read as
  // float64, exact up to 2⁵³; a larger one is refused rather than rounded.
  ["I64", "float64"],
]);
const SUPPORTED = "supported dtypes: F64, F32, I32, I64 (read as float64)";

/** Dtypes of the specification that this module refuses rather than converting. */
const OTHER_SPEC_DTYPES = new Set([
  "BOOL",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "I16",
  "U16",
  "F16",
  "BF16",
  "U32",
  "U64",
  "C64",
]);

/** The reference reader's limit; a larger header is corruption, not a model. */
const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = "__metadata__";

/**
 * The bytes of a safetensors file holding `tensors` (a Map or a plain object, name → tensor) and
 * optional string `metadata`. Tensors are laid out contiguously in the reference writer's order
 * (float64 before float32, then by name), so the same input always gives the same bytes and every
 * tensor is aligned to its element size; the header is padded with spaces to a multiple of 8 bytes.
 *
 * @example
 * const bytes = encodeSafetensors({ w: { dtype: "float64", shape: [2], data: new Float64Array([1, 2]) } });
 */
export function encodeSafetensors(
  tensors: Map<string, StoredTensor> | Record<string, StoredTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  return encode("encodeSafetensors", tensors, metadata);
}

/**
 * Read the bytes of a safetensors file, checking everything the specification requires: the
 * header length, UTF-8 JSON, every entry's dtype/shape/data_offsets, and that the tensors tile the
 * data section exactly (no overlaps, no holes). Throws `ChainruleError` naming the problem.
 * Tensors come back in the order of their data in the file, each with its own fresh array.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  return decode("decodeSafetensors", "", bytes);
}

/**
 * Write a safetensors file atomically (Node only): the bytes go to a temporary file in the same
 * directory, which is flushed to disk and then renamed over `path`. A crash or error at any point
 * leaves either the previous file or the complete new one, never a torn file. `fs` replaces
 * node:fs/promises, which tests use to simulate failures.
 */
export async function saveSafetensors(
  path: string,
  tensors: Map<string, StoredTensor> | Record<string, StoredTensor>,
  metadata?: Record<string, string>,
  fs?: SafetensorsFileSystem,
): Promise<void> {
  // Encode first: invalid tensors throw before anything touches the disk.
  await writeAtomic("saveSafetensors", path, encode("saveSafetensors", tensors, metadata), fs);
}

/**
 * Write `bytes` to `path` through a flushed temporary file renamed over it (see saveSafetensors).
 * `op` names the caller in errors.
 */
export async function writeAtomic(
  op: string,
  path: string,
  bytes: Uint8Array,
  fs?: SafetensorsFileSystem,
): Promise<void> {
  checkPath(op, path);
  const io: SafetensorsFileSystem = fs ?? (await fileSystem(op));
  await removeStaleTemporaries(path, io);
  // Same directory, so the rename never crosses file systems (where it would not be atomic).
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  let created = false;
  try {
    // "wx": fail rather than clobber if the name is taken, so cleanup only removes our own file.
    const handle = await io.open(tmp, "wx");
    created = true;
    try {
      await handle.writeFile(bytes);
      await handle.sync(); // the data is on disk before the rename makes it visible
    } finally {
      await handle.close();
    }
    // NOTE: the directory is not fsynced, so after a power cut the rename may be undone; `path`
    // then still holds the previous file, complete.
    await io.rename(tmp, path);
  } catch (error) {
    // Ignore a failed cleanup: the caller needs the error that stopped the save.
    if (created) await io.rm(tmp, { force: true }).catch(() => undefined);
    throw await fileError(op, "save to", path, error);
  }
}

/** Read and decode a whole safetensors file (Node only); errors name the path. */
export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  return decode("loadSafetensors", `${path}: `, await readWhole("loadSafetensors", path));
}

/** A whole file's bytes (Node), after removing stale temporary files of it; errors name `op` and the path. */
export async function readWhole(op: string, path: string): Promise<Uint8Array> {
  checkPath(op, path);
  const fs = await fileSystem(op);
  await removeStaleTemporaries(path, fs);
  try {
    return await fs.readFile(path);
  } catch (error) {
    throw await fileError(op, "read", path, error);
  }
}

function checkPath(op: string, path: unknown): void {
  if (typeof path !== "string" || path === "") {
    const got = typeof path === "string" ? "the empty string" : String(path);
    throw new ChainruleError(op, `path must be a non-empty string, got ${got}`);
  }
}

/**
 * A file system error as a ChainruleError naming the operation and the caller's path (Node's own
 * message may name a temporary file), with the original as its `cause`. Our own errors pass.
 */
async function fileError(op: string, action: "read" | "save to", path: string, error: unknown): Promise<Error> {
  if (error instanceof ChainruleError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  let reason: string;
  switch (code) {
    case "ENOENT":
      if (action === "read") reason = "no such file";
      else {
        const { dirname } = await pathFunctions(op);
        reason = `the directory ${JSON.stringify(dirname(path))} does not exist`;
      }
      break;
    case "EISDIR":
      reason = "it is a directory";
      break;
    case "ENOTDIR":
      reason = "a part of the path is not a directory";
      break;
    case "EACCES":
    case "EPERM":
      reason = "permission denied";
      break;
    case "ENOSPC":
      reason = "no space left on the device";
      break;
    default:
      reason = error instanceof Error ? error.message : String(error);
  }
  const tag = typeof code === "string" && !reason.includes(code) ? ` (${code})` : "";
  return new ChainruleError(op, `cannot ${action} ${JSON.stringify(path)}: ${reason}${tag}`, { cause: error });
}

/**
 * Remove the temporary files `<path>.tmp-<pid>-<random>` that a killed save of the same target
 * left behind: those whose process is gone. Best effort: any failure is ignored. NOTE: the
 * process check is local, so a save running on another machine into a shared directory, under
 * a pid that is free here, would lose its temporary file and fail; it never touches `path`.
 */
async function removeStaleTemporaries(path: string, io: Pick<SafetensorsFileSystem, "readdir" | "rm">): Promise<void> {
  if (io.readdir === undefined) return;
  try {
    const { basename, dirname, join } = await pathFunctions("removeStaleTemporaries");
    const dir = dirname(path);
    const prefix = `${basename(path)}.tmp-`;
    for (const name of await io.readdir(dir)) {
      if (!name.startsWith(prefix)) continue;
      const match = /^(\d+)-[a-z0-9]+$/.exec(name.slice(prefix.length));
      if (match === null) continue;
      const pid = Number(match[1]);
      if (pid !== process.pid && !processAlive(pid))
        await io.rm(join(dir, name), { force: true }).catch(() => undefined);
    }
  } catch {
    // an unreadable directory: the save or load itself reports what matters
  }
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === "EPERM"; // it exists, but is not ours to signal
  }
}

function fail(op: string, message: string): never {
  throw new ChainruleError(op, message);
}

/** A JSON object (not an array or null), whose keys are then read as own properties only. */
function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isSize(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/** Elements in an array of this shape: the product of its dimensions, 1 for a scalar (shape []). */
function elementCount(shape: readonly number[]): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) n *= d;
  return n; // may be unsafe (> 2⁵³) for absurd shapes; callers compare it with real byte counts
}

/** Order strings by code points, which is the byte order of their UTF-8 (the reference's order). */
function compareCodePoints(a: string, b: string): number {
  // While the strings agree they stay in step, so one index serves both.
  for (let i = 0; i < a.length && i < b.length; ) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

// A lone surrogate becomes a \udXXX escape that strict JSON readers (the reference one) refuse.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function checkText(op: string, what: string, s: string): void {
  if (LONE_SURROGATE.test(s)) fail(op, `${what} ${JSON.stringify(s)} is not valid Unicode (a lone surrogate)`);
}

/**
 * The bytes of a file. `sign`, if given, adds metadata computed from the finished data section
 * (which does not depend on the header: offsets count from its start), e.g. a checksum.
 */
export function encode(
  op: string,
  tensors: Map<string, StoredTensor> | Record<string, StoredTensor>,
  metadata: Record<string, string> | undefined,
  sign?: (data: Uint8Array) => Record<string, string>,
): Uint8Array {
  if (typeof tensors !== "object" || tensors === null)
    fail(op, `tensors must be a Map or an object of tensors, got ${String(tensors)}`);
  if (metadata !== undefined && (typeof metadata !== "object" || metadata === null)) {
    fail(op, `metadata must be an object of strings, got ${String(metadata)}`);
  }
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  // The reference writer's order: larger elements first, then by name. Deterministic, and since the
  // data section starts at a multiple of 8, every tensor then starts at a multiple of its itemsize.
  const itemsize = (t: StoredTensor) => formatOf.get(t.dtype)?.itemsize ?? 0;
  entries.sort(([a, ta], [b, tb]) => itemsize(tb) - itemsize(ta) || compareCodePoints(a, b));

  // The header is built as text so that we choose the key order and no name ever becomes a
  // property of a JavaScript object (a tensor called "__proto__" stays a tensor).
  if (metadata !== undefined) {
    for (const key of Object.keys(metadata)) {
      const value = metadata[key];
      if (typeof value !== "string") fail(op, `metadata value of ${JSON.stringify(key)} must be a string`);
      checkText(op, "metadata key", key);
      checkText(op, "metadata value", value);
    }
  }
  const parts: string[] = [];

  let offset = 0;
  const placed: Array<{ begin: number; tensor: StoredTensor; format: Format }> = [];
  for (const [name, tensor] of entries) {
    if (typeof tensor !== "object" || tensor === null)
      fail(op, `tensor ${JSON.stringify(name)} is ${String(tensor)}, not a { dtype, shape, data } record`);
    if (name === METADATA_KEY) fail(op, `"${METADATA_KEY}" is reserved for metadata and cannot name a tensor`);
    checkText(op, "tensor name", name);
    const format = formatOf.get(tensor.dtype);
    if (format === undefined) {
      fail(op, `tensor ${JSON.stringify(name)} has dtype ${String(tensor.dtype)}; use float64, float32 or int32`);
    }
    const arrayType = tensor.dtype === "float64" ? Float64Array : tensor.dtype === "int32" ? Int32Array : Float32Array;
    if (!(tensor.data instanceof arrayType)) {
      fail(op, `tensor ${JSON.stringify(name)} is ${tensor.dtype}, so its data must be a ${arrayType.name}`);
    }
    if (!Array.isArray(tensor.shape) || !tensor.shape.every(isSize)) {
      fail(
        op,
        `tensor ${JSON.stringify(name)} has shape ${JSON.stringify(tensor.shape)}; dimensions must be integers ≥ 0`,
      );
    }
    const n = elementCount(tensor.shape);
    if (tensor.data.length !== n) {
      fail(
        op,
        `tensor ${JSON.stringify(name)} has shape [${tensor.shape}] (${n} elements) but ${tensor.data.length} values`,
      );
    }
    const begin = offset;
    offset += n * format.itemsize;
    placed.push({ begin, tensor, format });
    const info = { dtype: format.code, shape: tensor.shape, data_offsets: [begin, offset] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
  }

  // The data section, element by element through DataView: little-endian on every platform.
  const data = new Uint8Array(offset);
  const dataView = new DataView(data.buffer);
  for (const { begin, tensor, format } of placed) {
    const values = tensor.data;
    if (format.code === "F64")
      for (let i = 0; i < values.length; i++) dataView.setFloat64(begin + 8 * i, values[i]!, true);
    else if (format.code === "I32")
      for (let i = 0; i < values.length; i++) dataView.setInt32(begin + 4 * i, values[i]!, true);
    else for (let i = 0; i < values.length; i++) dataView.setFloat32(begin + 4 * i, values[i]!, true);
  }

  const all = sign === undefined ? metadata : { ...metadata, ...sign(data) };
  const keys = all === undefined ? [] : Object.keys(all).sort(compareCodePoints);
  if (keys.length > 0) {
    const pairs = keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify((all as Record<string, string>)[key])}`);
    parts.unshift(`${JSON.stringify(METADATA_KEY)}:{${pairs.join(",")}}`); // metadata first, as the reference
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  // Pad with spaces so the data section starts 8-byte aligned within the file, as the reference does.
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) fail(op, `the header would take ${headerLength} bytes, over the 100 MB limit`);

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  out.set(data, 8 + headerLength);
  return out;
}

/**
 * The first key that appears twice in one object of a valid JSON text, at the top level (tensor
 * names) or inside "__metadata__"; undefined when there is none.
 */
function repeatedKey(text: string): { key: string; inMetadata: boolean } | undefined {
  // One frame per open object or array: the keys seen so far (objects only), and whether the next
  // string is a key. `last` is the latest key of the enclosing object, to know where we are.
  const stack: Array<{ keys: Set<string> | null; expectKey: boolean; last: string }> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const inMetadata = stack.length === 2 && stack[0]?.last === METADATA_KEY;
        if ((stack.length === 1 || inMetadata) && top.keys.has(key)) return { key, inMetadata };
        top.keys.add(key);
        top.last = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === "{") stack.push({ keys: new Set(), expectKey: true, last: "" });
    else if (c === "[") stack.push({ keys: null, expectKey: false, last: "" });
    else if (c === "}" || c === "]") stack.pop();
    else if (c === "," && top?.keys) top.expectKey = true;
  }
  return undefined;
}

/** One header entry after its fields are checked, before the data is read. */
interface Entry {
  name: string;
  code: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function decode(op: string, where: string, bytes: Uint8Array): SafetensorsFile {
  const bad: (message: string) => never = (message) => fail(op, where + message);
  const show = (name: string) => JSON.stringify(name);

  if (!(bytes instanceof Uint8Array)) bad(`expected the file's bytes as a Uint8Array, got ${String(bytes)}`);
  if (bytes.length < 8) bad(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  // A Node Buffer may be a window into a larger pool, hence byteOffset.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) bad(`header length ${n64} is over the 100 MB limit; not a safetensors file?`);
  const headerLength = Number(n64);
  if (8 + headerLength > bytes.length) {
    bad(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  }

  let text: string;
  try {
    // fatal: refuse malformed UTF-8 instead of inventing U+FFFD; ignoreBOM: keep a BOM so it is refused below.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return bad("header is not valid UTF-8");
  }
  // The specification: the header begins with "{" and may end in space padding.
  if (!text.startsWith("{")) bad(`header must be a JSON object beginning with "{", got ${show(text.slice(0, 20))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    return bad(`header is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(header)) return bad("header must be a JSON object");
  // JSON.parse keeps the last of two equal keys, silently: look for them in the text.
  const twice = repeatedKey(text);
  if (twice !== undefined) {
    bad(
      twice.inMetadata
        ? `metadata key ${show(twice.key)} appears twice in the header`
        : `tensor name ${show(twice.key)} appears twice in the header`,
    );
  }

  // NOTE: JSON.parse stores a key "__proto__" as an own property, so reading the parsed header
  // with Object.entries is safe; results go into a Map and a prototype-free object.
  const metadata: Record<string, string> = Object.create(null);
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (value === null) continue; // the reference writer's "no metadata"
      if (!isObject(value)) bad(`"${METADATA_KEY}" must be an object of strings`);
      for (const [key, v] of Object.entries(value)) {
        if (typeof v !== "string") bad(`metadata value of ${show(key)} must be a string, got ${JSON.stringify(v)}`);
        metadata[key] = v;
      }
      continue;
    }
    entries.push(checkEntry(name, value, bad));
  }

  // The tensors must tile the data section: sorted by offset, each begins where the last ended.
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  for (const e of entries) {
    if (e.end > dataLength) {
      bad(
        `tensor ${show(e.name)} has data_offsets [${e.begin}, ${e.end}] beyond the ${dataLength}-byte data section (truncated?)`,
      );
    }
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin > covered) bad(`bytes [${covered}, ${e.begin}) of the data section belong to no tensor (a hole)`);
    if (e.begin < covered) {
      bad(
        `tensor ${show(e.name)} at [${e.begin}, ${e.end}] overlaps tensor ${show(previous!.name)} ending at ${covered}`,
      );
    }
    covered = e.end;
    if (e.end > e.begin) previous = e;
  }
  if (covered !== dataLength) {
    bad(`bytes [${covered}, ${dataLength}) at the end of the data section belong to no tensor`);
  }

  const tensors = new Map<string, StoredTensor>();
  for (const { name, code, dtype, shape, begin, end } of entries) {
    const at = dataStart + begin;
    // Element by element through DataView: offsets need not be aligned (F64 data may start at
    // byte 12), and the bytes are little-endian whatever the platform.
    let data: Float64Array | Float32Array | Int32Array;
    if (code === "I64") {
      data = new Float64Array((end - begin) / 8);
      for (let i = 0; i < data.length; i++) {
        const v = view.getBigInt64(at + 8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          bad(`tensor ${JSON.stringify(name)} holds the I64 value ${v}, beyond float64's exact integers (±2⁵³)`);
        }
        data[i] = Number(v);
      }
    } else if (dtype === "float64") {
      data = new Float64Array((end - begin) / 8);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat64(at + 8 * i, true);
    } else if (dtype === "int32") {
      data = new Int32Array((end - begin) / 4);
      for (let i = 0; i < data.length; i++) data[i] = view.getInt32(at + 4 * i, true);
    } else {
      data = new Float32Array((end - begin) / 4);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(at + 4 * i, true);
    }
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

/** Check one header entry { dtype, shape, data_offsets } (other keys are ignored, as the reference does). */
function checkEntry(name: string, value: unknown, bad: (message: string) => never): Entry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!isObject(value)) return bad(`${where} must be an object with dtype, shape and data_offsets`);
  for (const field of ["dtype", "shape", "data_offsets"]) {
    if (!Object.hasOwn(value, field)) bad(`${where} is missing "${field}"`);
  }
  const { dtype: code, shape, data_offsets: offsets } = value;

  if (typeof code !== "string") return bad(`${where} has dtype ${JSON.stringify(code)}, not a string; ${SUPPORTED}`);
  const dtype = dtypeOfCode.get(code);
  if (dtype === undefined) {
    if (OTHER_SPEC_DTYPES.has(code)) {
      bad(`${where} has dtype ${code}, which this library does not read; ${SUPPORTED} (convert in Python first)`);
    }
    bad(`${where} has unknown dtype ${JSON.stringify(code)}; ${SUPPORTED}`);
  }
  if (!Array.isArray(shape) || !shape.every(isSize)) {
    bad(`${where} has shape ${JSON.stringify(shape)}; it must be a list of integers ≥ 0`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize)) {
    bad(`${where} has data_offsets ${JSON.stringify(offsets)}; it must be [begin, end] with integers ≥ 0`);
  }
  const [begin, end] = offsets as [number, number]; // length 2, checked above
  if (begin > end) bad(`${where} has data_offsets [${begin}, ${end}] with begin after end`);

  const dims = shape.map((d) => d + 0); // + 0 turns a JSON -0 into 0
  const itemsize = code === "I64" ? 8 : formatOf.get(dtype)!.itemsize;
  const needed = elementCount(dims) * itemsize;
  if (end - begin !== needed) {
    bad(
      `${where} has shape [${dims}] of ${code}, which needs ${needed} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, code, dtype, shape: dims, begin, end };
}
