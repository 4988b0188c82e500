/**
 * Runs chaos scenarios (./scenarios.ts) on chaos stacks (./harness.ts) and formats their results. Used by
 * `npm run chaos` (./main.ts) and the chaos test in `npm test` (tests/chaos/chaos.test.ts).
 *
 * Stacks: `duplicates` runs on a stack whose edge-api sends every queue message twice
 * (CHAOS_DUPLICATE_DELIVERIES); the other scenarios run on a stack without it, so each row of the table
 * shows one fault. With `oneStack`, every scenario runs on the duplicating stack (faster: one start, and every
 * fault is then combined with duplicate deliveries).
 */
import { startChaosStack, type ChaosStack } from "./harness.ts";
import { SCENARIOS, runScenario, type ChaosSize, type ScenarioId } from "./scenarios.ts";
import type { ScenarioResult } from "./verify.ts";

export interface RunOptions {
  size: ChaosSize;
  /** Scenarios to run, in order (default all). */
  scenarios?: ScenarioId[];
  oneStack?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Echo the stack's own log lines. */
  verbose?: boolean;
}

/** Whether a result passes: nothing lost, no duplicate email, no failed check. */
export const passed = (r: ScenarioResult) => r.lost === 0 && r.lostTranscodes === 0 && r.duplicateEmails === 0 && r.problems.length === 0;

/**
 * Runs the scenarios; a scenario that throws is reported as a failed result (and the rest still run).
 * @returns one result per scenario, in order
 */
export async function runChaos(opts: RunOptions): Promise<ScenarioResult[]> {
  const log = opts.log ?? (() => undefined);
  const ids = opts.scenarios ?? SCENARIOS;
  const groups: { duplicateDeliveries: boolean; ids: ScenarioId[] }[] = opts.oneStack
    ? [{ duplicateDeliveries: true, ids }]
    : [
        { duplicateDeliveries: false, ids: ids.filter((i) => i !== "duplicates") },
        { duplicateDeliveries: true, ids: ids.filter((i) => i === "duplicates") },
      ].filter((g) => g.ids.length > 0);
  const results: ScenarioResult[] = [];
  for (const group of groups) {
    const t0 = Date.now();
    const stack: ChaosStack = await startChaosStack({
      maxConcurrentJobs: 2,
      jobLeaseSeconds: opts.size.jobLeaseSeconds,
      duplicateDeliveries: group.duplicateDeliveries,
      verbose: opts.verbose,
    });
    log(`chaos stack up in ${Math.round((Date.now() - t0) / 1000)} s (${stack.apiUrl}, duplicate deliveries ${group.duplicateDeliveries ? "on" : "off"})`);
    try {
      for (const id of group.ids) {
        log(`scenario ${id}…`);
        const started = Date.now();
        let result: ScenarioResult;
        try {
          result = await runScenario(id, stack, opts.size, log);
        } catch (e) {
          result = {
            scenario: id,
            videos: 0,
            succeeded: 0,
            failedWithEmail: 0,
            deleted: 0,
            lost: 0,
            duplicateEmails: 0,
            transcodes: 0,
            transcodesSucceeded: 0,
            transcodesFailedWithEmail: 0,
            lostTranscodes: 0,
            durationSeconds: Math.round((Date.now() - started) / 1000),
            problems: [`scenario crashed: ${(e as Error).stack ?? String(e)}`],
            notes: [],
          };
        }
        if (group.duplicateDeliveries) result.notes.push("every queue message delivered twice (event copies 1-3 s late)");
        if (!passed(result)) result.notes.push(`stack log tail:\n${stack.logTail(60)}`);
        results.push(result);
        log(`scenario ${id}: ${passed(result) ? "ok" : "FAILED"} in ${result.durationSeconds} s`);
      }
    } finally {
      await stack.stop();
    }
  }
  return results;
}

/** The results as a plain-text table (scenario, videos, succeeded, failed with email, lost, transcodes ok/failed/lost, duplicate emails, duration). */
export function formatTable(results: ScenarioResult[]): string {
  const head = ["scenario", "videos", "succeeded", "failed with email", "deleted", "lost", "transcodes ok/failed/lost", "duplicate emails", "duration s", "checks"];
  const rows = results.map((r) => [
    r.scenario,
    String(r.videos),
    String(r.succeeded),
    String(r.failedWithEmail),
    String(r.deleted),
    String(r.lost),
    r.transcodes ? `${r.transcodesSucceeded}/${r.transcodesFailedWithEmail}/${r.lostTranscodes} of ${r.transcodes}` : "-",
    String(r.duplicateEmails),
    String(r.durationSeconds),
    passed(r) ? "ok" : `${r.problems.length} failed`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
