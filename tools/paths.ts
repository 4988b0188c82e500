/**
 * Where the tooling finds the repository and the shared real test videos (`../shared/testdata` beside the
 * repository; override with VIDSNAP_TESTDATA). Videos are read in place and never copied into the repo.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Executables installed by `npm ci` (wrangler, tsx, vitest, vite, drizzle-kit). */
export const BIN = path.join(REPO_ROOT, "node_modules/.bin");
export const TESTDATA_DIR = path.resolve(process.env.VIDSNAP_TESTDATA ?? path.join(REPO_ROOT, "../shared/testdata"));

/** Absolute path of a test video. @throws Error when the file is missing (nothing can run without it). */
export function testVideo(name: string): string {
  const file = path.join(TESTDATA_DIR, name);
  if (!existsSync(file)) throw new Error(`test video missing: ${file} (set VIDSNAP_TESTDATA)`);
  return file;
}

/** JSON results of `npm run bench` and `npm run chaos` (git-ignored). */
export const RESULTS_DIR = path.join(REPO_ROOT, "tools/bench/results");

/**
 * The script of an installed package's executable (its package.json `bin`), to run under a chosen `node`
 * (e.g. the LTS of ./node-lts.ts for tools that need a newer Node than the toolchain's). Looks where Node
 * resolves packages from the repository (its node_modules, then NODE_PATH).
 * @param pkg package name, e.g. `@hey-api/openapi-ts`
 * @param name the executable's name; default the package's only or first one
 * @throws Error when the package is not installed or has no such executable
 */
export function packageBin(pkg: string, name?: string): string {
  const dirs = createRequire(path.join(REPO_ROOT, "package.json")).resolve.paths(pkg) ?? [];
  const dir = dirs.map((d) => path.join(d, pkg)).find((d) => existsSync(path.join(d, "package.json")));
  if (!dir) throw new Error(`${pkg} is not installed (npm ci)`);
  const { bin } = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { bin?: string | Record<string, string> };
  const script = typeof bin === "string" ? bin : bin && (name ? bin[name] : Object.values(bin)[0]);
  if (!script) throw new Error(`${pkg} has no executable ${name ?? ""}`.trim());
  return path.join(dir, script);
}
