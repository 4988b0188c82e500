/**
 * The `vidsnap` command line run as a child process (cli/bin/vidsnap.mjs, the package's
 * bin) against ONE real local stack (tools/stack/stack.ts on free ports, own data folder): sign-up and
 * the saved credentials, upload --wait of a real video, ls / status / images with --json, download of a
 * real ZIP checked against the image list, and the documented exit codes (2 usage, 3 not signed in or
 * token refused, 4 not found, 5 conflict / not ready, 6 network, 141 stdout closed by its reader), and that a
 * closed stdout or stderr never ends in an EPIPE stack trace.
 * Each exit code and each command is checked through the real executable at least once; variations of
 * the same path run the same code in-process (`runCli`, real HTTP to the stack), because every child
 * process pays tsx's start-up (about 0.7 s of CPU).
 */
import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVidsnapClient, unwrap, type ImageList, type Video } from "../../client/src/index.ts";
import { runCli } from "../../cli/src/cli.ts";
import { EXIT } from "../../cli/src/context.ts";
import { startStack, type StackHandle } from "../../tools/stack/stack.ts";
import { freePort } from "../../tools/free-port.ts";
import { REPO_ROOT, testVideo } from "../../tools/paths.ts";

const BIN = path.join(REPO_ROOT, "cli/bin/vidsnap.mjs");
const PASSWORD = "correct-horse-battery-staple";

let stack: StackHandle | undefined;
let stackLog = "";
let tmp: string;
let configHome: string;
let apiUrl: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `vidsnap <args>` with its own config folder and the test stack's URL; stdin is `input` or empty.
 * `close`: that output pipe's reading end is closed right after the spawn, long before the CLI writes
 * (tsx alone takes ~0.7 s to start), like a `| head -1` that has already exited: every write to it fails with EPIPE.
 */
function vidsnap(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; close?: "stdout" | "stderr" } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? tmp,
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        XDG_CONFIG_HOME: configHome,
        VIDSNAP_API_URL: apiUrl,
        ...opts.env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (opts.close) child[opts.close].destroy();
    child.stdin.end(opts.input ?? "");
  });
}

/** The same command line in-process: `runCli` with captured output and the child's environment. */
async function vidsnapInProcess(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: Readable.from(opts.input ? [opts.input] : []),
    env: { HOME: tmp, XDG_CONFIG_HOME: configHome, VIDSNAP_API_URL: apiUrl, ...opts.env },
    cwd: opts.cwd ?? tmp,
  });
  return { code, stdout, stderr };
}

/** Parses the JSON a `--json` run printed on stdout (the whole of stdout). */
function json<T>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-cli-"));
  configHome = path.join(tmp, "config");
  const [apiPort, processorPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${apiPort}`; // set before startStack: the usage tests need no stack
  stack = await startStack({
    dataDir: path.join(tmp, "data"),
    apiPort,
    processorPort,
    s3Port,
    log: (line) => (stackLog += line + "\n"),
  }).catch((err: unknown) => {
    throw new Error(`stack did not start: ${(err as Error).message}\n${stackLog.slice(-4000)}`);
  });
}, 150_000);

afterAll(async () => {
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe("vidsnap CLI", () => {
  it("usage errors exit 2 with a hint; --help exits 0 and documents the exit codes", async () => {
    const [help, unknown] = await Promise.all([vidsnap(["--help"]), vidsnap(["frobnicate"])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes:");
    for (const cmd of ["login", "upload", "ls", "status", "images", "download", "retry", "rm"]) expect(help.stdout).toContain(`  ${cmd} `);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('vidsnap: unknown command "frobnicate"');
    expect(unknown.stdout).toBe("");

    const uploadHelp = await vidsnapInProcess(["upload", "--help"]);
    expect(uploadHelp.code).toBe(0);
    expect(uploadHelp.stdout).toContain("--every DURATION");
    for (const args of [
      [],
      ["upload"],
      ["upload", "a.mp4", "--every", "ten"],
      ["upload", "a.mp4", "--every", "10s", "--keyframes"],
      ["upload", "does-not-exist.mp4"],
      ["ls", "--limit", "0"],
      ["ls", "--status", "done"],
      ["ls", "--bogus"],
      ["status"],
      ["status", "a", "b"],
      ["login", "--email", "a@example.com", "--name", "x", "--password", "p"],
    ]) {
      const run = await vidsnapInProcess(args, { env: { VIDSNAP_TOKEN: "unused" } });
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/^vidsnap: |^vidsnap: turn videos/);
    }
  });

  it("without credentials every API command exits 3; a refused token exits 3 too", async () => {
    const run = await vidsnap(["ls"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("vidsnap login");
    for (const args of [["status", "x"], ["images", "x"], ["download", "x"], ["retry", "x"], ["rm", "x"], ["upload", testVideo("hardware-example.mp4")]]) {
      expect((await vidsnapInProcess(args)).code, args.join(" ")).toBe(3);
    }
    const refused = await vidsnapInProcess(["ls", "--json"], { env: { VIDSNAP_TOKEN: "not-a-real-session-token" } });
    expect(refused.code).toBe(3);
    expect(json<{ error: { exitCode: number } }>(refused).error.exitCode).toBe(3);
  });

  it("login --sign-up saves the token (0600, per API URL); login reads a piped password; a wrong password exits 3", async () => {
    const email = `cli-${Date.now()}@example.com`;
    const up = await vidsnap(["login", "--sign-up", "--email", email, "--password", PASSWORD, "--name", "CLI tester", "--json"]);
    expect(up.code, up.stderr).toBe(0);
    const result = json<{ email: string; userId: string; apiUrl: string; credentialsFile: string }>(up);
    expect(result).toMatchObject({ email, apiUrl });
    expect(result.credentialsFile).toBe(path.join(configHome, "vidsnap", "credentials.json"));
    expect(statSync(result.credentialsFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(result.credentialsFile, "utf8")) as { servers: Record<string, { token: string; email: string }> };
    expect(stored.servers[apiUrl]?.email).toBe(email);
    expect(stored.servers[apiUrl]?.token).toMatch(/.{20,}/);
    expect(up.stdout).not.toContain(stored.servers[apiUrl]!.token); // never printed

    const wrong = await vidsnapInProcess(["login", "--email", email, "--password", "wrong-password-123"]);
    expect(wrong.code).toBe(3);

    // Sign in again with the password on stdin (no terminal: read as a line, never printed).
    const piped = await vidsnap(["login", "--email", email], { input: `${PASSWORD}\n` });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toContain(`Signed in as ${email}`);
    expect(piped.stdout + piped.stderr).not.toContain(PASSWORD);

    const list = await vidsnapInProcess(["ls", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    expect(json<{ data: Video[]; nextCursor: string | null }>(list)).toEqual({ data: [], nextCursor: null });
  });

  let video: Video;

  it("upload --every 100ms --wait --json: one JSON document on stdout, the extraction succeeded", async () => {
    const run = await vidsnap(["upload", testVideo("hardware-example.mp4"), "--every", "100ms", "--wait", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(""); // no progress with --json
    video = json<{ video: Video }>(run).video;
    expect(video.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect(video.filename).toBe("hardware-example.mp4");
    expect(video.options).toMatchObject({ mode: "interval", intervalSeconds: 0.1 });
    expect(video.imageCount).toBeGreaterThanOrEqual(3); // 0.33 s: targets 0, 0.1, 0.2, 0.3

    // Options the API refuses: exit 2 with the field named, nothing created.
    const refused = await vidsnapInProcess(["upload", testVideo("hardware-example.mp4"), "--every", "10ms"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("options.intervalSeconds");
  }, 90_000);

  it("upload in human mode prints progress lines on stderr (not a TTY) and the outcome on stdout", async () => {
    const run = await vidsnap(["upload", testVideo("hardware-example.mp4"), "--keyframes", "--wait"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^upload +\[#+\] 100%/m);
    expect(run.stderr).toMatch(/^extraction +\[#+\] 100% success/m);
    expect(run.stderr).not.toContain("\r");
    expect(run.stdout).toMatch(/^status +success/m);
    const id = /^video +(\S+)/m.exec(run.stdout)?.[1];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const rm = await vidsnapInProcess(["rm", id!]);
    expect(rm.code, rm.stderr).toBe(0);
  }, 90_000);

  it("ls / status --json list and describe the video; ls --status filters", async () => {
    const list = json<{ data: Video[]; nextCursor: string | null }>(await vidsnap(["ls", "--json", "--limit", "5"]));
    expect(list.data.map((v) => v.id)).toEqual([video.id]);
    expect(list.nextCursor).toBeNull();

    const failed = json<{ data: Video[] }>(await vidsnapInProcess(["ls", "--status", "error", "--json"]));
    expect(failed.data).toEqual([]);
    const succeeded = json<{ data: Video[] }>(await vidsnapInProcess(["ls", "--status", "success", "--all", "--json"]));
    expect(succeeded.data.map((v) => v.id)).toEqual([video.id]);

    const status = await vidsnap(["status", video.id, "--json"]);
    expect(status.code).toBe(0);
    expect(json<{ video: Video }>(status).video).toMatchObject({ id: video.id, status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", imageCount: video.imageCount });

    const human = await vidsnapInProcess(["ls"]);
    expect(human.stdout).toMatch(new RegExp(`^${video.id} +success +${video.imageCount} `, "m"));
  });

  it("login --api-key saves an API key (checked first); the CLI then works with it; a bogus key exits 3", async () => {
    // Create a key with the typed client and the session token saved by `login`.
    const stored = JSON.parse(readFileSync(path.join(configHome, "vidsnap", "credentials.json"), "utf8")) as { servers: Record<string, { token: string }> };
    const api = createVidsnapClient({ baseUrl: apiUrl, token: stored.servers[apiUrl]!.token });
    const { key } = unwrap(await api.POST("/v1/api-keys", { body: { name: "cli-test" } }));
    expect(key).toMatch(/^vsk_/);

    const keyHome = mkdtempSync(path.join(tmp, "key-config-"));
    const env = { XDG_CONFIG_HOME: keyHome };
    const bogus = await vidsnapInProcess(["login", "--api-key", `vsk_${"x".repeat(64)}`], { env });
    expect(bogus.code).toBe(3);
    const saved = await vidsnapInProcess(["login", "--api-key", "-"], { env, input: `${key}\n` });
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout + saved.stderr).not.toContain(key);
    expect(statSync(path.join(keyHome, "vidsnap", "credentials.json")).mode & 0o777).toBe(0o600);
    const list = await vidsnapInProcess(["ls", "--json"], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(json<{ data: Video[] }>(list).data.map((v) => v.id)).toEqual([video.id]);
  });

  it("images --json and download: the ZIP holds exactly the listed images and the manifest", async () => {
    const run = await vidsnap(["images", video.id, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const list = json<ImageList>(run);
    expect(list.videoId).toBe(video.id);
    expect(list.imageCount).toBe(video.imageCount);
    expect(list.images.map((i) => i.index)).toEqual([...Array(list.imageCount).keys()]);
    const timestamps = list.images.map((i) => i.timestampSeconds);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));

    const dl = await vidsnap(["download", video.id, "-o", "out.zip", "--json"]);
    expect(dl.code, dl.stderr).toBe(0);
    const saved = json<{ file: string; bytes: number; videoId: string }>(dl);
    expect(saved.file).toBe(path.join(tmp, "out.zip"));
    const zip = readFileSync(saved.file);
    expect(saved.bytes).toBe(zip.length);
    const entries = unzipSync(zip);
    expect(Object.keys(entries).filter((n) => n !== "manifest.json").sort()).toEqual(list.images.map((i) => i.fileName).sort());
    for (const img of list.images) expect(entries[img.fileName]!.length).toBe(img.bytes);
    const manifest = JSON.parse(new TextDecoder().decode(entries["manifest.json"])) as { images: { fileName: string }[] };
    expect(manifest.images.map((i) => i.fileName)).toEqual(list.images.map((i) => i.fileName));

    // Default name: the storage's suggested file name, in the current folder.
    const dir = mkdtempSync(path.join(tmp, "dl-"));
    const dflt = await vidsnapInProcess(["download", video.id], { cwd: dir });
    expect(dflt.code, dflt.stderr).toBe(0);
    expect(dflt.stdout).toContain(`saved ${path.join(dir, "hardware-example-images.zip")}`);
    expect(readFileSync(path.join(dir, "hardware-example-images.zip")).equals(zip)).toBe(true);
  });

  it("a closed stdout (| head) ends images, ls and --json output quietly with exit 141; a closed stderr is ignored", async () => {
    // Reader gone before the first write: no output, no stack trace, no "EPIPE", exit 141 (128 + SIGPIPE, like git).
    const cases = [["images", video.id], ["ls"], ["ls", "--json"], ["images", video.id, "--json"], ["--help"]];
    const runs = await Promise.all(cases.map((args) => vidsnap(args, { close: "stdout" })));
    for (const [i, run] of runs.entries()) {
      expect(run.stderr, cases[i]!.join(" ")).toBe("");
      expect(run.code, cases[i]!.join(" ")).toBe(EXIT.brokenPipe);
    }
    // stderr gone: its lines (an error message, progress) are dropped and the command ends as it would have.
    const notSignedIn = await vidsnap(["ls"], { close: "stderr", env: { XDG_CONFIG_HOME: mkdtempSync(path.join(tmp, "none-")) } });
    expect(notSignedIn.code).toBe(EXIT.auth);
    const upload = await vidsnap(["upload", testVideo("hardware-example.mp4"), "--keyframes", "--wait"], { close: "stderr" });
    expect(upload.code).toBe(EXIT.ok);
    expect(upload.stdout).toMatch(/^status +success/m);
    const id = /^video +(\S+)/m.exec(upload.stdout)![1]!;
    expect((await vidsnapInProcess(["rm", id])).code).toBe(EXIT.ok);
  }, 60_000);

  it("retry of a succeeded video exits 5 (conflict); unknown ids exit 4", async () => {
    const retry = await vidsnap(["retry", video.id, "--json"]);
    expect(retry.code).toBe(5);
    expect(json<{ error: { exitCode: number } }>(retry).error.exitCode).toBe(5);
    const unknown = await vidsnap(["status", "00000000-0000-4000-8000-000000000000"]);
    expect(unknown.code, unknown.stderr).toBe(4);
    for (const args of [["images", "nope"], ["download", "nope"], ["rm", "nope"], ["retry", "nope"]]) {
      const run = await vidsnapInProcess(args);
      expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(4);
    }
  });

  it("rm deletes the video: status, images and download then exit 4", async () => {
    const rm = await vidsnap(["rm", video.id, "--json"]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(json<{ deleted: string[] }>(rm).deleted).toEqual([video.id]);
    for (const cmd of ["status", "images", "download"]) {
      const run = await vidsnapInProcess([cmd, video.id]);
      expect(run.code, `${cmd}: ${run.stderr}`).toBe(4);
    }
  });

  it("network errors exit 6", async () => {
    const port = await freePort(); // nothing listens there
    const run = await vidsnap(["ls", "--api-url", `http://127.0.0.1:${port}`], { env: { VIDSNAP_TOKEN: "t" } });
    expect(run.code).toBe(6);
    expect(run.stderr).toContain("network error");
  });
});
