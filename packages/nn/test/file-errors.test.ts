/**
 * Files: a Node error (a missing file, a directory, a missing directory) becomes a ChainruleError
 * naming the operation and the caller's path, with Node's error as `cause`; temporary files that
 * a killed save left behind are removed by the next save or load of the same target; loading the
 * wrong kind of file, or a header with a repeated key, says so.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChainruleError, Random } from "@chainrule/autograd";
import { afterAll, describe, expect, test } from "vitest";
import {
  Adam,
  decodeOptimizer,
  decodeSafetensors,
  encodeModel,
  encodeOptimizer,
  loadModel,
  loadOptimizer,
  loadSafetensors,
  MLP,
  SGD,
  saveModel,
  saveOptimizer,
  saveSafetensors,
} from "../src/index.js";

const scratch = mkdtempSync(join(tmpdir(), "chainrule-file-errors-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const freshDir = () => mkdtempSync(join(scratch, `t${count++}-`));
const net = () => new MLP([2, 3, 1], { random: new Random(0) });

/** The ChainruleError a promise rejects with (fails the test if it rejects with anything else). */
async function rejection(promise: Promise<unknown>): Promise<ChainruleError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ChainruleError);
    return error as ChainruleError;
  }
  throw new Error("expected a rejection");
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("file errors name the operation and the user's path, with the Node error as cause", () => {
  test.each([
    ["loadModel", (path: string) => loadModel(path, net())],
    ["loadOptimizer", (path: string) => loadOptimizer(path, new SGD(net().parameters(), { lr: 0.1 }))],
    ["loadSafetensors", (path: string) => loadSafetensors(path)],
  ] as const)("%s: a missing file, a directory", async (op, load) => {
    const dir = freshDir();
    const missing = join(dir, "nope.safetensors");
    const e = await rejection(load(missing));
    expect(e.message).toBe(`${op}: cannot read ${JSON.stringify(missing)}: no such file (ENOENT)`);
    expect((e.cause as { code?: string }).code).toBe("ENOENT");
    const d = await rejection(load(dir));
    expect(d.message).toBe(`${op}: cannot read ${JSON.stringify(dir)}: it is a directory (EISDIR)`);
    expect((d.cause as { code?: string }).code).toBe("EISDIR");
    expect((await rejection(load(""))).message).toBe(`${op}: path must be a non-empty string, got the empty string`);
  });

  test.each([
    ["saveModel", (path: string) => saveModel(path, net())],
    ["saveOptimizer", (path: string) => saveOptimizer(path, new SGD(net().parameters(), { lr: 0.1 }))],
    ["saveSafetensors", (path: string) => saveSafetensors(path, {})],
  ] as const)("%s: into a missing directory, onto a directory, to an empty path", async (op, save) => {
    const dir = freshDir();
    const target = join(dir, "missing", "model.safetensors");
    const e = await rejection(save(target));
    expect(e.message).toBe(
      `${op}: cannot save to ${JSON.stringify(target)}: the directory ${JSON.stringify(join(dir, "missing"))} does not exist (ENOENT)`,
    );
    expect(e.message).not.toMatch(/\.tmp-/); // the user's path, not the temporary file's
    expect((e.cause as { code?: string }).code).toBe("ENOENT");

    const sub = join(dir, "sub");
    mkdirSync(sub);
    const d = await rejection(save(sub));
    expect(d.message).toMatch(new RegExp(`^${op}: cannot save to ${escapeRegExp(JSON.stringify(sub))}: `));
    expect(d.cause).toBeInstanceOf(Error);
    expect(readdirSync(dir).sort()).toEqual(["sub"]); // no temporary file left

    expect((await rejection(save(""))).message).toBe(`${op}: path must be a non-empty string, got the empty string`);
  });
});

describe("temporary files of killed saves", () => {
  /** The id of a process that has exited. */
  function deadPid(): number {
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    return Number(child.stdout);
  }

  test.each(["save", "load"] as const)("the next %s removes those of dead processes only", async (next) => {
    const dir = freshDir();
    const path = join(dir, "model.safetensors");
    await saveModel(path, net());
    const dead = `model.safetensors.tmp-${deadPid()}-k1ll3d`;
    const ours = `model.safetensors.tmp-${process.pid}-l1ve`; // this process: a save may be under way
    const other = "other.safetensors.tmp-1-abc"; // another target's: not ours to judge
    for (const name of [dead, ours, other]) writeFileSync(join(dir, name), "partial");
    if (next === "save") await saveModel(path, net());
    else await loadModel(path, net());
    expect(readdirSync(dir).sort()).toEqual([ours, "model.safetensors", other].sort());
  });
});

describe("loading the wrong kind of file says so", () => {
  test("a model file loaded as optimizer state", () => {
    const opt = new Adam(net().parameters());
    let message = "";
    try {
      decodeOptimizer(encodeModel(net()), opt);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      'decodeOptimizer: the metadata has no "chainrule.optimizer": not an optimizer file (it is a model file: load it with loadModel)',
    );
  });

  test("an Adam state file loaded into SGD", () => {
    const model = net();
    const bytes = encodeOptimizer(new Adam(model.parameters()));
    expect(() => decodeOptimizer(bytes, new SGD(model.parameters(), { lr: 0.1 }))).toThrow(
      /^SGD\.loadStateDict: it is the state of an Adam optimizer, not of SGD; nothing was loaded$/,
    );
  });

  test("a repeated key in a safetensors header is reported as a duplicate", () => {
    const file = (header: string, dataBytes: number) => {
      const json = new TextEncoder().encode(header);
      const bytes = new Uint8Array(8 + json.length + dataBytes);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
      bytes.set(json, 8);
      return bytes;
    };
    const entry = (begin: number) => `{"dtype":"F64","shape":[1],"data_offsets":[${begin},${begin + 8}]}`;
    expect(() => decodeSafetensors(file(`{"w":${entry(0)},"w":${entry(8)}}`, 16))).toThrow(
      /^decodeSafetensors: tensor name "w" appears twice in the header$/,
    );
    expect(() => decodeSafetensors(file(`{"w":${entry(0)},"w":${entry(0)}}`, 8))).toThrow(/"w" appears twice/);
    expect(() => decodeSafetensors(file(`{"__metadata__":{"a":"1","b":"2","a":"3"},"w":${entry(0)}}`, 8))).toThrow(
      /^decodeSafetensors: metadata key "a" appears twice in the header$/,
    );
    // The same name in different objects is no repetition.
    const ok = decodeSafetensors(file(`{"__metadata__":{"w":"x"},"w":${entry(0)},"v":${entry(8)}}`, 16));
    expect([...ok.tensors.keys()]).toEqual(["w", "v"]);
  });
});
