/**
 * The transcode commands of the `vidsnap` command line against ONE real local stack (tools/stack/stack.ts on
 * free ports, own data folder, real ffmpeg): `transcode --wait` of a short trim of a real video (progress bar
 * with speed and ETA, outputs printed), `transcode-download` of the MP4 checked with ffprobe, `upload
 * --transcode`, `transcodes` / `transcode-status` / `transcode-retry` / `transcode-rm`, and bad options: refused
 * by the CLI or the API with the option named and exit 2, a height above the source's failing the transcode (exit 1).
 * The main paths run the real executable (cli/bin/vidsnap.mjs); variations run `runCli` in-process.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Transcode, Video } from "../../client/src/index.ts";
import { runCli } from "../../cli/src/cli.ts";
import { EXIT } from "../../cli/src/context.ts";
import { startStack, type StackHandle } from "../../tools/stack/stack.ts";
import { freePort } from "../../tools/free-port.ts";
import { REPO_ROOT, testVideo } from "../../tools/paths.ts";

const BIN = path.join(REPO_ROOT, "cli/bin/vidsnap.mjs");
const PASSWORD = "correct-horse-battery-staple";
/** 320x240 H.264 + AAC, 85.5 s. */
const SOURCE = testVideo("sample_iPod.m4v");

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

async function vidsnapInProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: Readable.from([]),
    env: { HOME: tmp, XDG_CONFIG_HOME: configHome, VIDSNAP_API_URL: apiUrl, ...env },
    cwd: tmp,
  });
  return { code, stdout, stderr };
}

function json<T>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

async function ffprobe(file: string): Promise<{ streams: { codec_type: string; codec_name: string; width?: number; height?: number }[]; format: { duration: string; format_name: string } }> {
  const { stdout } = await promisify(execFile)("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file]);
  return JSON.parse(stdout);
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-cli-transcode-"));
  configHome = path.join(tmp, "config");
  const [apiPort, processorPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${apiPort}`;
  stack = await startStack({ dataDir: path.join(tmp, "data"), apiPort, processorPort, s3Port, log: (line) => (stackLog += line + "\n") }).catch((err: unknown) => {
    throw new Error(`stack did not start: ${(err as Error).message}\n${stackLog.slice(-4000)}`);
  });
  const login = await vidsnapInProcess(["login", "--sign-up", "--email", `cli-transcode-${Date.now()}@example.com`, "--password", PASSWORD]);
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
}, 150_000);

afterAll(async () => {
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe("vidsnap transcode commands", () => {
  it("bad options exit 2 with the option named, before any request", async () => {
    const cases: [string[], string][] = [
      [["transcode", "v"], "at least one of --mp4, --webm, --hls"],
      [["transcode", "v", "--mp4", "999"], '--mp4: height "999"'],
      [["transcode", "v", "--hls", "720,720"], "--hls: each height once"],
      [["transcode", "v", "--webm", "480", "--quality", "ultra"], "--quality is low, medium or high"],
      [["transcode", "v", "--mp4", "480", "--quality", "low", "--bitrate", "900"], "--quality and --bitrate exclude each other"],
      [["transcode", "v", "--mp4", "480", "--end", "soon"], "--end takes a duration"],
      [["upload", SOURCE, "--transcode", "avi:480"], "--transcode takes FORMAT[:HEIGHTS]"],
      [["transcode-status", "v"], "missing <id> <transcode id>"],
    ];
    for (const [args, message] of cases) {
      const run = await vidsnapInProcess(args);
      expect(run.code, args.join(" ")).toBe(EXIT.usage);
      expect(run.stderr, args.join(" ")).toContain(message);
    }
    const help = await vidsnap(["--help"]);
    for (const cmd of ["transcode", "transcodes", "transcode-status", "transcode-download", "transcode-retry", "transcode-rm"]) expect(help.stdout).toContain(`  ${cmd} `);
  });

  let video: Video;
  let transcode: Transcode;

  it("transcode --mp4 240 --hls 240 --start 1 --end 3 --wait: progress with speed and ETA, then the outputs", async () => {
    const up = await vidsnapInProcess(["upload", SOURCE, "--json"]);
    expect(up.code, up.stderr).toBe(0);
    video = json<{ video: Video }>(up).video;

    const run = await vidsnap(["transcode", video.id, "--mp4", "240", "--hls", "240", "--start", "1", "--end", "3s", "--wait"]);
    expect(run.code, run.stderr + stackLog.slice(-3000)).toBe(EXIT.ok);
    // Plain (non-TTY) progress lines: the last one at 100% with the outcome; while processing, speed (×) and ETA.
    expect(run.stderr).toMatch(/^transcode +\[#+\] 100% success/m);
    expect(run.stderr).not.toContain("\r");
    expect(run.stdout).toMatch(/^status +success/m);
    expect(run.stdout).toMatch(/^ +mp4-240 +320x240 +2\.\d\d s +[\d.]+ kB/m);
    expect(run.stdout).toMatch(/^ +hls-240 +320x240 /m);
    const tid = /^transcode +(\S+)/m.exec(run.stdout)?.[1];
    expect(tid).toMatch(/^[0-9a-f-]{36}$/);

    const status = await vidsnap(["transcode-status", video.id, tid!, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    transcode = json<{ transcode: Transcode }>(status).transcode;
    expect(transcode).toMatchObject({ id: tid, status: "TRANSCODE_SUCCESS", progress: 1, request: { startSeconds: 1, endSeconds: 3 } });
    expect(transcode.outputs.map((o) => o.rendition).sort()).toEqual(["hls", "hls-240", "mp4-240"]);
    expect(transcode.playbackUrl).toContain("/master.m3u8?token=");
  }, 180_000);

  it("transcode-download saves the MP4: H.264 + AAC, 320x240, 2 s; HLS and unknown renditions are refused with exit 2", async () => {
    const dl = await vidsnap(["transcode-download", video.id, transcode.id, "--rendition", "mp4-240", "-o", "clip.mp4", "--json"]);
    expect(dl.code, dl.stderr).toBe(0);
    const saved = json<{ file: string; bytes: number; rendition: string }>(dl);
    expect(saved).toMatchObject({ file: path.join(tmp, "clip.mp4"), rendition: "mp4-240" });
    const mp4 = transcode.outputs.find((o) => o.rendition === "mp4-240")!;
    expect(statSync(saved.file).size).toBe(mp4.sizeBytes);
    const probe = await ffprobe(saved.file);
    const v = probe.streams.find((s) => s.codec_type === "video")!;
    expect(v).toMatchObject({ codec_name: "h264", width: 320, height: 240 });
    expect(probe.streams.find((s) => s.codec_type === "audio")?.codec_name).toBe("aac");
    expect(Math.abs(Number(probe.format.duration) - 2)).toBeLessThan(0.1);

    // Only one file output: --rendition may be left out (default: the storage's suggested name, in the cwd).
    const dflt = await vidsnapInProcess(["transcode-download", video.id, transcode.id]);
    expect(dflt.code, dflt.stderr).toBe(0);
    expect(dflt.stdout).toContain(`saved ${path.join(tmp, "sample_iPod-mp4-240.mp4")}`);
    expect(statSync(path.join(tmp, "sample_iPod-mp4-240.mp4")).size).toBe(mp4.sizeBytes);

    const hls = await vidsnapInProcess(["transcode-download", video.id, transcode.id, "--rendition", "hls"]);
    expect(hls.code).toBe(EXIT.usage);
    expect(hls.stderr).toContain("HLS is many files");
    const unknown = await vidsnapInProcess(["transcode-download", video.id, transcode.id, "--rendition", "webm-240"]);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain('no output "webm-240": one of mp4-240');
  }, 60_000);

  it("options the API refuses exit 2 naming the field; a height above the source's fails the transcode (exit 1); retry of a success exits 5", async () => {
    const refused = await vidsnapInProcess(["transcode", video.id, "--mp4", "240", "--bitrate", "50"]);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toContain("renditions.0.videoBitrateKbps");

    const tall = await vidsnapInProcess(["transcode", video.id, "--mp4", "480", "--end", "1", "--wait", "--json"]);
    expect(tall.code, tall.stderr).toBe(EXIT.failed);
    const failed = json<{ transcode: Transcode }>(tall).transcode;
    expect(failed.status).toBe("TRANSCODE_ERROR");
    expect(failed.errorMessage).toBeTruthy();
    expect(failed.outputs).toEqual([]);
    const human = await vidsnapInProcess(["transcode-status", video.id, failed.id]);
    expect(human.stdout).toMatch(/^status +error/m);
    expect(human.stdout).toContain(`vidsnap transcode-retry ${video.id} ${failed.id}`);
    const notReady = await vidsnapInProcess(["transcode-download", video.id, failed.id]);
    expect(notReady.code).toBe(EXIT.conflict);

    const retried = await vidsnapInProcess(["transcode-retry", video.id, failed.id, "--json"]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(json<{ transcode: Transcode }>(retried).transcode.attempt).toBe(2);
    const conflict = await vidsnapInProcess(["transcode-retry", video.id, transcode.id]);
    expect(conflict.code).toBe(EXIT.conflict);

    const list = await vidsnap(["transcodes", video.id, "--json"]);
    expect(list.code, list.stderr).toBe(0);
    expect(json<{ data: Transcode[] }>(list).data.map((t) => t.id).sort()).toEqual([transcode.id, failed.id].sort());
    const table = await vidsnapInProcess(["transcodes", video.id]);
    expect(table.stdout).toMatch(new RegExp(`^${transcode.id} +success +[\\d.]+ kB .*mp4 240p, hls 240p, from 1 s to 3 s$`, "m"));

    const rm = await vidsnap(["transcode-rm", video.id, failed.id, "--json"]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(json<{ deleted: string[] }>(rm).deleted).toEqual([failed.id]);
    expect((await vidsnapInProcess(["transcode-status", video.id, failed.id])).code).toBe(EXIT.notFound);
  }, 120_000);

  it("upload --transcode mp4:240 --wait: the same transcode object with POST /v1/videos, followed after the extraction", async () => {
    const run = await vidsnapInProcess(["upload", testVideo("hardware-example.mp4"), "--transcode", "mp4:240", "--wait", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const result = json<{ video: Video; transcode: Transcode }>(run);
    expect(result.video.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect(result.transcode).toMatchObject({ videoId: result.video.id, status: "TRANSCODE_SUCCESS", request: { renditions: [{ format: "mp4", height: 240 }] } });
    expect(result.transcode.outputs.map((o) => [o.rendition, o.height])).toEqual([["mp4-240", 240]]);
  }, 120_000);
});
