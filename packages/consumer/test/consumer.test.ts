/**
 * @file The packages as a user gets them: every public package is packed (`pnpm pack`, which
 * turns `workspace:*` into versions), the tarballs are installed with plain npm into a scratch
 * project outside the workspace, and that project then type-checks an ESM TypeScript file
 * (strict; moduleResolution nodenext and bundler) and a CommonJS one (nodenext), requires the
 * packages from CommonJS, trains,
 * saves and loads a model, and bundles a browser entry with esbuild. The tarballs also pass
 * publint, are-the-types-wrong and `npm publish --dry-run`. Nothing here reads the workspace's
 * sources: the packages' dist/ must be built first (`pnpm test` builds).
 */

import { type ExecFileSyncOptions, execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
}

// The public packages: every workspace package that is not private.
const packages = readdirSync(join(root, "packages"))
  .map((dir) => ({ dir: join(root, "packages", dir), manifest: readJson(join(root, "packages", dir, "package.json")) }))
  .filter(({ manifest }) => manifest.private !== true);

function readJson(path: string): Manifest {
  return JSON.parse(readFileSync(path, "utf8")) as Manifest;
}

// The child processes get a clean environment: the npm_* variables that a pnpm script sets
// (workspace paths, the package being run, pnpm's own settings) would leak into npm and tsc.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== "PNPM_SCRIPT_SRC_DIR" && k !== "INIT_CWD"),
);

function run(command: string, args: readonly string[], options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", env, stdio: "pipe", ...options }).toString();
  } catch (error) {
    const e = error as { stdout?: unknown; stderr?: unknown; message: string };
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${String(e.stdout ?? "")}\n${String(e.stderr ?? e.message)}`,
    );
  }
}

// pnpm as the test runs it when started by `pnpm test`, else the pinned version through npx.
function pnpm(args: readonly string[], cwd: string): string {
  const execpath = process.env.npm_execpath;
  if (execpath !== undefined && /pnpm/.test(execpath)) {
    // pnpm is a JavaScript file in some versions and a native executable in others.
    if (/\.[cm]?js$/.test(execpath)) return run(process.execPath, [execpath, ...args], { cwd });
    return run(execpath, args, { cwd });
  }
  return run("npx", ["-y", "pnpm@12.4.2", ...args], { cwd });
}

let scratch = "";
let tarballs: string[] = [];

beforeAll(() => {
  for (const { dir, manifest } of packages) {
    if (!existsSync(join(dir, "dist", "index.js"))) {
      throw new Error(`${manifest.name} has no dist/: run \`pnpm build\` before this test`);
    }
  }
  scratch = mkdtempSync(join(tmpdir(), "chainrule-consumer-"));
  const packed = join(scratch, "tarballs");
  mkdirSync(packed);
  for (const { dir } of packages) pnpm(["pack", "--pack-destination", packed], dir);
  tarballs = readdirSync(packed).map((f) => join(packed, f));

  const project = join(scratch, "project");
  cpSync(join(here, "..", "fixture"), project, { recursive: true });
  // Plain npm, as a user installs; third-party dependencies come from the registry (or its cache).
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...tarballs], {
    cwd: project,
  });
}, 300_000);

afterAll(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
});

const project = () => join(scratch, "project");

describe("the tarballs", () => {
  test("one per public package, installed from the tarballs and not linked to the workspace", () => {
    expect(tarballs).toHaveLength(packages.length);
    expect(packages.map((p) => p.manifest.name).sort()).toEqual(
      expect.arrayContaining(["@chainrule/autograd", "@chainrule/datasets", "@chainrule/nn"]),
    );
    expect(relative(root, scratch).startsWith("..")).toBe(true);
    for (const { manifest } of packages) {
      const installed = join(project(), "node_modules", ...manifest.name.split("/"));
      const json = readJson(join(installed, "package.json"));
      // pnpm pack replaced the workspace protocol with the version
      for (const range of Object.values(json.dependencies ?? {})) expect(range).not.toMatch(/^workspace:/);
      expect(existsSync(join(installed, "LICENSE"))).toBe(true);
      expect(existsSync(join(installed, "dist", ".tsbuildinfo"))).toBe(false);
      // the source maps point at sources that are in the tarball
      const map = JSON.parse(readFileSync(join(installed, "dist", "index.js.map"), "utf8")) as { sources: string[] };
      for (const source of map.sources) expect(existsSync(join(installed, "dist", source))).toBe(true);
    }
  });

  test("publint finds nothing to report", () => {
    for (const tarball of tarballs) {
      const out = run(bin("publint"), ["run", tarball, "--strict"]);
      expect(out).toContain("All good!");
    }
  }, 120_000);

  test("are-the-types-wrong finds no problem (require(ESM) is intended: Node >= 20.19)", () => {
    // node10 resolution predates exports maps, and a require() resolving to ESM is what the
    // packages mean on Node >= 20.19 (their engines); every other check stays on.
    for (const tarball of tarballs) {
      run(bin("attw"), [tarball, "--profile", "node16", "--ignore-rules", "cjs-resolves-to-esm", "--format", "ascii"]);
    }
  }, 120_000);

  test("npm publish --dry-run accepts each tarball without warnings", () => {
    for (const tarball of tarballs) {
      const { status, stdout, stderr } = spawnSync("npm", ["publish", "--dry-run", tarball], {
        cwd: scratch,
        env,
        encoding: "utf8",
      });
      expect(status, stderr).toBe(0);
      expect(stdout).toMatch(/^\+ @chainrule\/[a-z]+@/m);
      // The one warning allowed: nobody is logged in to the registry here.
      const warnings = stderr.split("\n").filter((line) => /^npm (warn|error)/i.test(line));
      expect(warnings.filter((line) => !/requires you to be logged in/.test(line))).toEqual([]);
    }
  }, 120_000);
});

describe("a user's project", () => {
  // nodenext also checks require-types.cts: the types as a CommonJS TypeScript file sees them.
  test.each(["nodenext", "bundler"])("type-checks under strict with moduleResolution %s", (resolution) => {
    run(bin("tsc"), ["-p", `tsconfig.${resolution}.json`], { cwd: project() });
  });

  test("require() works from CommonJS", () => {
    const out = JSON.parse(run(process.execPath, ["require.cjs"], { cwd: project() })) as Record<string, unknown>;
    expect(out).toEqual({ c: 9, grad: 6, shape: [1, 2], accuracy: 1 });
  });

  test("trains, saves and loads a model; drawing without the optional Graphviz says what to install", () => {
    const out = JSON.parse(run(process.execPath, ["train.mjs"], { cwd: project() })) as {
      first: number;
      last: number;
      accuracy: number;
      same: boolean;
      dot: boolean;
      svgError: string;
      mnistTest: number;
    };
    expect(out.last).toBeLessThan(out.first / 10);
    expect(out.accuracy).toBe(1);
    expect(out.same).toBe(true);
    expect(out.dot).toBe(true);
    expect(out.svgError).toMatch(/^renderSvg: .*npm install @hpcc-js\/wasm-graphviz/);
    expect(out.mnistTest).toBe(2000);
  });

  test("a browser entry bundles with esbuild and runs", async () => {
    const outfile = join(project(), "out", "browser.js");
    const result = await build({
      entryPoints: [join(project(), "browser.ts")],
      absWorkingDir: project(),
      bundle: true,
      platform: "browser",
      format: "esm",
      outfile,
      logLevel: "silent",
      // nothing external: the packages' "browser" conditions keep every Node module out
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const code = readFileSync(outfile, "utf8");
    // no import of a Node module, static or dynamic (the worker thread's source text names one
    // in a string, which a browser never runs)
    expect(code).not.toMatch(/\bimport\s*\(\s*["']node:|\bfrom\s*["']node:/);
    expect(code).not.toMatch(/@hpcc-js\/wasm-graphviz\/dist/); // the optional peer is not bundled
    await import(`${outfile}?t=${Date.now()}`);
    const got = (globalThis as { chainruleResult?: Record<string, unknown> }).chainruleResult;
    expect(got).toMatchObject({ c: 6, grad: 5, hasGrad: true });
    expect(Number.isFinite(got?.loss)).toBe(true);
  });

  test("autograd alone bundles for the browser with nothing left external", async () => {
    const result = await build({
      stdin: { contents: 'export * from "@chainrule/autograd";', resolveDir: project() },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
  });
});
