/**
 * Builds the web dashboard (web/ → web/dist, `vite build web`) when its inputs changed, so `wrangler dev`
 * (./stack.ts), vitest-pool-workers (tools/test.ts) and `wrangler deploy --dry-run`
 * (tools/deploy/check.ts) always find the `[assets]` directory of wrangler.toml, on a fresh clone too.
 *
 * "Changed" = the SHA-256 over the paths and contents of web/ (without dist/), schema/, runtime/ and client/src/
 * (the modules the dashboard imports) and the package.json of @scalar/api-reference (whose bundle the build
 * copies for /docs, so an upgrade rebuilds) differs from the one stored in web/dist/.build-stamp by the last build
 * (excluded from the assets by web/public/.assetsignore). Hashing ~100 small files takes a few ms, so
 * calling this before every stack start is cheap. Concurrent callers (parallel test files) build once, under a
 * lock file in the temp folder. `npm run web:build` builds unconditionally.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BIN, REPO_ROOT } from "../paths.ts";

export const WEB_DIST = path.join(REPO_ROOT, "web/dist");
const STAMP = path.join(WEB_DIST, ".build-stamp");
const INPUTS = ["web", "schema", "runtime", "client/src"];
/** Single files the build reads from node_modules. */
const INPUT_FILES = ["node_modules/@scalar/api-reference/package.json"];
const SKIP = new Set(["dist", "node_modules", "migrations"]);

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (SKIP.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.isFile()) yield full;
  }
}

/** SHA-256 (hex) of the dashboard's inputs. */
export function webInputsHash(): string {
  const hash = createHash("sha256");
  for (const input of INPUTS) {
    const dir = path.join(REPO_ROOT, input);
    if (!existsSync(dir)) continue;
    for (const file of files(dir)) hash.update(path.relative(REPO_ROOT, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  for (const input of INPUT_FILES) {
    const file = path.join(REPO_ROOT, input);
    if (existsSync(file)) hash.update(input).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

/**
 * Runs `vite build web` unless web/dist is up to date (or `opts.force`).
 * @param log receives vite's output lines and one summary line
 * @returns whether a build ran
 * @throws Error when vite fails (its output is in the message)
 */
export async function ensureWebBuild(log: (line: string) => void = console.log, opts: { force?: boolean } = {}): Promise<boolean> {
  const upToDate = (hash: string) => existsSync(path.join(WEB_DIST, "index.html")) && existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === hash;
  if (!opts.force && upToDate(webInputsHash())) return false;
  // One build at a time: test files running in parallel (tests/e2e, tests/browser) may both find web/dist stale.
  const release = await lock();
  try {
    const hash = webInputsHash();
    if (!opts.force && upToDate(hash)) return false; // built by the process that held the lock
    await build(hash, log);
    return true;
  } finally {
    release();
  }
}

/** A lock file in the temp folder (per checkout); a lock older than {@link LOCK_STALE_MS} is taken over. */
const LOCK = path.join(os.tmpdir(), `vidsnap-web-build-${createHash("sha256").update(REPO_ROOT).digest("hex").slice(0, 12)}.lock`);
const LOCK_STALE_MS = 120_000;

async function lock(): Promise<() => void> {
  for (;;) {
    try {
      closeSync(openSync(LOCK, "wx"));
      return () => rmSync(LOCK, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > LOCK_STALE_MS) rmSync(LOCK, { force: true });
      } catch {
        /* released meanwhile */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function build(hash: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(path.join(BIN, "vite"), ["build", "web", "--logLevel", "warn"], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (out += c));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`vite build web exited with ${code}:\n${out}`))));
  });
  for (const line of output.split("\n")) if (line.trim()) log(`[web] ${line}`);
  writeFileSync(STAMP, `${hash}\n`);
  log(`[web] dashboard built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// `npm run web:build` = `tsx tools/stack/web-build.ts --force`; without --force it builds only when stale.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await ensureWebBuild(console.log, { force: process.argv.includes("--force") });
}
