/**
 * The ffmpeg preflight of `npm start` and `npm run demo` (tools/stack/ffmpeg-preflight.ts): on a machine
 * without ffmpeg (PATH holding no ffmpeg/ffprobe, FFMPEG_PATH unset, no lean build) both stop before starting
 * anything, with the commands that install ffmpeg and the FFMPEG_PATH/FFPROBE_PATH alternative; with
 * binaries that run, the preflight names each one and where it came from.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveFfmpegBinaries } from "../../ffmpeg-container/src/ffmpeg/binaries.ts";
import { freePort } from "../../tools/free-port.ts";
import { REPO_ROOT } from "../../tools/paths.ts";
import { ffmpegInstallHelp, ffmpegPreflight } from "../../tools/stack/ffmpeg-preflight.ts";

const TSX = path.join(REPO_ROOT, "node_modules/tsx/dist/cli.mjs");
const tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-preflight-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/**
 * Runs a tools/ script with an environment that has no ffmpeg: PATH = an empty folder, no FFMPEG_PATH /
 * FFPROBE_PATH, FFMPEG_BUILD_ROOT = an empty folder (no lean build), stack ports free, data in a fresh folder.
 */
async function runWithoutFfmpeg(script: string) {
  const dir = mkdtempSync(path.join(tmp, "run-"));
  const emptyBin = path.join(dir, "bin");
  const buildRoot = path.join(dir, "ffmpeg-builds");
  mkdirSync(emptyBin);
  mkdirSync(buildRoot);
  const dataDir = path.join(dir, "data");
  const ports = { api: await freePort(), processor: await freePort(), s3: await freePort() };
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: emptyBin, FFMPEG_BUILD_ROOT: buildRoot, VIDSNAP_DATA_DIR: dataDir };
  delete env.FFMPEG_PATH;
  delete env.FFPROBE_PATH;
  Object.assign(env, {
    VIDSNAP_API_PORT: String(ports.api),
    VIDSNAP_PROCESSOR_PORT: String(ports.processor),
    VIDSNAP_S3_PORT: String(ports.s3),
    VIDSNAP_API_URL: `http://127.0.0.1:${ports.api}`,
  });
  const child = spawn(process.execPath, [TSX, script], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  const anyListening = (await Promise.all(Object.values(ports).map(listening))).some(Boolean);
  return { code, stdout, stderr, dataDirCreated: existsSync(dataDir), anyListening };
}

describe("without ffmpeg, npm start and npm run demo stop before starting anything", () => {
  it.each([
    ["npm start", "tools/stack/start.ts"],
    ["npm run demo", "tools/demo.ts"],
  ])("%s prints the install commands and starts nothing", async (command, script) => {
    const r = await runWithoutFfmpeg(script);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("vidsnap needs ffmpeg and ffprobe to process videos, and ffmpeg and ffprobe do not run:");
    expect(r.stderr).toContain("  ffmpeg: ffmpeg (PATH): ENOENT");
    expect(r.stderr).toContain("  ffprobe: ffprobe (PATH): ENOENT");
    expect(r.stderr).toContain(ffmpegInstallHelp(command));
    expect(r.stderr).toContain("sudo apt-get install ffmpeg");
    expect(r.stderr).toContain("npm run ffmpeg:build");
    expect(r.stderr).toContain(`FFMPEG_PATH=/path/to/ffmpeg FFPROBE_PATH=/path/to/ffprobe ${command}\n`);
    expect(r.stderr).toContain("Nothing was started.");
    // Nothing started: no component log line, no data folder, nothing on the stack's ports.
    expect(r.stdout).not.toMatch(/\[stack\] S3 server|starting one for this run|vidsnap API ready/);
    expect(r.dataDirCreated).toBe(false);
    expect(r.anyListening).toBe(false);
  });
});

describe("ffmpegPreflight", () => {
  it("names each binary, its source and its version when both run", async () => {
    const bins = await resolveFfmpegBinaries({});
    const r = await ffmpegPreflight("npm start", { FFMPEG_PATH: bins.ffmpeg, FFPROBE_PATH: bins.ffprobe });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.lines[0]).toMatch(new RegExp(`^ffmpeg: ${bins.ffmpeg.replace(/[.+]/g, "\\$&")} \\(FFMPEG_PATH\\), ffmpeg version `));
    expect(r.lines[1]).toMatch(/^ffprobe: .+ \(FFPROBE_PATH\), ffprobe version /);
  });

  it("names only the binary that does not run, with FFPROBE_PATH as its source", async () => {
    const bins = await resolveFfmpegBinaries({});
    const r = await ffmpegPreflight("npm start", { FFMPEG_PATH: bins.ffmpeg, FFPROBE_PATH: path.join(tmp, "no-such-ffprobe") });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain("and ffprobe does not run:");
    expect(r.message).toContain(`  ffprobe: ${path.join(tmp, "no-such-ffprobe")} (FFPROBE_PATH): ENOENT`);
    expect(r.message).not.toContain("  ffmpeg: ");
  });
});
