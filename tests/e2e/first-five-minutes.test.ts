/**
 * The first five minutes of a newcomer: README "Quick start" on a fresh clone. Clones the committed HEAD
 * (`git clone --local --no-hardlinks`: uncommitted changes are NOT in it, commit first), runs `npm run demo`
 * there exactly as typed in the README, with nothing running beforehand, and checks the lines the README
 * tells the user to look for: the upload and extraction progress, the image count and timestamps, the ZIP
 * it saved in the current folder (and checked), the time taken and the email that was recorded.
 *
 * `npm ci` is replaced by a symlink to this checkout's node_modules (the same lock file; CI runs `npm ci`
 * itself before the tests, and a real install would take minutes). The stack the demo starts gets free
 * ports (VIDSNAP_API_PORT, VIDSNAP_PROCESSOR_PORT, VIDSNAP_S3_PORT) so it never meets a running `npm start`
 * or another test's stack; its data goes to the clone's own `.data`, as on a fresh clone.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../tools/free-port.ts";
import { REPO_ROOT, TESTDATA_DIR } from "../../tools/paths.ts";

/** The sample's keyframe count, as README ("Measured on…") states it. */
const SAMPLE_KEYFRAMES = 11;

let tmp: string;
let clone: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-first-five-"));
  clone = path.join(tmp, "vidsnap");
  execFileSync("git", ["clone", "--quiet", "--local", "--no-hardlinks", REPO_ROOT, clone], { stdio: "pipe" });
  symlinkSync(realpathSync(path.join(REPO_ROOT, "node_modules")), path.join(clone, "node_modules"));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 30_000);

/**
 * Runs `npm run <script>` in the clone like a fresh shell would (no npm_* / INIT_CWD / VIDSNAP_* of the
 * test runner), in its own process group so a timeout can stop npm, tsx and the demo together (the demo then
 * stops the stack it started, see tools/demo.ts).
 */
function npmRun(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|INIT_CWD$|VIDSNAP_)/i.test(k)));
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", script], { cwd: clone, env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* gone */
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n[test] timeout after ${timeoutMs / 1000} s: SIGTERM\n`;
      kill("SIGTERM");
      setTimeout(() => kill("SIGKILL"), 10_000).unref();
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("first five minutes (README Quick start on a fresh clone)", () => {
  it("the clone is HEAD, and the README still tells a newcomer to run `npm ci && npm run demo`", () => {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    expect(execFileSync("git", ["rev-parse", "HEAD"], { cwd: clone, encoding: "utf8" }).trim()).toBe(head);
    const quickStart = /## Quick start\n([\s\S]*?)\n## /.exec(readFileSync(path.join(clone, "README.md"), "utf8"))?.[1] ?? "";
    expect(quickStart).toContain("npm ci && npm run demo");
    expect(quickStart).toContain("npm ci && npm test");
    // Promised lines (checked below): progress, image count and timestamps, ZIP saved and checked, time, email.
    for (const promise of ["upload and extraction progress", "the image count and timestamps", "the ZIP it saved (and\nchecked) in the current folder", "the time taken", "the email that was sent (recorded locally)"]) {
      expect(quickStart.replace(/\s+/g, " ")).toContain(promise.replace(/\s+/g, " "));
    }
  });

  it("`npm run demo` with nothing running starts a stack, extracts the sample and prints what the README promises", async () => {
    const [api, processor, s3] = [await freePort(), await freePort(), await freePort()];
    const started = Date.now();
    const run = await npmRun(
      "demo",
      {
        VIDSNAP_API_PORT: String(api),
        VIDSNAP_PROCESSOR_PORT: String(processor),
        VIDSNAP_S3_PORT: String(s3),
        VIDSNAP_TESTDATA: TESTDATA_DIR, // README: the tests need the real videos (the demo itself uses samples/)
      },
      80_000,
    );
    const seconds = (Date.now() - started) / 1000;
    const out = `exit ${run.code} after ${seconds.toFixed(1)} s\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
    expect(run.code, out).toBe(0);
    const url = `http://127.0.0.1:${api}`;
    expect(run.stdout, out).toContain(`No stack at ${url}: starting one for this run…`);
    expect(run.stdout, out).toMatch(/^upload: +display-dual-monitors\.webm \([\d.]+ [kM]B\), one image per keyframe$/m);
    expect(run.stdout, out).toMatch(/^video: +[0-9a-f-]{36}$/m);
    // Progress on stderr (plain lines: not a terminal), ending at 100 %.
    expect(run.stderr, out).toMatch(/^upload +\[#+\] 100%/m);
    expect(run.stderr, out).toMatch(/^extraction +\[#+\] 100% success/m);
    // Image count and timestamps.
    expect(run.stdout, out).toMatch(new RegExp(`^images: +${SAMPLE_KEYFRAMES} \\(0\\.00s, [\\d.]+s, `, "m"));
    // The ZIP, saved in the current folder (where `npm run demo` was typed: the clone) and checked.
    const zipLine = /^zip: +(\S+\.zip) \(([\d.]+ [kM]B), checked: (\d+) images \+ manifest\.json\)$/m.exec(run.stdout);
    expect(zipLine, out).not.toBeNull();
    const [, zipFile, , checked] = zipLine!;
    expect(path.dirname(zipFile!)).toBe(clone);
    expect(Number(checked)).toBe(SAMPLE_KEYFRAMES);
    const entries = Object.keys(unzipSync(readFileSync(zipFile!)));
    expect(entries).toContain("manifest.json");
    expect(entries.filter((n) => n.startsWith("images/"))).toHaveLength(SAMPLE_KEYFRAMES);
    // Time taken, the recorded email, and how to go on with the CLI against this stack.
    expect(run.stdout, out).toMatch(/^time: +[\d.]+ s from sign-in to download$/m);
    expect(run.stdout, out).toMatch(/^email: +\[recorded\] to demo@vidsnap\.local: "Your snapshots of display-dual-monitors\.webm are ready"$/m);
    expect(run.stdout, out).toContain(`cli:     npm run vidsnap -- login --api-url ${url} --email demo@vidsnap.local`);
    expect(run.stderr, out).not.toMatch(/demo failed|EPIPE|\n +at /);
    // Its state stayed in the clone's own .data; the stack it started is stopped (its API port is free again).
    expect(existsSync(path.join(clone, ".data", "wrangler"))).toBe(true);
    await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  }, 90_000);
});
