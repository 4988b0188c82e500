/**
 * The one path a processor event takes into the system (events consumer, dead-letter consumer, the
 * cron's give-up):
 *
 * 0. a retryable ERROR (a transient fault: the storage unavailable, the processor shutting down) of the
 *    current attempt re-queues the job as a new attempt after {@link TRANSIENT_RETRY_BACKOFF} while it has
 *    fewer than {@link MAX_TRANSIENT_RETRIES} automatic re-queues (`recoveries`): no ERROR is recorded and no
 *    one is notified. With the budget used up it is applied like any ERROR;
 * 1. apply it to its attempt (./transitions.ts `applyEvent`);
 * 2. when an attempt ends (or a final event is redelivered), notify the owner (the kind's `notify`;
 *    receivers deduplicate);
 * 3. a SUCCESS for a job whose row no longer exists (deleted while processing) gets the outputs it points
 *    to deleted, only under the job's own prefix (and everything under the attempt's prefix, for kinds that
 *    declare one);
 * 4. when attempt N ends, the outputs of attempts 1..N−1 are deleted (best effort), and a late SUCCESS of
 *    an older attempt gets its own outputs deleted: an attempt superseded by a recovery may have stored
 *    them before its processor died. No attempt before the current one can have succeeded (SUCCESS is
 *    final), so nothing a user can download is removed.
 */
import { backoffDelay, type BackoffPolicy } from "../../../runtime/backoff.ts";
import { eq } from "drizzle-orm";
import { parseS3Uri } from "../../../schema/object-keys.ts";
import type { Deps } from "../context.ts";
import { StorageError } from "../storage/s3.ts";
import type { AttemptRef, JobKind, JobRow } from "./job-kind.ts";
import { deleteObjects, deleteUnderPrefix, type StoredObject } from "./purge-video-objects.ts";
import { eventSource, type TimelineNote } from "./timeline.ts";
import type { TimelineSource } from "../../../schema/timeline.ts";
import { applyEvent, isFinal, isLiveAttempt, queueAttempt, readJob, type ApplyResult } from "./transitions.ts";

/**
 * Automatic re-queues (`recoveries`) below which a transient fault re-queues the job instead of failing it:
 * 5 retries of the backoff below cover a storage outage of about 7 minutes.
 */
export const MAX_TRANSIENT_RETRIES = 5;
/**
 * Delay of the n-th automatic re-queue after a transient fault, seconds: 15, 30, 60, 120, 240 (+ up to 20 %
 * jitter, so jobs failed by the same outage do not all come back at once). The processor's own S3 retries
 * already rode out the first ~8 s of the fault (ffmpeg-container/src/s3.ts).
 */
export const TRANSIENT_RETRY_BACKOFF: BackoffPolicy = { base: 15, max: 240, jitter: 0.2 };


/**
 * @param event a validated processor event of `kind`
 * @param opts.leaseExpiredBefore see `applyEvent` (used by the cron)
 * @param opts.source the timeline's source of the change (default: from the event's sender, see `applyEvent`)
 * @returns what `applyEvent` did and the row after it (`requeued` for a retried transient fault)
 * @throws Error on D1, queue or storage failures (the caller retries the event; every step is idempotent:
 *   a redelivered retryable ERROR finds the job at the next attempt and is ignored)
 */
export async function recordEvent<Row extends JobRow, Event>(
  deps: Deps,
  kind: JobKind<Row, Event, unknown>,
  event: Event,
  opts: { leaseExpiredBefore?: Date; source?: TimelineSource } = {},
): Promise<ApplyResult<Row>> {
  const phase = kind.eventPhase(event);
  const ref = kind.eventRef(event);
  if (phase === "error" && kind.eventRetryable(event)) {
    const note = kind.eventNote(event);
    const requeued = await retryTransientFault(deps, kind, ref, { source: opts.source ?? eventSource(note.sender), message: note.message });
    if (requeued) return { result: "requeued", row: requeued };
  }
  const outcome = await applyEvent(deps, kind, event, opts);
  deps.log.info("processor event handled", { job: kind.name, phase, result: outcome.result, status: outcome.row?.status });
  if (!isFinal(phase)) return outcome;
  if (outcome.result !== "ignored") {
    await kind.notify(deps, outcome.row);
    if (ref.attempt > 1) await discardAttempts(deps, kind, ref, outcome.row.attempt, 1, ref.attempt - 1);
  } else if (phase === "success" && !outcome.row) {
    await discardOutputOfDeletedJob(deps, kind, event);
  } else if (phase === "success" && outcome.row && ref.attempt < outcome.row.attempt) {
    await discardAttempts(deps, kind, ref, outcome.row.attempt, ref.attempt, ref.attempt);
  }
  return outcome;
}

/**
 * Re-queues the job of a retryable ERROR as its next attempt, delayed by {@link TRANSIENT_RETRY_BACKOFF},
 * when that ERROR belongs to the current, still running attempt and the budget allows.
 * @returns the queued row, or undefined when the ERROR is to be applied as usual (budget used up, another
 *   attempt, the job gone or changed meanwhile)
 * @throws QueueSendError when the job message could not be sent (the row was restored; the event is retried)
 */
async function retryTransientFault<Row extends JobRow>(
  deps: Deps,
  kind: JobKind<Row, unknown, unknown>,
  ref: AttemptRef,
  fault: TimelineNote,
): Promise<Row | undefined> {
  const row = await readJob(deps, kind, ref);
  if (!row || !isLiveAttempt(kind, row, ref.attempt)) return undefined;
  if (row.recoveries >= MAX_TRANSIENT_RETRIES) {
    deps.log.warn("transient fault, retry budget used up: the job fails", { job: kind.name, id: ref.id, recoveries: row.recoveries, max: MAX_TRANSIENT_RETRIES });
    return undefined;
  }
  const delaySeconds = Math.round(backoffDelay(row.recoveries + 1, TRANSIENT_RETRY_BACKOFF));
  const note = { source: fault.source, message: `Transient fault, retried in ${delaySeconds} s: ${fault.message ?? "no reason given"}` };
  const queued = await queueAttempt(deps, kind, row, "transient", new Date(), { delaySeconds, note });
  if (queued) {
    deps.log.warn("transient fault: attempt re-queued with backoff", { job: kind.name, id: ref.id, failedAttempt: ref.attempt, newAttempt: queued.attempt, delaySeconds, recoveries: queued.recoveries });
  }
  return queued;
}

/**
 * Deletes the outputs of attempts `from..to` of the job of `ref`, all older than its current attempt
 * `current`. Best effort: objects left are logged, and the job's deletion purges every attempt later.
 */
async function discardAttempts(
  deps: Deps,
  kind: JobKind<JobRow, unknown, unknown>,
  ref: AttemptRef,
  current: number,
  from: number,
  to: number,
) {
  if (to >= current) return;
  const bucket = kind.outputs.bucket(deps.config);
  const objects: StoredObject[] = [];
  for (let attempt = Math.max(1, from); attempt <= to; attempt++) {
    for (const key of kind.outputs.keys({ ...ref, attempt })) objects.push({ bucket, key });
  }
  const left = await deleteObjects(deps, objects);
  if (kind.outputs.attemptPrefix) {
    for (let attempt = Math.max(1, from); attempt <= to; attempt++) {
      left.push(...(await deleteUnderPrefix(deps, bucket, kind.outputs.attemptPrefix({ ...ref, attempt }))));
    }
  }
  if (left.length > 0) deps.log.warn("output of superseded attempts not deleted", { job: kind.name, id: ref.id, left: left.length });
}

/**
 * Deletes the outputs a SUCCESS event points to when no row of its job exists at all (under any owner).
 * Objects outside the kind's bucket or the job's prefix are left alone.
 * @throws StorageError when an object could not be deleted (the caller retries the event)
 */
async function discardOutputOfDeletedJob<Event>(deps: Deps, kind: JobKind<JobRow, Event, unknown>, event: Event) {
  const ref: AttemptRef = kind.eventRef(event);
  const [exists] = await deps.db.select({ id: kind.table.id }).from(kind.table).where(eq(kind.table.id, ref.id)).limit(1);
  if (exists) return;
  const bucket = kind.outputs.bucket(deps.config);
  const prefix = kind.outputs.prefix(ref);
  const objects: StoredObject[] = [];
  for (const uri of kind.outputs.ofEvent(event)) {
    const object = parseS3Uri(uri);
    if (object.bucket === bucket && object.key.startsWith(prefix)) objects.push(object);
    else deps.log.warn("late SUCCESS points outside the job's prefix; left alone", { job: kind.name, id: ref.id, bucket: object.bucket });
  }
  const left = await deleteObjects(deps, objects);
  const attemptPrefix = kind.outputs.attemptPrefix?.(ref);
  if (attemptPrefix?.startsWith(prefix)) left.push(...(await deleteUnderPrefix(deps, bucket, attemptPrefix)));
  if (left.length > 0) throw new StorageError(`${left.length} object(s) of deleted ${kind.name} job ${ref.id} not deleted`);
  deps.log.info("output of a deleted job removed", { job: kind.name, id: ref.id, userId: ref.userId, attempt: ref.attempt, objects: objects.length });
}
