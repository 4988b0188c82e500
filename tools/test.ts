/**
 * `npm test`: every suite, one after the other (2 cores: parallel suites would only fight):
 *   1. tests/workers  edge-api in workerd (vitest-pool-workers, local D1, real S3 server)
 *   2. tests/email    email-consumer in workerd, against a Postmark-speaking local server
 *   3. tests/processor + tests/e2e   real ffmpeg, real S3 server, and the whole stack over HTTP
 * The web dashboard (web/dist) is built first when stale (./stack/web-build.ts).
 * Ends with one plain line `N passed, N failed` (N skipped) summed over the suites; exit code 1 when any
 * suite fails. Pass a suite name (workers | email | node) to run only that one.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BIN, REPO_ROOT } from "./paths.ts";
import { ensureWebBuild } from "./stack/web-build.ts";
import { offlineWranglerEnv } from "./wrangler.ts";

const SUITES = [
  { name: "workers", config: "tests/workers/vitest.config.mts" },
  { name: "email", config: "tests/email/vitest.config.mts" },
  { name: "node", config: "tests/vitest.node.config.mts" },
];
const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const reportDir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-test-"));
const totals = { passed: 0, failed: 0, skipped: 0 };
let failedSuites: string[] = [];

// wrangler.toml serves web/dist as static assets: vitest-pool-workers and every stack need it built.
await ensureWebBuild();

for (const suite of SUITES.filter((s) => only.length === 0 || only.includes(s.name))) {
  console.log(`\n=== ${suite.name} (${suite.config}) ===`);
  const report = path.join(reportDir, `${suite.name}.json`);
  const result = spawnSync(
    path.join(BIN, "vitest"),
    ["run", "--config", suite.config, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
    { cwd: REPO_ROOT, stdio: "inherit", env: offlineWranglerEnv() },
  );
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
  if (result.status !== 0) failedSuites.push(suite.name);
}
rmSync(reportDir, { recursive: true, force: true });
failedSuites = [...new Set(failedSuites)];
if (failedSuites.length) console.log(`\nfailed suites: ${failedSuites.join(", ")}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedSuites.length || totals.failed ? 1 : 0);
