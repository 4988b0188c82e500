/**
 * The cron's generation timeout: a generation still VIDEO_GENERATION_PENDING (no callback, request sent or
 * not) whose `estimatedCompletionAt` + GENERATION_TIMEOUT_SECONDS has passed ends VIDEO_GENERATION_ERROR with
 * a message saying so and the error email (./generation.ts `failGeneration`, source `cron`). A callback after
 * that is answered 409. At most {@link EXPIRE_GENERATIONS_BATCH} per run, oldest deadline first.
 */
import { and, asc, eq, lt } from "drizzle-orm";
import { videos } from "../../../schema/db.ts";
import type { Deps } from "../context.ts";
import { failGeneration } from "./generation.ts";
import { G_PENDING } from "./statuses.ts";

export const EXPIRE_GENERATIONS_BATCH = 50;

/**
 * @param opts.now the run's time (the cron's `scheduledTime`)
 * @returns how many generations were failed
 */
export async function expireGenerations(deps: Deps, opts: { now: Date }): Promise<{ timedOut: number }> {
  const graceMs = deps.config.generationTimeoutSeconds * 1000;
  const due = await deps.db
    .select({ id: videos.id, userId: videos.userId, estimatedCompletionAt: videos.estimatedCompletionAt })
    .from(videos)
    .where(and(eq(videos.status, G_PENDING), lt(videos.estimatedCompletionAt, new Date(opts.now.getTime() - graceMs))))
    .orderBy(asc(videos.estimatedCompletionAt))
    .limit(EXPIRE_GENERATIONS_BATCH);
  let timedOut = 0;
  for (const g of due) {
    const expected = g.estimatedCompletionAt!.toISOString();
    const row = await failGeneration(
      deps,
      g,
      {
        source: "cron",
        errorMessage: "The generator did not call back in time.",
        errorDescription: `No callback by ${expected} (the estimated completion) + ${deps.config.generationTimeoutSeconds} s; the generation was given up.`,
      },
      opts.now,
    );
    if (row) timedOut++;
  }
  if (timedOut > 0) deps.log.info("generations timed out", { timedOut });
  return { timedOut };
}
