/**
 * Chaos, short version (the long one is `npm run chaos`): every chaos scenario against the
 * real local stack (tools/chaos: wrangler dev with both Workers, local Queues and D1, the S3 server,
 * the ffmpeg processor, a Postmark-speaking server), on ONE stack whose edge-api also delivers every queue
 * message twice (event copies 1–3 s late, CHAOS_DUPLICATE_DELIVERIES), so every fault is combined with
 * duplicate, out-of-order delivery. After each scenario the verifier (tools/chaos/verify.ts) checks:
 * every video in success or error, exactly one email per (video, attempt, outcome) accepted by Postmark and
 * `sent` in D1, a ZIP with imageCount images for each success, no orphaned object, no job temp folder,
 * nothing lost; and for the transcode of the kill scenario: it ends in success with every output stored (or
 * error with its email), one email per (transcode, attempt, outcome), no object of a killed attempt left.
 * Sizes: tools/chaos/scenarios.ts SHORT (8 uploads, S3 down 5 s, 3 SIGKILLs).
 *
 * To fit `npm test`, scenarios whose faults cannot spoil each other's expectations run at the same time
 * (each verifies only its own videos): SIGKILLs with the Postmark failures (those only touch emails), then
 * duplicates with the load and the deletes, then the S3 outage alone (it fails whatever job it meets).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChaosStack, type ChaosStack } from "../../tools/chaos/harness.ts";
import { passed } from "../../tools/chaos/run.ts";
import { SHORT, runScenario, type ScenarioId } from "../../tools/chaos/scenarios.ts";

const PHASES: ScenarioId[][] = [["kill", "postmark"], ["duplicates", "load", "delete"], ["s3-outage"]];

let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ maxConcurrentJobs: 2, duplicateDeliveries: true, jobLeaseSeconds: SHORT.jobLeaseSeconds });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe("chaos (short): faults against the whole local stack", () => {
  it.each(PHASES.map((phase) => [phase.join(" + "), phase] as const))(
    "%s: nothing lost, no duplicate email, no orphan",
    async (_name, phase) => {
      const results = await Promise.all(phase.map((id) => runScenario(id, stack, SHORT)));
      for (const result of results) {
        const detail = `${JSON.stringify(result, null, 2)}\n--- stack log ---\n${stack.logTail(120)}`;
        expect(result.videos, detail).toBeGreaterThan(0);
        expect(result.lost, detail).toBe(0);
        expect(result.duplicateEmails, detail).toBe(0);
        expect(result.lostTranscodes, detail).toBe(0);
        if (result.scenario === "kill") expect(result.transcodesSucceeded + result.transcodesFailedWithEmail, detail).toBe(result.transcodes);
        if (result.scenario === "kill") expect(result.transcodes, detail).toBe(1);
        expect(result.problems, detail).toEqual([]);
        expect(passed(result)).toBe(true);
        // Count in = count out.
        expect(result.succeeded + result.failedWithEmail + result.deleted, detail).toBe(result.videos);
      }
    },
    SHORT.deadlineMs + 120_000,
  );

  it("the processor never ran more than its 2 job slots at once", () => {
    // The processor's own count: the proxy sees each job's end and the next job's start on different
    // connections, in either order.
    expect(stack.processor.acceptedJobs()).toBeGreaterThan(0);
    expect(stack.processor.maxRunningJobs()).toBeGreaterThan(0);
    expect(stack.processor.maxRunningJobs()).toBeLessThanOrEqual(2);
    expect(stack.proxy.jobs.filter((j) => !j.injected && j.status === 200).length).toBeGreaterThan(0);
  });
});
