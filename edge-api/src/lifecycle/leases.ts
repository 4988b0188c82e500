/**
 * The cron's lease sweep (docs/architecture.md "Leases"): queued or processing attempts past their lease
 * deadline, because processor and consumer are both gone (container restart, consumer invocation killed,
 * events lost in a dead-letter queue), are
 * - re-queued as a new attempt while the job has fewer than MAX_JOB_RECOVERIES recoveries (the old
 *   attempt's late events and queued message are then ignored);
 * - otherwise failed with an ERROR event {@link LEASE_EXPIRED_ERROR_MESSAGE} written by the API, applied
 *   like the processor's own errors (./record-event.ts).
 * Both are conditional on the same status, attempt and a still-expired lease, so a PROCESSING event or a
 * concurrent run arriving in between wins and the job is left alone.
 */
import { and, asc, inArray, lt } from "drizzle-orm";
import type { Deps } from "../context.ts";
import type { TimelineSource } from "../../../schema/timeline.ts";
import { errorFields } from "../../../runtime/log.ts";
import type { JobKind, JobRow } from "./job-kind.ts";
import { recordEvent } from "./record-event.ts";
import { activeStatuses, queueAttempt } from "./transitions.ts";

/** Most expired leases handled per cron run (each takes a few D1 queries and one queue send). */
export const LEASE_SWEEP_BATCH_SIZE = 50;
/** errorMessage of a job failed by the lease sweep after MAX_JOB_RECOVERIES re-queues. */
export const LEASE_EXPIRED_ERROR_MESSAGE = "Processing stopped responding";

/** Outcome of one sweep. */
export interface LeaseSweepResult {
  /** Expired leases found (≤ limit). */
  expired: number;
  /** Re-queued as a new attempt, job message sent. */
  requeued: number;
  /** Failed with {@link LEASE_EXPIRED_ERROR_MESSAGE} (owner notified). */
  failed: number;
  /** Changed by something else between the scan and the update (left alone). */
  skipped: number;
  /** Not handled because of a D1 or queue failure (the next run tries again: the lease stays expired). */
  errors: number;
}

/**
 * Re-queues or fails the attempts of `kind` whose lease expired before `opts.now`, oldest deadline first.
 * @param opts.now the run's time (the cron's `scheduledTime`)
 * @param opts.limit most jobs handled, 1..{@link LEASE_SWEEP_BATCH_SIZE} (default)
 * @returns counts of what happened
 * @throws Error when the scan fails, or after the whole batch when some jobs could not be handled
 *   (`errors` > 0), so the scheduled run is reported as failed
 */
export async function recoverExpiredLeases<Row extends JobRow, Event>(
  deps: Deps,
  kind: JobKind<Row, Event, unknown>,
  opts: { now: Date; limit?: number },
): Promise<LeaseSweepResult> {
  const limit = Math.max(1, Math.min(LEASE_SWEEP_BATCH_SIZE, opts.limit ?? LEASE_SWEEP_BATCH_SIZE));
  const { now } = opts;
  const t = kind.table;
  const expired = (await deps.db
    .select()
    .from(t)
    .where(and(inArray(t.status, [...activeStatuses(kind)]), lt(t.leaseExpiresAt, now)))
    .orderBy(asc(t.leaseExpiresAt))
    .limit(limit)) as Row[];
  const result: LeaseSweepResult = { expired: expired.length, requeued: 0, failed: 0, skipped: 0, errors: 0 };
  for (const row of expired) {
    const log = deps.log.child({ job: kind.name, id: row.id, userId: row.userId, attempt: row.attempt });
    const fields = { status: row.status, recoveries: row.recoveries, leaseExpiresAt: row.leaseExpiresAt?.toISOString() };
    try {
      const outcome = await recoverAttempt({ ...deps, log }, kind, row, { now, leaseExpiredBefore: now, reason: "expired lease" });
      if (outcome === "requeued") result.requeued++;
      else if (outcome === "failed") result.failed++;
      else result.skipped++;
    } catch (err) {
      result.errors++;
      log.error("expired lease could not be handled; next run retries", { ...fields, ...errorFields(err) });
    }
  }
  deps.log.info("lease sweep done", { job: kind.name, ...result, limit });
  if (result.errors > 0) throw new Error(`lease sweep: ${result.errors} of ${result.expired} expired lease(s) not handled`);
  return result;
}

/**
 * Recovers one in-flight attempt whose lease expired: re-queued as a new attempt while the job has fewer
 * than MAX_JOB_RECOVERIES recoveries, otherwise failed with {@link LEASE_EXPIRED_ERROR_MESSAGE} (applied like
 * the processor's own errors, owner notified).
 * @param row the job as read by the caller; nothing happens when its status or attempt changed meanwhile
 * @param opts.now the time of the decision; opts.leaseExpiredBefore the lease must have expired before it (a
 *   PROCESSING event that renewed the lease meanwhile wins); opts.reason for the logs and the timeline;
 *   opts.source the timeline's source (default `cron`)
 * @returns `requeued`, `failed`, or `skipped` (the job changed meanwhile)
 * @throws Error on D1 or queue failures (the caller logs; the lease sweep retries later)
 */
export async function recoverAttempt<Row extends JobRow, Event>(
  deps: Deps,
  kind: JobKind<Row, Event, unknown>,
  row: Row,
  opts: { now: Date; leaseExpiredBefore: Date; reason: string; source?: TimelineSource },
): Promise<"requeued" | "failed" | "skipped"> {
  const source = opts.source ?? "cron";
  const fields = { reason: opts.reason, status: row.status, recoveries: row.recoveries, leaseExpiresAt: row.leaseExpiresAt?.toISOString() };
  if (row.recoveries < deps.config.maxJobRecoveries) {
    const note = { source, message: `Recovered after an ${opts.reason} (recovery ${row.recoveries + 1} of ${deps.config.maxJobRecoveries}).` };
    const queued = await queueAttempt(deps, kind, row, "recovery", opts.now, { note });
    if (queued) {
      deps.log.warn("attempt re-queued", { ...fields, newAttempt: queued.attempt });
      return "requeued";
    }
    deps.log.info("attempt not recovered: job changed meanwhile, left alone", fields);
    return "skipped";
  }
  const event = kind.errorEvent(row, LEASE_EXPIRED_ERROR_MESSAGE, kind.leaseExpiredDescription(row.recoveries));
  const outcome = await recordEvent(deps, kind, event, { leaseExpiredBefore: opts.leaseExpiredBefore, source });
  if (outcome.result === "applied") {
    deps.log.error("recoveries used up, job failed", { ...fields, maxJobRecoveries: deps.config.maxJobRecoveries });
    return "failed";
  }
  deps.log.info("attempt not failed: job changed meanwhile, left alone", { ...fields, result: outcome.result });
  return "skipped";
}
