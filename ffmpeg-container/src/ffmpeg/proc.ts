/**
 * Spawning ffmpeg/ffprobe: argument arrays only (never a shell), a minimal environment ({@link toolEnv}),
 * killed with SIGKILL when the job's AbortSignal fires, stderr kept as lines for error reports.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { JobError } from "../runner/errors.ts";

/** Variables of the processor's environment a tool may inherit; nothing else (no S3_*, no shared secret). */
const INHERITED_ENV = ["PATH", "TZ"] as const;

/**
 * The environment of a spawned tool: PATH and TZ from `from`, a C locale, and nothing else, so ffmpeg
 * decoding a hostile file never has the storage credentials or the job-signing secret within reach.
 * @param from usually `process.env`
 */
export function toolEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { LANG: "C", LC_ALL: "C" };
  for (const name of INHERITED_ENV) {
    const value = from[name];
    if (value) env[name] = value;
  }
  return env;
}

/** A spawned tool with stdout and stderr piped (stdin closed). */
export type Child = ChildProcessByStdio<null, Readable, Readable>;

/**
 * Starts a binary with stdin closed and stdout/stderr piped.
 * @param cmd binary path or name on PATH
 * @param args argument array
 * @param opts.cwd working folder (the job's temp folder: anything a tool writes stays there)
 * @param opts.signal aborting it sends SIGKILL
 * @returns the child and a promise of its exit `{code, signal}` (rejects with JobError when it cannot start)
 */
export function startProcess(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; signal: AbortSignal },
): { child: Child; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: toolEnv(), stdio: ["ignore", "pipe", "pipe"], shell: false });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  opts.signal.addEventListener("abort", kill, { once: true });
  // A signal aborted before the spawn never fires "abort" again.
  if (opts.signal.aborted) kill();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) => {
      opts.signal.removeEventListener("abort", kill);
      reject(
        new JobError(
          "The video processor is misconfigured: a required tool could not be started.",
          `${cmd.split("/").pop()}: ${e.code ?? e.message}`,
        ),
      );
    });
    // "close" (not "exit"): stdout and stderr are fully read by then.
    child.once("close", (code, signal) => {
      opts.signal.removeEventListener("abort", kill);
      resolve({ code, signal });
    });
  });
  exited.catch(() => undefined);
  return { child, exited };
}

/**
 * Runs a binary to completion, collecting stdout (up to `maxStdoutBytes`) and stderr.
 * @param opts.onStdout when given, stdout goes to it as utf-8 text as it arrives (the same byte bound
 *   applies) instead of being collected: `stdout` is then empty
 * @returns exit code, stdout text and stderr text
 * @throws JobError when it cannot start or stdout exceeds the limit
 */
export async function runProcess(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; signal: AbortSignal; maxStdoutBytes?: number; onStdout?: (text: string) => void },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const max = opts.maxStdoutBytes ?? 16 * 1024 * 1024;
  const { child, exited } = startProcess(cmd, args, opts);
  const out: Buffer[] = [];
  let outBytes = 0;
  let err = "";
  // Streamed text is decoded across chunk boundaries (a UTF-8 character may be split).
  const decoder = opts.onStdout ? new TextDecoder() : undefined;
  child.stdout.on("data", (c: Buffer) => {
    outBytes += c.length;
    if (outBytes > max) child.kill("SIGKILL");
    else if (decoder) opts.onStdout!(decoder.decode(c, { stream: true }));
    else out.push(c);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c: string) => {
    err = (err + c).slice(-64 * 1024);
  });
  const { code } = await exited;
  if (outBytes > max) throw new JobError("The video could not be analysed.", `${cmd.split("/").pop()} printed more than ${max} bytes`);
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: err };
}
