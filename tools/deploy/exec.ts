/**
 * Child processes for `npm run check:deploy` (./check.ts): run a command offline, capture its output, never
 * inherit the terminal (stdin closed, so wrangler never prompts).
 */
import { spawn } from "node:child_process";
import { offlineWranglerEnv } from "../wrangler.ts";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr, ANSI colours removed. */
  output: string;
  ms: number;
}

/**
 * The offline wrangler environment (tools/wrangler.ts: no metrics, no `cf` fetch, project-local
 * config) plus what the checks need to parse wrangler's output.
 * @param extra variables added or overridden
 */
export function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...offlineWranglerEnv(),
    CI: "true",
    NO_COLOR: "1",
    // The checks parse wrangler's normal output (bundle size, migration table).
    WRANGLER_LOG: "log",
    ...extra,
  };
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * @param cmd executable (e.g. `node_modules/.bin/wrangler`)
 * @param args arguments
 * @param opts working directory, environment, timeout (default 60 s; the process group is killed after it)
 */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[check-deploy] timed out after ${opts.timeoutMs ?? 60_000} ms`;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, opts.timeoutMs ?? 60_000);
    const done = (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, output: (stdout + "\n" + stderr).replace(ANSI, ""), ms: Date.now() - started });
    };
    child.on("error", (err) => {
      stderr += String(err);
      done(-1);
    });
    child.on("close", done);
  });
}

/** Last `n` non-empty lines of a command's output, for failure details. */
export function tail(text: string, n = 8): string {
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !l.startsWith("npm warn"))
    .slice(-n)
    .join("\n");
}
