/**
 * @file The browser's stand-in for file-system.ts: a web page has no paths to write to, so the
 * functions that take one (saveModel, loadModel, saveSafetensors, …) throw a ChainruleError that
 * points to the byte-level functions, whose results a page saves as a Blob download and reads
 * back from a File. Imports ChainruleError from @chainrule/autograd.
 */

import { ChainruleError } from "@chainrule/autograd";
import type { FileSystem, PathFunctions } from "./file-system.js";

export type { FileSystem, PathFunctions };

export async function fileSystem(op: string): Promise<FileSystem> {
  throw noFiles(op);
}

export async function pathFunctions(op: string): Promise<PathFunctions> {
  throw noFiles(op);
}

function noFiles(op: string): ChainruleError {
  return new ChainruleError(
    op,
    "reading and writing files by path needs Node; in a browser use the bytes instead: encodeModel/encodeOptimizer/encodeSafetensors give a Uint8Array to save as a Blob download, decodeModel/decodeOptimizer/decodeSafetensors read one back (e.g. from a File's arrayBuffer())",
  );
}
