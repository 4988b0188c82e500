/**
 * `vidsnap thumbnail` and the typed client's image URL builders against ONE real local stack
 * (tools/stack/stack.ts on free ports, real processor and ffmpeg): the executable saves the exact frame as
 * a JPEG of the asked width, the format follows `-o`, the API's refusals map to exit codes (2 naming the
 * parameter, 4 unknown video), and signed URLs open images with no header.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVidsnapClient, imageUrl, signedImageUrls, type Video } from "../../client/src/index.ts";
import { runCli } from "../../cli/src/cli.ts";
import { EXIT } from "../../cli/src/context.ts";
import { startStack, type StackHandle } from "../../tools/stack/stack.ts";
import { freePort } from "../../tools/free-port.ts";
import { REPO_ROOT, testVideo } from "../../tools/paths.ts";

const BIN = path.join(REPO_ROOT, "cli/bin/vidsnap.mjs");
const PASSWORD = "correct-horse-battery-staple";
/** 360x288 H.264, 200 s. */
const SOURCE = testVideo("franck.mp4");

let stack: StackHandle | undefined;
let stackLog = "";
let tmp: string;
let configHome: string;
let apiUrl: string;
let video: Video;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function vidsnap(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tmp,
      env: { PATH: process.env.PATH, HOME: tmp, XDG_CONFIG_HOME: configHome, VIDSNAP_API_URL: apiUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function vidsnapInProcess(args: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: Readable.from([]),
    env: { HOME: tmp, XDG_CONFIG_HOME: configHome, VIDSNAP_API_URL: apiUrl },
    cwd: tmp,
  });
  return { code, stdout, stderr };
}

async function probe(file: string): Promise<{ codec_name: string; width: number; height: number }> {
  const { stdout } = await promisify(execFile)("ffprobe", ["-v", "error", "-print_format", "json", "-show_streams", file]);
  return (JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number }[] }).streams[0]!;
}

/** The bearer token `vidsnap login` stored. */
async function storedToken(): Promise<string> {
  const { readFileSync, readdirSync } = await import("node:fs");
  const dir = path.join(configHome, "vidsnap");
  const file = readdirSync(dir).map((f) => path.join(dir, f))[0]!;
  const creds = JSON.parse(readFileSync(file, "utf8")) as Record<string, { token?: string }> & { [k: string]: unknown };
  const found = JSON.stringify(creds).match(/"token":"([^"]+)"/);
  return found![1]!;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-cli-thumbnail-"));
  configHome = path.join(tmp, "config");
  const [apiPort, processorPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${apiPort}`;
  stack = await startStack({ dataDir: path.join(tmp, "data"), apiPort, processorPort, s3Port, log: (line) => (stackLog += line + "\n") }).catch((err: unknown) => {
    throw new Error(`stack did not start: ${(err as Error).message}\n${stackLog.slice(-4000)}`);
  });
  const login = await vidsnapInProcess(["login", "--sign-up", "--email", `cli-thumbnail-${Date.now()}@example.com`, "--password", PASSWORD]);
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  const up = await vidsnapInProcess(["upload", SOURCE, "--json"]);
  if (up.code !== 0) throw new Error(`upload failed: ${up.stderr}`);
  video = (JSON.parse(up.stdout) as { video: Video }).video;
}, 150_000);

afterAll(async () => {
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe("vidsnap thumbnail", () => {
  it("thumbnail <id> --time 12.5 --width 640 -o t.jpg saves a 640-px JPEG", async () => {
    const run = await vidsnap(["thumbnail", video.id, "--time", "12.5", "--width", "640", "-o", "t.jpg"]);
    expect(run.code, run.stderr + stackLog.slice(-2000)).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/^saved .*t\.jpg \(.+, image\/jpeg\)$/m);
    expect(await probe(path.join(tmp, "t.jpg"))).toMatchObject({ codec_name: "mjpeg", width: 640, height: 512 });
  }, 60_000);

  it("the format follows -o; --json prints the result", async () => {
    const run = await vidsnapInProcess(["thumbnail", video.id, "--time", "3", "--width", "100", "--height", "100", "--fit", "crop", "-o", "t.webp", "--json"]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const result = JSON.parse(run.stdout) as { file: string; contentType: string };
    expect(result.contentType).toBe("image/webp");
    expect(await probe(result.file)).toMatchObject({ codec_name: "webp", width: 100, height: 100 });
  }, 60_000);

  it("refusals: a bad parameter exits 2 naming it, an unknown video 4, a bad number before any request", async () => {
    const bad = await vidsnapInProcess(["thumbnail", video.id, "--width", "0"]);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain("width");
    const late = await vidsnapInProcess(["thumbnail", video.id, "--time", "999"]);
    expect(late.code).toBe(EXIT.usage);
    expect(late.stderr).toContain("time");
    const missing = await vidsnapInProcess(["thumbnail", "no-such-video"]);
    expect(missing.code).toBe(EXIT.notFound);
    const nan = await vidsnapInProcess(["thumbnail", video.id, "--time", "soon"]);
    expect(nan.code).toBe(EXIT.usage);
    expect(nan.stderr).toContain("--time must be a number");
  }, 60_000);
});

describe("typed client image URLs", () => {
  it("imageUrl builds the route; signedImageUrls opens it with no header", async () => {
    expect(imageUrl("http://h/", "v1", "thumbnail.jpg", { time: 12.5, width: undefined, fit_mode: "crop" })).toBe("http://h/v1/videos/v1/thumbnail.jpg?time=12.5&fit_mode=crop");
    const api = createVidsnapClient({ baseUrl: apiUrl, token: await storedToken() });
    const { urls } = await signedImageUrls(api, video.id, [{ file: "storyboard.vtt" }], 120);
    const vtt = await fetch(urls[0]!.url);
    expect(vtt.status).toBe(200);
    const text = await vtt.text();
    expect(text.startsWith("WEBVTT")).toBe(true);
    expect(text.match(/#xywh=/g)).toHaveLength(100);
    // Without its token the same route needs credentials.
    expect((await fetch(imageUrl(apiUrl, video.id, "storyboard.vtt"))).status).toBe(401);
  }, 60_000);
});
