/**
 * What every `vidsnap` command shares: exit codes, the error type that carries one, the resolved
 * settings (API URL, token, output mode), the credentials file, and output helpers.
 *
 * Settings, highest priority first: `--api-url` / `--token` flags, `VIDSNAP_API_URL` / `VIDSNAP_TOKEN`,
 * the credentials file (`$XDG_CONFIG_HOME/vidsnap/credentials.json`, else `~/.config/vidsnap/…`,
 * mode 0600, one token per API URL), default API URL `http://127.0.0.1:8787`.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createVidsnapClient, isVidsnapApiError, type VidsnapClient } from "../../client/src/index.ts";
import { VideoStatus } from "../../schema/video-status.ts";

/** Exit codes of every command (README "CLI", `vidsnap --help`). */
export const EXIT = {
  /** Done (for `--wait`: the extraction succeeded). */
  ok: 0,
  /** The extraction failed, or an unexpected error (server error, bad answer). */
  failed: 1,
  /** Bad command line or a request the API refused as invalid (400, 413, 415, 422). */
  usage: 2,
  /** Not signed in, or the token was refused (401, 403). */
  auth: 3,
  /** No such video (404). */
  notFound: 4,
  /** Conflict or not ready: wrong status for the action, images not ready (409). */
  conflict: 5,
  /** The API or the storage could not be reached (connection refused, DNS, timeout). */
  network: 6,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
  /** stdout was closed by its reader (`vidsnap ls | head -1`): 128 + SIGPIPE, what the shell reports for `git log | head -1`. */
  brokenPipe: 141,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  success (with --wait: the extraction succeeded)
  1  the extraction failed, or an unexpected error
  2  usage error, or a request the API refused as invalid (400, 413, 415, 422)
  3  not signed in, or the token was refused (401, 403)
  4  no such video (404)
  5  conflict / not ready (409: e.g. retry of a video that did not fail, images not ready)
  6  network error: the API or the storage could not be reached
  130 interrupted
  141 stdout closed by its reader (e.g. | head -1), as for git or ls`;

/** An error with the exit code the command ends with and a one-line message for stderr. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

/** Whether `err` (or one of its causes) is a failure to reach a server rather than an answer. */
export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || code.startsWith("UND_ERR_"))) return true;
    if (e instanceof TypeError && e.message === "fetch failed") return true;
    if (e instanceof Error && e.name === "TimeoutError") return true;
  }
  return false;
}

/**
 * Maps any error to the exit code and message the CLI ends with. Understands {@link CliError},
 * the client's `VidsnapApiError` and the upload's `UploadError` (both carry `status` and problem details).
 */
export function describeError(err: unknown): { exitCode: ExitCode; message: string } {
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message };
  if (err instanceof Error && err.name === "AbortError") return { exitCode: EXIT.interrupted, message: "interrupted" };
  const status = (err as { status?: unknown })?.status;
  if (typeof status === "number") {
    const requestId = isVidsnapApiError(err) ? err.requestId : (err as { problem?: { requestId?: string } }).problem?.requestId;
    const issues = ((err as { problem?: { errors?: unknown } }).problem?.errors ?? []) as { path?: string; message?: string }[];
    const fields = Array.isArray(issues) ? issues.map((i) => `\n  ${i.path || "(body)"}: ${i.message}`).join("") : "";
    const message = `${(err as Error).message}${requestId ? ` (request id ${requestId})` : ""}${fields}`;
    if (status === 401 || status === 403) return { exitCode: EXIT.auth, message: `${message}\nsign in with: vidsnap login` };
    if (status === 404) return { exitCode: EXIT.notFound, message };
    if (status === 409) return { exitCode: EXIT.conflict, message };
    if (status === 400 || status === 413 || status === 415 || status === 422) return { exitCode: EXIT.usage, message };
    return { exitCode: EXIT.failed, message };
  }
  if (isNetworkError(err)) {
    let code: string | undefined;
    for (let e: unknown = err, depth = 0; e && depth < 6 && !code; e = (e as { cause?: unknown }).cause, depth++) {
      const c = (e as { code?: unknown }).code ?? (e as { errors?: { code?: unknown }[] }).errors?.[0]?.code;
      if (typeof c === "string") code = c;
    }
    const detail = code ?? (err as { cause?: { message?: string } }).cause?.message;
    return { exitCode: EXIT.network, message: `network error: ${(err as Error).message}${detail ? ` (${detail})` : ""}` };
  }
  return { exitCode: EXIT.failed, message: err instanceof Error ? err.message : String(err) };
}

/** Where output goes; tests and the demo pass their own. */
export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Folder relative paths are resolved against. */
  cwd: string;
}

export const processIO = (): CliIO => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.env.INIT_CWD ?? process.cwd(),
});

let closedOutputHandled = false;

/**
 * Makes the process stop quietly when the reader of its output goes away (`vidsnap images <id> | head -5`),
 * as git and ls do. Node ignores SIGPIPE, so a write to a closed pipe fails with EPIPE, emitted as an
 * 'error' event that, unhandled, crashes with a stack trace. Installed once, by the process entry
 * (cli/src/main.ts); `runCli` itself never exits.
 * - stdout closed: the rest of the output is not wanted: exit at once, silently, with {@link EXIT}.brokenPipe (141).
 * - stderr closed: progress, notes and error messages are dropped (every later write fails the same way and is
 *   ignored); the command carries on to its own exit code, so an `upload --wait` whose progress reader went away still
 *   finishes (its outcome is on stdout and in the exit code).
 * Other stream errors are rethrown (uncaught, as before).
 */
export function handleClosedOutput(): void {
  if (closedOutputHandled) return;
  closedOutputHandled = true;
  const closed = (err: NodeJS.ErrnoException) => err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED";
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (!closed(err)) throw err;
    process.exit(EXIT.brokenPipe);
  });
  process.stderr.on("error", (err: NodeJS.ErrnoException) => {
    if (!closed(err)) throw err;
  });
}

/** Settings and helpers of one command run. */
export interface CliContext {
  io: CliIO;
  apiUrl: string;
  /** Token from `--token`, `VIDSNAP_TOKEN` or the credentials file; undefined = not signed in. */
  token: string | undefined;
  /** `--json`: machine-readable JSON on stdout only, no progress, no human lines. */
  json: boolean;
  credentialsFile: string;
  /** Fetch used for every request (default global fetch). */
  fetch: typeof fetch;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal | undefined;
}

export const DEFAULT_API_URL = "http://127.0.0.1:8787";

/** `$XDG_CONFIG_HOME/vidsnap/credentials.json`, or `~/.config/vidsnap/credentials.json`. */
export function credentialsPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME?.trim() || path.join(os.homedir(), ".config");
  return path.join(base, "vidsnap", "credentials.json");
}

/** One stored sign-in. */
export interface StoredCredential {
  token: string;
  email: string;
  userId: string;
  savedAt: string;
}
interface CredentialsFile {
  version: 1;
  /** API URL → credential. */
  servers: Record<string, StoredCredential>;
}

function readCredentialsFile(file: string): CredentialsFile {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<CredentialsFile>;
    if (parsed && typeof parsed.servers === "object" && parsed.servers) return { version: 1, servers: parsed.servers };
  } catch {
    /* missing or unreadable: no credentials */
  }
  return { version: 1, servers: {} };
}

/** The stored credential of `apiUrl`, if any. */
export function loadCredential(file: string, apiUrl: string): StoredCredential | undefined {
  return readCredentialsFile(file).servers[normalizeApiUrl(apiUrl)];
}

/**
 * Stores (or with `undefined` removes) the credential of `apiUrl`; the folder is created 0700 and the
 * file written 0600 (replaced atomically, so a crash never leaves half a file).
 */
export function saveCredential(file: string, apiUrl: string, credential: StoredCredential | undefined): void {
  const data = readCredentialsFile(file);
  if (credential) data.servers[normalizeApiUrl(apiUrl)] = credential;
  else delete data.servers[normalizeApiUrl(apiUrl)];
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** `http://Host:8787/` → `http://host:8787` (the key of the credentials file). */
export function normalizeApiUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw usageError(`the API URL must be http(s): ${url}`);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
}

/** Resolves the settings from global flags, the environment and the credentials file. */
export function createContext(
  io: CliIO,
  flags: { apiUrl?: string; token?: string; json?: boolean },
  extra: { fetch?: typeof fetch; signal?: AbortSignal } = {},
): CliContext {
  const apiUrl = normalizeApiUrl(flags.apiUrl ?? (io.env.VIDSNAP_API_URL?.trim() || DEFAULT_API_URL));
  const credentialsFile = credentialsPath(io.env);
  const token = flags.token ?? (io.env.VIDSNAP_TOKEN?.trim() || loadCredential(credentialsFile, apiUrl)?.token);
  return { io, apiUrl, token, json: flags.json ?? false, credentialsFile, fetch: extra.fetch ?? fetch, signal: extra.signal };
}

/** The typed API client of a signed-in context. @throws CliError (exit 3) when there is no token. */
export function apiClient(ctx: CliContext): VidsnapClient {
  return createVidsnapClient({ baseUrl: ctx.apiUrl, token: requireToken(ctx), fetch: ctx.fetch });
}

/** @throws CliError (exit 3) when the context has no token */
export function requireToken(ctx: CliContext): string {
  if (!ctx.token) {
    throw new CliError(`not signed in to ${ctx.apiUrl}: run \`vidsnap login\` (or set VIDSNAP_TOKEN / --token)`, EXIT.auth);
  }
  return ctx.token;
}

/** Prints `value` as JSON on stdout (`--json`). */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Prints human lines on stdout, unless `--json`. */
export function say(ctx: CliContext, text: string): void {
  if (!ctx.json) ctx.io.stdout.write(text + "\n");
}

/** Human notes on stderr (hints), unless `--json`. */
export function note(ctx: CliContext, text: string): void {
  if (!ctx.json) ctx.io.stderr.write(text + "\n");
}

/** Formats bytes as `1.23 MB` (decimal units). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "-";
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = "B";
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`;
}

/** `VIDEO_IMAGE_EXTRACTION_SUCCESS` → `success`, `VIDEO_UPLOAD_PENDING` → `upload pending`, `TRANSCODE_QUEUED` → `queued`. */
export function shortStatus(status: string): string {
  return status.replace(/^VIDEO_IMAGE_EXTRACTION_|^TRANSCODE_/, "").replace(/^VIDEO_/, "").replace(/_/g, " ").toLowerCase();
}

/** Accepts a full status or its short name (`pending`, `queued`, `processing`, `success`, `error`). */
export function parseStatus(value: string): VideoStatus {
  const v = value.trim().toUpperCase().replace(/[- ]/g, "_");
  const found = VideoStatus.options.find((s) => s === v || s.endsWith(`_${v}`));
  if (!found) throw usageError(`unknown status "${value}": one of pending, queued, processing, success, error`);
  return found;
}
