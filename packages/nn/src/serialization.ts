/**
 * @file Model and optimizer files in the safetensors format (safetensors.ts), so weights trained
 * here load in PyTorch (`safetensors.torch.load_file`), JAX/Flax and Hugging Face tools, and
 * theirs load here. Imports module.ts, optim.ts, safetensors.ts and the public API of
 * @chainrule/autograd.
 *
 * A model file holds one tensor per parameter and buffer, named by `namedState()` as PyTorch's
 * state_dict names them (`layers.0.weight`, [out, in] as torch.nn.Linear; `bn.running_mean`), in
 * the tensor's dtype (F64 or F32; PyTorch's I64 buffers are read as float64), and this
 * `__metadata__`:
 *
 *   "format": "pt"                                   what Hugging Face loaders expect of a
 *                                                    PyTorch-layout state dict
 *   "chainrule.format_version": "1"                  this layout
 *   "chainrule.config": "{\"type\":\"MLP\",…}"       model.config() as JSON
 *   "chainrule.crc32": "89abcdef"                    CRC-32 (zlib's) of the data section, in hex
 *   …                                                the caller's own string entries
 *
 * An optimizer file holds `state.<i>.<buffer>` tensors (i: the parameter's index in the
 * optimizer), "chainrule.optimizer": {"type", "hyperparameters", "steps"} as JSON, and the
 * format version and CRC-32 as above.
 *
 * The checksum is what lets a flipped bit in the weights be noticed: the format itself only
 * checks the header. In Python: n = int.from_bytes(b[:8], "little"); zlib.crc32(b[8 + n:]).
 * Files without one (written elsewhere) are read without that check.
 *
 * Loading checks everything before changing anything: a corrupt or truncated file, a wrong name,
 * shape, dtype or config gives a ChainruleError listing every problem, and the model or optimizer
 * keeps its values. Saving writes a temporary file and renames it over the old one, so an
 * interrupted save leaves the previous checkpoint whole.
 */

import { ChainruleError, fromStorage, type Tensor } from "@chainrule/autograd";
import { describe, formatProblems, type Module, optionsObject, stateDictProblems } from "./module.js";
import type { Optimizer, OptimizerStateDict } from "./optim.js";
import {
  decodeSafetensors,
  encode,
  readWhole,
  type SafetensorsFile,
  type SafetensorsFileSystem,
  type StoredTensor,
  writeAtomic,
} from "./safetensors.js";

/** The version of the layout above, written to every file. */
export const FORMAT_VERSION = "1";

const KEY_FORMAT = "format";
const KEY_VERSION = "chainrule.format_version";
const KEY_CONFIG = "chainrule.config";
const KEY_OPTIMIZER = "chainrule.optimizer";
const KEY_CRC = "chainrule.crc32";
const RESERVED = [KEY_FORMAT, KEY_VERSION, KEY_CONFIG, KEY_OPTIMIZER, KEY_CRC];

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zlib, gzip and PNG.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of bytes, as 8 lower-case hex digits (zlib.crc32 in Python gives the same number). */
function crc32(bytes: Uint8Array): string {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}

/** The data section of a safetensors file: every byte after the 8-byte length and the header. */
function dataSection(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes.subarray(8 + Number(view.getBigUint64(0, true)));
}

/** The bytes of a file whose metadata also holds its data section's CRC-32. */
function checkedBytes(tensors: Map<string, StoredTensor>, metadata: Record<string, string>): Uint8Array {
  return encode("encodeSafetensors", tensors, metadata, (data) => ({ [KEY_CRC]: crc32(data) }));
}

/**
 * Decode file bytes, refusing a data section whose CRC-32 disagrees with the metadata's. Errors
 * are rethrown under `op`, with `where` (the path) in front.
 */
function decodeChecked(op: string, where: string, bytes: Uint8Array): SafetensorsFile {
  let file: SafetensorsFile;
  try {
    file = decodeSafetensors(bytes);
  } catch (error) {
    if (!(error instanceof ChainruleError)) throw error;
    throw new ChainruleError(op, `${where}${error.message.replace(/^decodeSafetensors: /, "")}`);
  }
  const expected = file.metadata[KEY_CRC];
  if (expected !== undefined) {
    const actual = crc32(dataSection(bytes));
    if (actual !== expected) {
      throw new ChainruleError(
        op,
        `${where}the data section's CRC-32 is ${actual} but the file says ${expected}: the weights are corrupted`,
      );
    }
  }
  return file;
}

/** Options of `saveModel`, `encodeModel` and the optimizer's save functions. */
export interface SaveOptions {
  /** Extra string entries for `__metadata__` (the keys above are reserved). */
  metadata?: Record<string, string>;
  /** Replaces node:fs/promises (tests use it to simulate a failing disk). */
  fs?: SafetensorsFileSystem;
}

/** Options of `loadModel` and `decodeModel`. */
export interface LoadModelOptions {
  /** Refuse missing and unexpected tensor names (default true). */
  strict?: boolean;
  /** Refuse a file whose "chainrule.config" differs from `model.config()` (default true). */
  checkConfig?: boolean;
}

/** What a loaded file said about itself. */
export interface LoadedModel {
  /** The whole `__metadata__` (an object without a prototype). */
  metadata: Record<string, string>;
  /** The parsed "chainrule.config", or undefined for a file written elsewhere. */
  config: unknown;
}

/** A tensor as safetensors.ts stores it; the storage is shared, since encoding copies it. */
function stored(t: Tensor): StoredTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: t.data };
}

function userMetadata(op: string, metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (metadata === undefined) return out;
  if (typeof metadata !== "object" || metadata === null) {
    throw new ChainruleError(op, `options.metadata must be an object of strings, got ${describe(metadata)}`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (RESERVED.includes(key))
      throw new ChainruleError(op, `metadata key "${key}" is reserved for the file's own use`);
    if (typeof value !== "string")
      throw new ChainruleError(op, `metadata value of "${key}" must be a string, got ${describe(value)}`);
    out[key] = value;
  }
  return out;
}

function modelTensors(op: string, model: Module): { tensors: Map<string, StoredTensor>; config: string } {
  if (typeof (model as Partial<Module> | undefined)?.namedParameters !== "function") {
    throw new ChainruleError(op, `expected a Module, got ${describe(model)}`);
  }
  const tensors = new Map<string, StoredTensor>();
  for (const [name, p] of model.namedState()) tensors.set(name, stored(p)); // parameters and buffers
  return { tensors, config: JSON.stringify(model.config()) };
}

/**
 * The bytes of a model file (see the top of this file): every parameter under its dotted name,
 * and the config and format version in `__metadata__`.
 */
export function encodeModel(model: Module, options: Omit<SaveOptions, "fs"> = {}): Uint8Array {
  return modelBytes("encodeModel", model, options);
}

function modelBytes(op: string, model: Module, options: SaveOptions): Uint8Array {
  options = optionsObject(op, options);
  const { tensors, config } = modelTensors(op, model);
  const metadata = userMetadata(op, options.metadata);
  Object.assign(metadata, { [KEY_FORMAT]: "pt", [KEY_VERSION]: FORMAT_VERSION, [KEY_CONFIG]: config });
  return checkedBytes(tensors, metadata);
}

/**
 * Save a model file atomically (Node): written to a temporary file beside `path`, flushed, then
 * renamed over it, so a crash at any moment leaves the previous file or the new one, whole.
 *
 * @example
 * await saveModel("xor.safetensors", model, { metadata: { epochs: "100" } });
 */
export async function saveModel(path: string, model: Module, options: SaveOptions = {}): Promise<void> {
  options = optionsObject("saveModel", options);
  await writeAtomic("saveModel", path, modelBytes("saveModel", model, options), options.fs);
}

/** Check a decoded model file against `model` and copy its tensors in, or change nothing. */
function loadInto(op: string, file: SafetensorsFile, model: Module, options: LoadModelOptions): LoadedModel {
  if (typeof (model as Partial<Module> | undefined)?.loadStateDict !== "function") {
    throw new ChainruleError(op, `expected a Module to load into, got ${describe(model)}`);
  }
  const { tensors, metadata } = file;
  const problems: string[] = [];
  const version = metadata[KEY_VERSION];
  if (version !== undefined && version !== FORMAT_VERSION) {
    problems.push(
      `the file has format version ${JSON.stringify(version)}; this library reads version ${FORMAT_VERSION}`,
    );
  }
  let config: unknown;
  const configText = metadata[KEY_CONFIG];
  if (configText !== undefined) {
    try {
      config = JSON.parse(configText);
    } catch {
      problems.push(`"${KEY_CONFIG}" in the metadata is not valid JSON`);
    }
    const own = JSON.stringify(model.config());
    if ((options.checkConfig ?? true) && config !== undefined && JSON.stringify(config) !== own) {
      problems.push(
        `the file's model is ${JSON.stringify(config)} but this model is ${own} (pass checkConfig: false to skip)`,
      );
    }
  }
  // Zero-copy views of the decoded arrays, which belong to us alone.
  const state = new Map<string, Tensor>();
  for (const [name, t] of tensors) state.set(name, fromStorage(t.data, t.shape));
  problems.push(...stateDictProblems(model, [...state], options.strict ?? true));
  if (problems.length > 0) throw new ChainruleError(op, formatProblems(problems));
  model.loadStateDict(state, { strict: options.strict ?? true });
  return { metadata, config };
}

/** Load model-file bytes into `model` (checked: see `loadModel`). */
export function decodeModel(bytes: Uint8Array, model: Module, options: LoadModelOptions = {}): LoadedModel {
  options = optionsObject("decodeModel", options);
  return loadInto("decodeModel", decodeChecked("decodeModel", "", bytes), model, options);
}

/**
 * Load a safetensors file into `model`, in place. The file must be whole and valid, hold exactly
 * the model's parameter names (unless `strict: false`), each with the model's shape and dtype,
 * and, if it has a "chainrule.config", describe the same model (unless `checkConfig: false`).
 * Otherwise a ChainruleError lists every problem and the model is left as it was. A file saved
 * from PyTorch with `safetensors.torch.save_file(model.state_dict(), path)` loads when the names,
 * shapes and dtypes agree.
 *
 * @example
 * const { config } = await loadModel("xor.safetensors", model);
 */
export async function loadModel(path: string, model: Module, options: LoadModelOptions = {}): Promise<LoadedModel> {
  options = optionsObject("loadModel", options);
  const bytes = await readWhole("loadModel", path);
  return loadInto("loadModel", decodeChecked("loadModel", `${path}: `, bytes), model, options);
}

/** The optimizer's state as a safetensors file's contents. */
function optimizerContents(op: string, optimizer: Optimizer, extra: Record<string, string> | undefined) {
  if (typeof (optimizer as Partial<Optimizer> | undefined)?.stateDict !== "function") {
    throw new ChainruleError(op, `expected an Optimizer, got ${describe(optimizer)}`);
  }
  const dict = optimizer.stateDict();
  const tensors = new Map<string, StoredTensor>();
  dict.state.forEach((entry, i) => {
    for (const [name, t] of Object.entries(entry.buffers)) tensors.set(`state.${i}.${name}`, stored(t));
  });
  const metadata = userMetadata(op, extra);
  const info = { type: dict.type, hyperparameters: dict.hyperparameters, steps: dict.state.map((s) => s.step) };
  Object.assign(metadata, { [KEY_VERSION]: FORMAT_VERSION, [KEY_OPTIMIZER]: JSON.stringify(info) });
  return { tensors, metadata };
}

/** The bytes of an optimizer file: `state.<i>.<buffer>` tensors, type/hyperparameters/steps in metadata. */
export function encodeOptimizer(optimizer: Optimizer, options: Omit<SaveOptions, "fs"> = {}): Uint8Array {
  options = optionsObject("encodeOptimizer", options);
  const { tensors, metadata } = optimizerContents("encodeOptimizer", optimizer, options.metadata);
  return checkedBytes(tensors, metadata);
}

/**
 * Save an optimizer's state (step counts, momentum or moment buffers, hyperparameters) atomically,
 * e.g. beside the model file, so that training can resume exactly.
 */
export async function saveOptimizer(path: string, optimizer: Optimizer, options: SaveOptions = {}): Promise<void> {
  options = optionsObject("saveOptimizer", options);
  const { tensors, metadata } = optimizerContents("saveOptimizer", optimizer, options.metadata);
  await writeAtomic("saveOptimizer", path, checkedBytes(tensors, metadata), options.fs);
}

const STATE_NAME = /^state\.(0|[1-9][0-9]*)\.([A-Za-z][A-Za-z0-9]*)$/;

/** Rebuild an optimizer state dict from a decoded file, or throw listing every problem. */
function optimizerStateOf(op: string, file: SafetensorsFile): OptimizerStateDict {
  const problems: string[] = [];
  const version = file.metadata[KEY_VERSION];
  if (version !== undefined && version !== FORMAT_VERSION) {
    problems.push(
      `the file has format version ${JSON.stringify(version)}; this library reads version ${FORMAT_VERSION}`,
    );
  }
  const text = file.metadata[KEY_OPTIMIZER];
  let info: unknown;
  if (text === undefined) {
    // Nothing else in it can be judged: say what it is instead of listing its tensors.
    const model = file.metadata[KEY_CONFIG] !== undefined ? " (it is a model file: load it with loadModel)" : "";
    throw new ChainruleError(op, `the metadata has no "${KEY_OPTIMIZER}": not an optimizer file${model}`);
  } else {
    try {
      info = JSON.parse(text);
    } catch {
      problems.push(`"${KEY_OPTIMIZER}" in the metadata is not valid JSON`);
    }
  }
  const record = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  let type = "";
  let hyperparameters: Record<string, unknown> = {};
  let steps: unknown[] = [];
  if (info !== undefined) {
    if (record(info) && typeof info.type === "string" && record(info.hyperparameters) && Array.isArray(info.steps)) {
      type = info.type;
      hyperparameters = info.hyperparameters;
      steps = info.steps;
    } else {
      problems.push(`"${KEY_OPTIMIZER}" must be {"type": string, "hyperparameters": {…}, "steps": [...]}`);
    }
  }
  const state = steps.map((step) => ({ step: step as number, buffers: Object.create(null) as Record<string, Tensor> }));
  for (const [name, t] of file.tensors) {
    const match = STATE_NAME.exec(name);
    const entry = match === null ? undefined : state[Number(match[1])];
    if (match === null || entry === undefined) {
      const expected =
        state.length === 0
          ? "the file holds state for no parameters"
          : `expected state.<i>.<buffer> with i < ${state.length}`;
      problems.push(`unexpected tensor ${JSON.stringify(name)} (${expected})`);
    } else {
      entry.buffers[match[2] as string] = fromStorage(t.data, t.shape);
    }
  }
  if (problems.length > 0) throw new ChainruleError(op, formatProblems(problems));
  return { type, hyperparameters: hyperparameters as OptimizerStateDict["hyperparameters"], state };
}

/** Restore an optimizer from the bytes of an optimizer file (checked: see `loadOptimizer`). */
export function decodeOptimizer(bytes: Uint8Array, optimizer: Optimizer): void {
  optimizer.loadStateDict(optimizerStateOf("decodeOptimizer", decodeChecked("decodeOptimizer", "", bytes)));
}

/**
 * Restore an optimizer saved by `saveOptimizer` over the same parameters (same count, shapes and
 * dtypes, same optimizer type). Every problem is reported at once; on error nothing changes.
 */
export async function loadOptimizer(path: string, optimizer: Optimizer): Promise<void> {
  const file = decodeChecked("loadOptimizer", `${path}: `, await readWhole("loadOptimizer", path));
  optimizer.loadStateDict(optimizerStateOf("loadOptimizer", file));
}
