/**
 * Where the tooling finds the repository and the shared real test videos (`../shared/testdata` beside the
 * repository; override with VIDSNAP_TESTDATA). Videos are read in place and never copied into the repo.
 */
import { existsSync } from "node:fs";
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
