/**
 * @file Tests for safetensors.ts: the fixture written by an independent implementation, encode →
 * decode round trips (fast-check), every kind of corrupt file, and atomic saves with simulated
 * failures. Imports safetensors.ts, ChainruleError, fast-check and Node's fs for temporary files.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChainruleError } from "@chainrule/autograd";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  type SafetensorsFileSystem,
  type StoredTensor,
  saveSafetensors,
} from "./safetensors.js";

const fixturePath = fileURLToPath(new URL("../test/fixtures/small-mlp.safetensors", import.meta.url));
const fixture = new Uint8Array(readFileSync(fixturePath));
const expected: Record<string, { dtype: string; shape: number[]; data: number[] }> = JSON.parse(
  readFileSync(fileURLToPath(new URL("../test/fixtures/small-mlp.expected.json", import.meta.url)), "utf8"),
);

const scratch = mkdtempSync(join(tmpdir(), "chainrule-safetensors-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirCount = 0;
/** A fresh empty directory for one test. */
function freshDir(): string {
  return mkdtempSync(join(scratch, `t${dirCount++}-`));
}

/** The raw bytes of a typed array, to compare values bit for bit (NaN payloads, −0). */
function bits(a: Float64Array | Float32Array | Int32Array): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function tensor(dtype: "float64" | "float32", shape: number[], values: number[]): StoredTensor {
  return { dtype, shape, data: dtype === "float64" ? new Float64Array(values) : new Float32Array(values) };
}

/** A file from a header given as text (no padding added) and a data section. */
function rawFile(header: string, data: Uint8Array | number = 0): Uint8Array {
  const json = new TextEncoder().encode(header);
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

const fixtureHeaderLength = Number(new DataView(fixture.buffer).getBigUint64(0, true));
const fixtureData = fixture.slice(8 + fixtureHeaderLength);

/** The parsed header of a file and the file offset where its data section starts. */
// biome-ignore lint/suspicious/noExplicitAny: a parsed JSON header, read field by field in assertions
function headerOf(bytes: Uint8Array): { header: Record<string, any>; dataStart: number } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), dataStart: 8 + n };
}

/** The fixture with its header (as a parsed object) edited and its data section kept. */
// biome-ignore lint/suspicious/noExplicitAny: the edits deliberately write ill-typed JSON into the header
function editedFixture(edit: (header: Record<string, any>) => void, data: Uint8Array = fixtureData): Uint8Array {
  const header = JSON.parse(new TextDecoder().decode(fixture.subarray(8, 8 + fixtureHeaderLength)));
  edit(header);
  return rawFile(JSON.stringify(header), data);
}

/** Decoding must throw a ChainruleError whose message matches `message`; returns that message. */
function refused(bytes: Uint8Array, message: RegExp): string {
  let error: unknown;
  try {
    decodeSafetensors(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ChainruleError);
  const text = (error as ChainruleError).message;
  expect(text).toMatch(/^decodeSafetensors: /);
  expect(text).toMatch(message);
  return text;
}

describe("the fixture from an independent writer", () => {
  test("every tensor has the expected dtype, shape and values", () => {
    const file = decodeSafetensors(fixture);
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      const got = file.tensors.get(name)!;
      expect(got.dtype).toBe(want.dtype);
      expect(got.shape).toEqual(want.shape);
      expect(got.data).toBeInstanceOf(want.dtype === "float64" ? Float64Array : Float32Array);
      // The JSON holds float32 values as the doubles they convert to, so fround is exact.
      const values = want.dtype === "float32" ? want.data.map(Math.fround) : want.data;
      expect(Array.from(got.data)).toEqual(values);
    }
    expect(file.tensors.get("scale")!.shape).toEqual([]); // 0-d scalar, one element
  });

  test("metadata comes back as strings, in an object without a prototype", () => {
    const { metadata } = decodeSafetensors(fixture);
    expect(metadata).toEqual({ format: "pt", note: "fixture for reader tests" });
    expect(Object.getPrototypeOf(metadata)).toBeNull();
  });

  test("bytes inside a larger buffer at an odd offset decode the same (as a pooled Buffer may be)", () => {
    const big = new Uint8Array(fixture.length + 5);
    big.set(fixture, 3);
    const file = decodeSafetensors(big.subarray(3, 3 + fixture.length));
    expect(Array.from(file.tensors.get("layers.0.weight")!.data)).toEqual(expected["layers.0.weight"]!.data);
  });

  test("re-encoding the decoded fixture gives a valid file with every tensor's bytes unchanged", () => {
    const file = decodeSafetensors(fixture);
    const again = encodeSafetensors(file.tensors, file.metadata);
    expect(decodeSafetensors(again)).toEqual(file);
    // The same bytes per tensor, re-laid out in the reference order: float64 first, then by name.
    const before = headerOf(fixture);
    const after = headerOf(again);
    expect(Object.keys(after.header)).toEqual([
      "__metadata__",
      "layers.0.weight",
      "scale",
      "layers.0.bias",
      "layers.1.weight",
    ]);
    expect(after.header.__metadata__).toEqual(before.header.__metadata__);
    for (const name of Object.keys(expected)) {
      const [b0, b1] = before.header[name].data_offsets;
      const [a0, a1] = after.header[name].data_offsets;
      expect(after.header[name].dtype).toBe(before.header[name].dtype);
      expect(after.header[name].shape).toEqual(before.header[name].shape);
      expect(Array.from(again.subarray(after.dataStart + a0, after.dataStart + a1))).toEqual(
        Array.from(fixture.subarray(before.dataStart + b0, before.dataStart + b1)),
      );
    }
    expect(again.length).toBe(fixture.length);
  });

  test("loadSafetensors reads it from disk", async () => {
    expect(await loadSafetensors(fixturePath)).toEqual(decodeSafetensors(fixture));
  });
});

// Shapes of up to 4 dimensions, each 0–3, so 0-d scalars and empty tensors are common.
const shapeArb = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 });
const tensorArb: fc.Arbitrary<StoredTensor> = fc
  .tuple(fc.constantFrom("float64" as const, "float32" as const, "int32" as const), shapeArb)
  .chain(([dtype, shape]) => {
    const length = shape.reduce((a, b) => a * b, 1);
    const data =
      dtype === "float64"
        ? fc.float64Array({ minLength: length, maxLength: length })
        : dtype === "int32"
          ? fc.int32Array({ minLength: length, maxLength: length })
          : fc.float32Array({ minLength: length, maxLength: length });
    return data.map((values): StoredTensor => ({ dtype, shape, data: values }));
  });
const nameArb = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "0", "10", "2"),
);
const tensorsArb = fc
  .uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([name]) => name, maxLength: 6 })
  .map((pairs) => new Map(pairs.filter(([name]) => name !== "__metadata__")));
const metadataArb = fc
  .uniqueArray(fc.tuple(nameArb, fc.string({ unit: "grapheme", maxLength: 12 })), {
    selector: ([key]) => key,
    maxLength: 4,
  })
  .map((pairs) => {
    const metadata: Record<string, string> = Object.create(null);
    for (const [key, value] of pairs) metadata[key] = value;
    return metadata;
  });

describe("encode → decode", () => {
  test("round trips tensors of every dtype (F64, F32, I32), any shape (0-d, empty), bit for bit", () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const file = decodeSafetensors(bytes);
        expect(file.metadata).toEqual(metadata);
        expect(file.tensors.size).toBe(tensors.size);
        for (const [name, t] of tensors) {
          const got = file.tensors.get(name)!;
          expect(got.dtype).toBe(t.dtype);
          expect(got.shape).toEqual(t.shape);
          expect(got.data.constructor).toBe(t.data.constructor);
          expect(bits(got.data)).toEqual(bits(t.data));
        }
        // Deterministic: the order the tensors were given in does not matter.
        const reversed = new Map([...tensors].reverse());
        expect(Array.from(encodeSafetensors(reversed, metadata))).toEqual(Array.from(bytes));
        // The header is padded so the data section starts at a multiple of 8, and float64 tensors
        // come first, so every tensor starts at a multiple of its element size in the file.
        const { header, dataStart } = headerOf(bytes);
        expect(dataStart % 8).toBe(0);
        for (const name of tensors.keys()) {
          const { dtype, data_offsets } = header[name];
          expect((dataStart + data_offsets[0]) % (dtype === "F64" ? 8 : 4)).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("the header follows the specification exactly", () => {
    const bytes = encodeSafetensors(
      { a: tensor("float32", [2], [1, 2]), b: tensor("float64", [], [3]) },
      { framework: "chainrule" },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const json =
      '{"__metadata__":{"framework":"chainrule"},' +
      '"b":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}';
    expect(header).toBe(json.padEnd(n, " "));
    expect(n % 8).toBe(0);
    expect(n - json.length).toBeLessThan(8);
    // Little-endian data right after the header: 3.0 as F64, then 1.0 and 2.0 as F32.
    const data = new DataView(bytes.buffer, 8 + n);
    expect([data.getFloat64(0, true), data.getFloat32(8, true), data.getFloat32(12, true)]).toEqual([3, 1, 2]);
    expect(bytes.length).toBe(8 + n + 16);
  });

  test("names are ordered by code point, as their UTF-8 bytes sort", () => {
    // In UTF-16 the emoji (a surrogate pair, D83D DE00) would sort before U+FFFD; by code point it is after.
    const names = ["\u{1F600}", "\uFFFD", "b", "a", "ab", ""];
    const tensors = new Map(names.map((name) => [name, tensor("float64", [], [1])]));
    const { header } = headerOf(encodeSafetensors(tensors));
    expect(Object.keys(header)).toEqual(["", "a", "ab", "b", "\uFFFD", "\u{1F600}"]);
  });

  test("no tensors and no metadata is a valid file", () => {
    const bytes = encodeSafetensors(new Map());
    expect(new TextDecoder().decode(bytes.subarray(8))).toBe("{}      ");
    expect(decodeSafetensors(bytes)).toEqual({ tensors: new Map(), metadata: {} });
  });

  test("names like __proto__ stay ordinary names and never touch Object.prototype", () => {
    const tensors = new Map([
      ["__proto__", tensor("float64", [2], [1, 2])],
      ["constructor", tensor("float32", [1], [3])],
      ["prototype", tensor("float64", [0], [])],
    ]);
    // fromEntries defines "__proto__" as an own key, as JSON.parse does.
    const metadata = Object.fromEntries([
      ["__proto__", "polluted?"],
      ["constructor", "no"],
    ]);
    const file = decodeSafetensors(encodeSafetensors(tensors, metadata));
    expect(Array.from(file.tensors.get("__proto__")!.data)).toEqual([1, 2]);
    expect(Array.from(file.tensors.get("constructor")!.data)).toEqual([3]);
    expect(file.tensors.get("prototype")!.shape).toEqual([0]);
    expect(Object.entries(file.metadata).sort()).toEqual([
      ["__proto__", "polluted?"],
      ["constructor", "no"],
    ]);
    expect(Object.getPrototypeOf(file.metadata)).toBeNull();
    // Nothing leaked onto the prototype every object shares.
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain("dtype");
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
    expect(({} as Record<string, unknown>).data_offsets).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(Object.getPrototypeOf(Object.prototype)).toBeNull();

    // The same from a header written by hand, where JSON.parse sees the "__proto__" key.
    const raw = rawFile(
      '{"__proto__":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"__metadata__":{"__proto__":"x"}}',
      new Uint8Array(new Float64Array([7]).buffer),
    );
    const parsed = decodeSafetensors(raw);
    expect(parsed.tensors.get("__proto__")!.data[0]).toBe(7);
    expect(Object.entries(parsed.metadata)).toEqual([["__proto__", "x"]]);
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
  });

  test("the encoder refuses tensors it cannot write faithfully", () => {
    const bad: Array<[Record<string, unknown>, Record<string, unknown> | undefined, RegExp]> = [
      [{ __metadata__: tensor("float64", [1], [1]) }, undefined, /"__metadata__" is reserved/],
      [{ w: { dtype: "float32", shape: [1], data: new Float64Array(1) } }, undefined, /must be a Float32Array/],
      [{ w: { dtype: "int16", shape: [1], data: new Int16Array(1) } }, undefined, /dtype int16; use float64, float32/],
      [{ w: { dtype: "int32", shape: [1], data: new Float64Array(1) } }, undefined, /must be a Int32Array/],
      [{ w: tensor("float64", [2, 2], [1, 2, 3]) }, undefined, /shape \[2,2\] \(4 elements\) but 3 values/],
      [{ w: tensor("float64", [-1], []) }, undefined, /dimensions must be integers ≥ 0/],
      [{ w: tensor("float64", [1.5], [1]) }, undefined, /dimensions must be integers ≥ 0/],
      [{}, { version: 2 }, /metadata value of "version" must be a string/],
      [{ "\uD800": tensor("float64", [], [1]) }, undefined, /lone surrogate/],
    ];
    for (const [tensors, metadata, message] of bad) {
      const call = () =>
        encodeSafetensors(tensors as Record<string, StoredTensor>, metadata as Record<string, string> | undefined);
      expect(call).toThrow(ChainruleError);
      expect(call).toThrow(message);
    }
  });
});

describe("corrupt files are refused with a ChainruleError", () => {
  test("every truncation of the fixture", () => {
    for (let length = 0; length < fixture.length; length++) {
      expect(() => decodeSafetensors(fixture.subarray(0, length))).toThrow(ChainruleError);
    }
    refused(fixture.subarray(0, 5), /file is 5 bytes, shorter than the 8-byte header length/);
    refused(fixture.subarray(0, 100), /header length 336 runs past the end of the 100-byte file/);
    refused(fixture.subarray(0, 8 + fixtureHeaderLength), /beyond the 0-byte data section/);
    refused(fixture.subarray(0, fixture.length - 1), /"scale" has data_offsets \[72, 80\] beyond the 79-byte/);
  });

  test("an absurd header length", () => {
    const bytes = fixture.slice();
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 60n, true);
    refused(bytes, /header length 1152921504606846976 is over the 100 MB limit/);
    new DataView(bytes.buffer).setBigUint64(0, 100_000_001n, true);
    refused(bytes, /over the 100 MB limit/);
  });

  test("a header that is not UTF-8 JSON object text", () => {
    const utf8 = fixture.slice();
    utf8[20] = 0xff;
    refused(utf8, /header is not valid UTF-8/);
    refused(rawFile("\uFEFF{}"), /must be a JSON object beginning with "\{"/); // a byte-order mark
    refused(rawFile("  {}"), /must be a JSON object beginning with "\{"/);
    refused(rawFile("[1, 2]"), /must be a JSON object beginning with "\{"/);
    refused(rawFile("null"), /must be a JSON object/);
    refused(rawFile(""), /must be a JSON object/);
    refused(rawFile('{"a": {"dtype": "F64",'), /header is not valid JSON/);
    refused(rawFile("{}\0\0\0\0"), /header is not valid JSON/); // padding must be spaces
    expect(decodeSafetensors(rawFile("{}    ")).tensors.size).toBe(0);
  });

  test("an entry that is not an object or lacks a field", () => {
    refused(rawFile('{"w": 5}'), /tensor "w" must be an object with dtype, shape and data_offsets/);
    refused(rawFile('{"w": [1]}'), /tensor "w" must be an object/);
    for (const field of ["dtype", "shape", "data_offsets"]) {
      refused(
        editedFixture((h) => delete h["layers.0.bias"][field]),
        new RegExp(`tensor "layers.0.bias" is missing "${field}"`),
      );
    }
  });

  test("unsupported and unknown dtypes are named, with the supported ones", () => {
    const bf16 = refused(
      editedFixture((h) => (h["layers.0.bias"].dtype = "BF16")),
      /tensor "layers.0.bias" has dtype BF16, which this library does not read/,
    );
    expect(bf16).toMatch(/supported dtypes: F64, F32, I32/);
    refused(
      editedFixture((h) => (h.scale.dtype = "U64")),
      /dtype U64.*supported dtypes: F64, F32, I32, I64/,
    );
    for (const name of ["toString", "constructor", "__proto__", "f64", "F128"]) {
      refused(
        editedFixture((h) => (h.scale.dtype = name)),
        new RegExp(`unknown dtype "${name}"; supported dtypes: F64, F32`),
      );
    }
    refused(
      editedFixture((h) => (h.scale.dtype = 64)),
      /dtype 64, not a string/,
    );
  });

  test("shapes with negative, fractional or non-number entries", () => {
    for (const shape of [[-3], [1.5, 2], ["3"], [[3]], 3, null, [2 ** 53]]) {
      refused(
        editedFixture((h) => (h["layers.0.bias"].shape = shape)),
        /tensor "layers.0.bias" has shape .*; it must be a list of integers ≥ 0/,
      );
    }
  });

  test("offsets that are malformed, out of range, overlapping, leave holes or disagree with the shape", () => {
    for (const offsets of [[0], [0, 12, 24], [-1, 12], [0.5, 12], "0,12", null]) {
      refused(
        editedFixture((h) => (h["layers.0.bias"].data_offsets = offsets)),
        /has data_offsets .*; it must be \[begin, end\] with integers ≥ 0/,
      );
    }
    refused(
      editedFixture((h) => (h["layers.0.bias"].data_offsets = [12, 0])),
      /data_offsets \[12, 0\] with begin after end/,
    );
    refused(
      editedFixture((h) => (h.scale.data_offsets = [80, 88])),
      /"scale" has data_offsets \[80, 88\] beyond the 80-byte data section/,
    );
    // Both F32 tensors claim the first 12 bytes.
    refused(
      editedFixture((h) => (h["layers.1.weight"].data_offsets = [0, 12])),
      /overlaps tensor "layers.0.(bias|weight)"/,
    );
    // Shape and offsets agree, but bytes 60–72 belong to nobody.
    refused(
      editedFixture((h) => {
        delete h["layers.1.weight"];
      }),
      /bytes \[60, 72\) of the data section belong to no tensor \(a hole\)/,
    );
    // Extra bytes after the last tensor.
    const longer = new Uint8Array(fixtureData.length + 4);
    longer.set(fixtureData);
    refused(
      editedFixture(() => {}, longer),
      /bytes \[80, 84\) at the end of the data section belong to no tensor/,
    );
    refused(
      editedFixture((h) => (h["layers.0.weight"].shape = [2, 2])),
      /shape \[2,2\] of F64, which needs 32 bytes, but data_offsets \[12, 60\] hold 48/,
    );
    refused(
      editedFixture((h) => (h.scale.shape = [0])),
      /needs 0 bytes, but data_offsets \[72, 80\] hold 8/,
    );
  });

  test("metadata that is not an object of strings", () => {
    refused(
      editedFixture((h) => (h.__metadata__.version = 2)),
      /metadata value of "version" must be a string, got 2/,
    );
    refused(
      editedFixture((h) => (h.__metadata__.nested = { a: "b" })),
      /metadata value of "nested" must be a string/,
    );
    refused(
      editedFixture((h) => (h.__metadata__ = ["pt"])),
      /"__metadata__" must be an object of strings/,
    );
    expect(decodeSafetensors(editedFixture((h) => (h.__metadata__ = null))).metadata).toEqual({});
  });

  test("any change to one header byte gives a valid file or a ChainruleError, never another error", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 + fixtureHeaderLength - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (i, x) => {
          const bytes = fixture.slice();
          bytes[i]! ^= x;
          try {
            decodeSafetensors(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(ChainruleError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("loadSafetensors names the file", async () => {
    const path = join(freshDir(), "cut.safetensors");
    writeFileSync(path, fixture.subarray(0, 200));
    await expect(loadSafetensors(path)).rejects.toThrow(ChainruleError);
    await expect(loadSafetensors(path)).rejects.toThrow(`loadSafetensors: ${path}: header length 336 runs past`);
  });
});

/** node:fs/promises with one step made to fail, recording the temporary files it opened. */
function faultyFs(fault: "open" | "write" | "sync" | "rename" | "none") {
  const opened: string[] = [];
  const fs: SafetensorsFileSystem = {
    async open(path, flags) {
      opened.push(path);
      if (fault === "open") {
        // Someone else's file already has our temporary name.
        await fsp.writeFile(path, "not ours");
        throw Object.assign(new Error(`EEXIST: file already exists, open '${path}'`), { code: "EEXIST" });
      }
      const handle = await fsp.open(path, flags);
      return {
        async writeFile(data) {
          if (fault === "write") {
            await handle.writeFile(data.subarray(0, data.length >> 1)); // half written, then the disk fills
            throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          }
          await handle.writeFile(data);
        },
        async sync() {
          if (fault === "sync") throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
          await handle.sync();
        },
        close: () => handle.close(),
      };
    },
    async rename(from, to) {
      if (fault === "rename") throw Object.assign(new Error("EXDEV: rename failed"), { code: "EXDEV" });
      await fsp.rename(from, to);
    },
    rm: (path, options) => fsp.rm(path, options),
  };
  return { fs, opened };
}

describe("saveSafetensors and loadSafetensors", () => {
  const newer = { w: tensor("float64", [2, 2], [1, 2, 3, 4]), b: tensor("float32", [2], [0.5, -0.5]) };

  test("save then load round trips, replaces the old file and leaves no temporary file", async () => {
    const dir = freshDir();
    const path = join(dir, "model.safetensors");
    writeFileSync(path, fixture);
    await saveSafetensors(path, newer, { epoch: "3" });
    const file = await loadSafetensors(path);
    expect(Array.from(file.tensors.get("w")!.data)).toEqual([1, 2, 3, 4]);
    expect(file.metadata).toEqual({ epoch: "3" });
    expect(Array.from(readFileSync(path))).toEqual(Array.from(encodeSafetensors(newer, { epoch: "3" })));
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
  });

  test.each(["write", "sync", "rename"] as const)(
    "a failed %s leaves the previous file byte-identical and removes the temporary file",
    async (fault) => {
      const dir = freshDir();
      const path = join(dir, "model.safetensors");
      writeFileSync(path, fixture);
      const { fs, opened } = faultyFs(fault);
      await expect(saveSafetensors(path, newer, {}, fs)).rejects.toThrow(/ENOSPC|EIO|EXDEV/);
      expect(Array.from(readFileSync(path))).toEqual(Array.from(fixture));
      expect(readdirSync(dir)).toEqual(["model.safetensors"]);
      // The temporary file was a unique sibling of the target.
      expect(opened).toHaveLength(1);
      expect(opened[0]).toMatch(/model\.safetensors\.tmp-\d+-[a-z0-9]+$/);
    },
  );

  test("a temporary name that is already taken is not deleted: it is not ours", async () => {
    const dir = freshDir();
    const path = join(dir, "model.safetensors");
    writeFileSync(path, fixture);
    const { fs, opened } = faultyFs("open");
    await expect(saveSafetensors(path, newer, undefined, fs)).rejects.toThrow(/EEXIST/);
    expect(readFileSync(opened[0]!, "utf8")).toBe("not ours");
    expect(Array.from(readFileSync(path))).toEqual(Array.from(fixture));
  });

  test("invalid tensors are refused before anything touches the disk", async () => {
    const { fs, opened } = faultyFs("none");
    const path = join(freshDir(), "model.safetensors");
    const bad = { w: tensor("float64", [3], [1, 2]) };
    await expect(saveSafetensors(path, bad, undefined, fs)).rejects.toThrow(/^saveSafetensors: tensor "w"/);
    expect(opened).toEqual([]);
  });

  test("a missing directory rejects with the file system's error and creates nothing", async () => {
    const dir = freshDir();
    await expect(saveSafetensors(join(dir, "missing", "model.safetensors"), newer)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
