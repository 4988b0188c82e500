/**
 * `npm run chaos`: fault injection against the real local stack (./harness.ts): the processor
 * SIGKILLed mid-job, duplicate and reordered deliveries, a 20 s S3 outage, Postmark failing and hanging,
 * 50 uploads at once on 2 job slots, deletes while processing. Prints one table row per scenario (videos,
 * succeeded, failed with email, deleted, lost, duplicate emails, duration) and writes the full results as
 * JSON to `tools/bench/results/chaos-<timestamp>.json` (git-ignored).
 *
 * Usage: `npm run chaos [-- --short] [-- --only kill,postmark] [-- --one-stack] [-- --verbose]`
 *   --short      the sizes of the test in `npm test` (8 uploads, 5 s outage)
 *   --only       run these scenarios (kill, duplicates, s3-outage, postmark, load, delete)
 *   --one-stack  every scenario on one stack that also delivers every message twice
 * Exit code 1 when a video is lost, an email was sent twice, or any other check failed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT, RESULTS_DIR } from "../paths.ts";
import { stopAllChaosStacks } from "./harness.ts";
import { formatTable, passed, runChaos } from "./run.ts";
import { LONG, SCENARIOS, SHORT, type ScenarioId } from "./scenarios.ts";

const args = process.argv.slice(2);
const onlyArg = args[args.indexOf("--only") + 1];
const only = args.includes("--only") && onlyArg ? (onlyArg.split(",") as ScenarioId[]) : undefined;
const unknown = only?.filter((s) => !SCENARIOS.includes(s)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(", ")}; known: ${SCENARIOS.join(", ")}`);
  process.exit(2);
}
const size = args.includes("--short") ? SHORT : LONG;
const started = new Date();
const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

// Ctrl-C / SIGTERM: stop the stack's processes (they run in their own process groups) before exiting.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the chaos stack`);
    void stopAllChaosStacks().finally(() => process.exit(130));
  });
}

const results = await runChaos({
  size,
  scenarios: only,
  oneStack: args.includes("--one-stack"),
  verbose: args.includes("--verbose"),
  log,
});

console.log(`\n${formatTable(results)}\n`);
for (const r of results) {
  for (const n of r.notes.filter((x) => !x.startsWith("stack log tail"))) console.log(`${r.scenario}: ${n}`);
  for (const p of r.problems) console.log(`${r.scenario}: FAILED ${p}`);
}
mkdirSync(RESULTS_DIR, { recursive: true });
const file = path.join(RESULTS_DIR, `chaos-${started.toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ startedAt: started.toISOString(), size, results }, null, 2));
console.log(`\nresults: ${path.relative(REPO_ROOT, file)}`);
const failed = results.filter((r) => !passed(r));
if (failed.length > 0) {
  console.log(`chaos: ${failed.length} scenario(s) failed: ${failed.map((r) => r.scenario).join(", ")}`);
  process.exit(1);
}
console.log("chaos: every scenario passed (nothing lost, no duplicate email, every check green)");
