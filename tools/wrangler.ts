/**
 * Running wrangler from the tooling without it reaching the network for metrics, error reports or `cf`
 * (config under `<repo>/.config`), and reading the local D1 database a stack persisted.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BIN, REPO_ROOT } from "./paths.ts";

/** Environment every local wrangler invocation gets. */
export function offlineWranglerEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    XDG_CONFIG_HOME: path.join(REPO_ROOT, ".config"),
    // A TTY-less wrangler still colours its output without this.
    FORCE_COLOR: "0",
  };
}

/**
 * Runs one SQL statement on a snapshot of the local D1 database of a stack (`wrangler d1 execute DB --local
 * --json` on a copy of `<persistTo>/v3/d1`). Never on the live file: a second process opening the SQLite
 * file the running stack writes makes the stack's own queries fail with `SQLITE_BUSY` (a sign-in answering
 * 500). The copy leaves out the `-shm` wal-index, which SQLite rebuilds from the WAL; a copy taken mid-write
 * can be torn, so callers retry.
 * @param persistTo the stack's wrangler state folder (`<dataDir>/wrangler`)
 * @returns the rows of every result set, in order
 * @throws Error with wrangler's output when it exits non-zero or prints something else than JSON
 */
export async function queryLocalD1<T = Record<string, unknown>>(persistTo: string, sql: string): Promise<T[]> {
  let stdout: string;
  const snapshot = mkdtempSync(path.join(os.tmpdir(), "vidsnap-d1-"));
  try {
    const d1 = path.join(persistTo, "v3", "d1");
    if (existsSync(d1)) cpSync(d1, path.join(snapshot, "v3", "d1"), { recursive: true, filter: (src) => !src.endsWith("-shm") });
    ({ stdout } = await promisify(execFile)(
      path.join(BIN, "wrangler"),
      ["d1", "execute", "DB", "--local", "--persist-to", snapshot, "-c", "wrangler.toml", "--json", "--command", sql],
      { cwd: REPO_ROOT, env: offlineWranglerEnv(), maxBuffer: 16 * 1024 * 1024 },
    ));
  } catch (e) {
    const err = e as Error & { code?: number; stdout?: string; stderr?: string };
    throw new Error(`wrangler d1 execute exited ${err.code}: ${(err.stderr ?? "").slice(-500)}${(err.stdout ?? "").slice(-500)}`);
  } finally {
    rmSync(snapshot, { recursive: true, force: true });
  }
  try {
    return (JSON.parse(stdout) as { results: T[] }[]).flatMap((r) => r.results);
  } catch (e) {
    throw new Error(`unexpected d1 output: ${stdout.slice(0, 300)} (${(e as Error).message})`);
  }
}
