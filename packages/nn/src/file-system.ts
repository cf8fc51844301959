/**
 * @file Reading and writing files by path, for model files in Node: node:fs/promises, imported
 * when first needed. Browsers get file-system-browser.ts instead (package.json's "imports" map,
 * condition "browser"), so bundles for the web never see a Node module. Imports nothing at load.
 */

import type { SafetensorsFileSystem } from "./safetensors.js";

/** What saving and loading by path need: open/rename/rm for atomic writes, readFile to load. */
export interface FileSystem extends SafetensorsFileSystem {
  readFile(path: string): Promise<Uint8Array>;
}

/** node:fs/promises. `op` names the caller in the error a browser build throws instead. */
export async function fileSystem(_op: string): Promise<FileSystem> {
  return import("node:fs/promises");
}

/** What error messages and the clean-up of stale temporary files need of node:path. */
export interface PathFunctions {
  basename(path: string): string;
  dirname(path: string): string;
  join(...parts: string[]): string;
}

/** node:path's functions (the browser build throws, like `fileSystem`). */
export async function pathFunctions(_op: string): Promise<PathFunctions> {
  return import("node:path");
}
