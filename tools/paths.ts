/**
 * Location of the shared real test videos (`../shared/testdata` beside the repo; override with
 * VIDSNAP_TESTDATA). Tests read them in place and never copy them into the repo.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const TESTDATA_DIR = path.resolve(process.env.VIDSNAP_TESTDATA ?? path.join(REPO_ROOT, "../shared/testdata"));

/** Absolute path of a test video. @throws Error when the file is missing (the suite cannot run without it). */
export function testVideo(name: string): string {
  const file = path.join(TESTDATA_DIR, name);
  if (!existsSync(file)) throw new Error(`test video missing: ${file} (set VIDSNAP_TESTDATA)`);
  return file;
}
