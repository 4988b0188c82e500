/**
 * `npm test`: every suite, one after the other (2 cores: parallel suites would only fight):
 *   1. workers    edge-api in workerd (vitest-pool-workers, local D1, real S3 server)
 *   2. email      email-consumer in workerd, against a Postmark-speaking local server
 *   3. processor  tests/processor (real ffmpeg, real S3 server) on the Node LTS production runs
 *                 (tools/node-lts.ts, the Dockerfile's Node): the only code that runs on Node in production
 *   4. node       the other Node-side suites (e2e, CLI, chaos, deploy, dashboard in Chromium) on this Node
 * The web dashboard (web/dist) is built first when stale (./stack/web-build.ts).
 * Where the LTS binary cannot be had (not Linux x64, registry unreachable) the processor suite runs on this
 * Node after a warning line; with CI=true that fails the suite instead.
 * The processor suite's ffmpeg is the processor's own resolution (ffmpeg-container/src/ffmpeg/binaries.ts:
 * FFMPEG_PATH, the lean build of `npm run ffmpeg:build`, ffmpeg-static, PATH); the line before the suite names
 * it. With CI=true it must be the lean build (or FFMPEG_PATH/FFPROBE_PATH): CI tests the binaries the image ships.
 * Ends with one plain line `N passed, N failed` (N skipped) summed over the suites; exit code 1 when any
 * suite fails. Pass suite names (workers | email | processor | node) to run only those.
 * A suite that prints nothing for {@link SILENCE_LIMIT_SECONDS} is hung (seen once: vitest-pool-workers waiting
 * forever on a freshly spawned workerd that never started): its process group is killed, a line says so, and the
 * suite runs once more; the second run's result is the suite's. A second hang fails the suite.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeFfmpegSource, leanBuildDir, resolveFfmpegBinaries } from "../ffmpeg-container/src/ffmpeg/binaries.ts";
import { ensureNodeLts, NODE_LTS_VERSION } from "./node-lts.ts";
import { REPO_ROOT } from "./paths.ts";
import { ensureWebBuild } from "./stack/web-build.ts";
import { offlineWranglerEnv } from "./wrangler.ts";

const NODE_CONFIG = "tests/vitest.node.config.mts";
interface Suite {
  name: string;
  /** vitest arguments after `run` */
  args: string[];
  /** run on tools/node-lts.ts's Node (else on this one) */
  lts?: boolean;
  /** name the ffmpeg it runs on (and, in CI, require the lean build) */
  ffmpeg?: boolean;
}
const SUITES: Suite[] = [
  { name: "workers", args: ["--config", "tests/workers/vitest.config.mts"] },
  { name: "email", args: ["--config", "tests/email/vitest.config.mts"] },
  { name: "processor", args: ["--config", NODE_CONFIG, "tests/processor"], lts: true, ffmpeg: true },
  { name: "node", args: ["--config", NODE_CONFIG, "--exclude", "tests/processor/**"] },
];
const VITEST = path.join(REPO_ROOT, "node_modules/vitest/vitest.mjs");
/**
 * Longest silence of a running suite, seconds. The longest quiet stretch of a healthy run is one long test file
 * (the short chaos test: 170–220 s on this 2-core machine), so this leaves about 3× that.
 */
const SILENCE_LIMIT_SECONDS = 600;
const CI = process.env.CI === "true" || process.env.CI === "1";

/**
 * The Node binary for the processor suite: tools/node-lts.ts's, or this one (warning) when it cannot be had.
 * @returns undefined in CI when it cannot be had (the suite fails)
 */
function ltsNode(): string | undefined {
  try {
    return ensureNodeLts();
  } catch (err) {
    const why = (err as Error).message.split("\n")[0];
    if (CI) {
      console.log(`ERROR: no Node ${NODE_LTS_VERSION} for the processor suite (${why}); CI must test the processor on the Node production runs`);
      return undefined;
    }
    console.log(`WARNING: no Node ${NODE_LTS_VERSION} for the processor suite (${why}): running it on this Node ${process.version}, not on production's`);
    return process.execPath;
  }
}

/**
 * Prints the ffmpeg/ffprobe the processor will resolve under this environment.
 * @returns false in CI when neither the lean build nor FFMPEG_PATH/FFPROBE_PATH provides them (the suite fails)
 */
async function announceFfmpeg(): Promise<boolean> {
  const bins = await resolveFfmpegBinaries({ ffmpeg: process.env.FFMPEG_PATH || undefined, ffprobe: process.env.FFPROBE_PATH || undefined });
  const say = (n: "ffmpeg" | "ffprobe") => `${n} ${bins[n]} (${describeFfmpegSource(n, bins.source[n])})`;
  console.log(`processor's ffmpeg: ${say("ffmpeg")}, ${say("ffprobe")}`);
  const shipped = (["ffmpeg", "ffprobe"] as const).every((n) => bins.source[n] === "lean-build" || bins.source[n] === "env");
  if (CI && !shipped) {
    console.log(`ERROR: no lean ffmpeg build${leanBuildDir() ? "" : " in .cache/ffmpeg"}: CI must test the processor on the binaries the image ships (npm run ffmpeg:build)`);
    return false;
  }
  return true;
}

/**
 * Runs one suite's vitest with its output passed through, in its own process group (vitest and the workerd or
 * Chromium it starts).
 * @returns its exit code (1 when killed by a signal), or "hung" when it printed nothing for
 *   {@link SILENCE_LIMIT_SECONDS} (the whole group is then killed)
 */
function runWatched(node: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | "hung"> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: REPO_ROOT, env, stdio: ["inherit", "pipe", "pipe"], detached: true });
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }, SILENCE_LIMIT_SECONDS * 1000);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      arm();
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      arm();
      process.stderr.write(chunk);
    });
    arm();
    // In its own group the suite no longer gets the terminal's Ctrl-C: pass it on, then stop.
    const forward = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        child.kill(signal);
      }
      process.exit(130);
    };
    process.once("SIGINT", forward);
    process.once("SIGTERM", forward);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(hung ? "hung" : (code ?? 1));
    });
  });
}

const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const reportDir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-test-"));
const totals = { passed: 0, failed: 0, skipped: 0 };
let failedSuites: string[] = [];

// wrangler.toml serves web/dist as static assets: vitest-pool-workers and every stack need it built.
await ensureWebBuild();

for (const suite of SUITES.filter((s) => only.length === 0 || only.includes(s.name))) {
  const node = suite.lts ? ltsNode() : process.execPath;
  if (node === undefined) {
    failedSuites.push(`${suite.name} (no Node ${NODE_LTS_VERSION})`);
    continue;
  }
  if (suite.ffmpeg && !(await announceFfmpeg())) {
    failedSuites.push(`${suite.name} (no lean ffmpeg)`);
    continue;
  }
  const version = node === process.execPath ? process.version : execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  console.log(`\n=== ${suite.name} (vitest ${suite.args.join(" ")}) on Node ${version} ===`);
  const report = path.join(reportDir, `${suite.name}.json`);
  const env = offlineWranglerEnv();
  // Its bin folder first on PATH: what the tests spawn as `node` (tsx's shebang) is the suite's Node too.
  if (node !== process.execPath) env.PATH = `${path.dirname(node)}${path.delimiter}${env.PATH ?? ""}`;
  const args = [VITEST, "run", ...suite.args, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
  let result = await runWatched(node, args, env);
  if (result === "hung") {
    console.log(`\n=== ${suite.name}: no output for ${SILENCE_LIMIT_SECONDS} s, killed; running it once more ===`);
    rmSync(report, { force: true });
    result = await runWatched(node, args, env);
    if (result === "hung") console.log(`\n=== ${suite.name}: hung again, killed ===`);
  }
  try {
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
    };
    totals.passed += json.numPassedTests;
    totals.failed += json.numFailedTests;
    totals.skipped += json.numPendingTests + json.numTodoTests;
    if (json.numPassedTests === 0) failedSuites.push(`${suite.name} (ran no test)`);
  } catch {
    totals.failed += 1; // the suite crashed before reporting
  }
  if (result !== 0) failedSuites.push(suite.name);
}
rmSync(reportDir, { recursive: true, force: true });
failedSuites = [...new Set(failedSuites)];
if (failedSuites.length) console.log(`\nfailed suites: ${failedSuites.join(", ")}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedSuites.length || totals.failed ? 1 : 0);
