/**
 * The transitions of a job (./job-kind.ts), each one conditional D1 update through {@link updateJob}:
 * `WHERE id = ? AND user_id = ? AND status IN (…) [AND attempt = ?] [AND lease_expires_at < ?]`, so
 * concurrent or redelivered requests, events and cron runs cannot move a job backwards.
 *
 * - queue an attempt ({@link queueAttempt}): from the start status (complete), ERROR (retry) or an active
 *   status past its lease (recovery), with attempt + 1 and a fresh lease; then the job message is sent,
 *   and a failed send reverts exactly the columns the transition set;
 * - apply a processor event ({@link applyEvent}): PROCESSING/PROGRESS renew the lease, SUCCESS/ERROR end
 *   the attempt; an event of another attempt changes nothing, a final event the row already shows is a
 *   redelivery.
 * Each status change is recorded in the video's timeline (./timeline.ts) in the same D1 batch as its update,
 * under the same guard: a change that did not happen records nothing.
 *
 * Leases (docs/architecture.md "Leases"): a queued attempt gets now + JOB_LEASE_SECONDS (waiting in the
 * queue behind other jobs, the consumer's backoff, a container start); every PROCESSING or PROGRESS event
 * renews it to now + PROCESSING_LEASE_SECONDS (which exceeds PROCESSOR_IDLE_TIMEOUT_SECONDS, so the
 * consumer gives up on a silent stream before the cron declares the attempt dead); SUCCESS/ERROR clear it.
 */
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { Config } from "../env.ts";
import type { Deps } from "../context.ts";
import { errorFields } from "../../../runtime/log.ts";
import type { AttemptRef, ColumnValues, EventPhase, JobKind, JobRow, RecordKind } from "./job-kind.ts";
import { changeEvent, eventSource, forgetAttemptEvents, type TimelineNote } from "./timeline.ts";

/** Conditions of a transition besides the job's id and owner. */
export interface Guard {
  /** Statuses the job must be in. */
  from: readonly string[];
  /** The attempt the job must be at. */
  attempt?: number;
  /** Only while the attempt's lease expired before this time. */
  leaseExpiredBefore?: Date;
}

/** What a change records in the video's timeline (./timeline.ts). */
export interface TimelineChange extends TimelineNote {
  /** The job's attempt after the change. */
  attempt: number;
  /** Record even when the status stays (a recovery of a queued attempt). */
  always?: boolean;
  now: Date;
}

/** The WHERE of a guarded transition: the job's id and owner, plus the guard. */
function guardWhere(kind: RecordKind, job: Omit<AttemptRef, "attempt">, guard: Guard) {
  const t = kind.table;
  return and(
    eq(t.id, job.id),
    eq(t.userId, job.userId),
    inArray(t.status, [...guard.from]),
    guard.attempt === undefined ? undefined : eq(t.attempt, guard.attempt),
    guard.leaseExpiredBefore ? lt(t.leaseExpiresAt, guard.leaseExpiredBefore) : undefined,
  );
}

/**
 * The one conditional update of a job row (or of any record with a timeline, {@link RecordKind}).
 * @param timeline when given (and `set.status` is a new status, or `timeline.always`), the change is recorded
 *   in the video's timeline in the same D1 batch, under the same guard
 * @returns the row after the update, or undefined when the guard did not hold (nothing changed, nothing recorded)
 */
export async function updateJob<Row extends JobRow>(
  deps: Deps,
  kind: RecordKind,
  job: Omit<AttemptRef, "attempt">,
  guard: Guard,
  set: ColumnValues,
  timeline?: TimelineChange,
): Promise<Row | undefined> {
  const where = guardWhere(kind, job, guard);
  const update = deps.db.update(kind.table).set(set).where(where).returning();
  if (!timeline || typeof set.status !== "string") {
    const [row] = await update;
    return row as Row | undefined;
  }
  const [, rows] = await deps.db.batch([
    changeEvent(deps, kind, where, set.status, timeline.attempt, timeline, { always: timeline.always, now: timeline.now }),
    update,
  ]);
  return rows[0] as Row | undefined;
}

/** The row of a job, scoped to its owner; undefined when it does not exist. */
export async function readJob<Row extends JobRow>(
  deps: Deps,
  kind: JobKind<Row, unknown, unknown>,
  job: Omit<AttemptRef, "attempt">,
): Promise<Row | undefined> {
  const t = kind.table;
  const [row] = await deps.db.select().from(t).where(and(eq(t.id, job.id), eq(t.userId, job.userId))).limit(1);
  return row as Row | undefined;
}

/** Statuses in which an attempt is in flight (queued or running). */
export function activeStatuses(kind: JobKind<JobRow, unknown, unknown>): readonly string[] {
  return [kind.statuses.queued, kind.statuses.processing];
}

/** Lease deadline of an attempt queued at `now`, or processing at `now`. */
export function leaseExpiry(config: Pick<Config, "jobLeaseSeconds" | "processingLeaseSeconds">, phase: "queued" | "processing", now: Date): Date {
  const seconds = phase === "queued" ? config.jobLeaseSeconds : config.processingLeaseSeconds;
  return new Date(now.getTime() + seconds * 1000);
}

/** The columns every queueing sets on top of the new status, attempt, recoveries and lease: one list for every path. */
function resetAttemptColumns(kind: JobKind<JobRow, unknown, unknown>, now: Date): ColumnValues {
  return { queuedAt: now, updatedAt: now, processingStartedAt: null, completedAt: null, ...kind.attemptColumns };
}

/**
 * Why an attempt is queued: the first run (upload complete), a user's retry, the cron's recovery of an
 * expired lease, or a transient fault the processor reported (an ERROR event with `retryable: true`).
 */
export type QueueReason = "start" | "retry" | "recovery" | "transient";

/** Timeline source of a queueing when the caller names none: the owner's request, the cron's recovery, a processor's fault report. */
const QUEUE_SOURCES = { start: "user", retry: "user", recovery: "cron", transient: "processor" } as const;

/** Thrown by {@link queueAttempt} when the job message could not be sent (the row was reverted). */
export class QueueSendError extends Error {
  override name = "QueueSendError";
}

/**
 * Queues a new attempt of `job` (attempt + 1) and sends its job message.
 * @param job the row as read by the caller; the update holds only while status and attempt are unchanged
 * @param reason `start` from the kind's start status, `retry` from ERROR (recoveries back to 0 for both),
 *   `recovery` from an active status whose lease expired before `now`, `transient` from an active status
 *   (the attempt reported a transient fault, or its event relay was lost); both automatic ones count
 *   recoveries + 1
 * @param opts.delaySeconds the job message waits this long in the queue (a transient fault's backoff); the
 *   lease starts after it
 * @param opts.note the timeline's source and message (source by default: `user` for start and retry, `cron`
 *   for recovery, `processor` for transient); a recovery is recorded even when the job was still queued
 * @returns the queued row, or undefined when the row changed since it was read (nothing done)
 * @throws QueueSendError when the send failed, after the row was restored
 */
export async function queueAttempt<Row extends JobRow, Job>(
  deps: Deps,
  kind: JobKind<Row, unknown, Job>,
  job: Row,
  reason: QueueReason,
  now = new Date(),
  opts: { delaySeconds?: number; note?: Partial<TimelineNote> } = {},
): Promise<Row | undefined> {
  const guard: Guard =
    reason === "start"
      ? { from: [kind.statuses.start], attempt: job.attempt }
      : reason === "retry"
        ? { from: [kind.statuses.error], attempt: job.attempt }
        : reason === "transient"
          ? { from: activeStatuses(kind), attempt: job.attempt }
          : { from: activeStatuses(kind), attempt: job.attempt, leaseExpiredBefore: now };
  const delaySeconds = Math.max(0, Math.round(opts.delaySeconds ?? 0));
  const set: ColumnValues = {
    ...resetAttemptColumns(kind, now),
    status: kind.statuses.queued,
    attempt: job.attempt + 1,
    recoveries: reason === "recovery" || reason === "transient" ? job.recoveries + 1 : 0,
    leaseExpiresAt: leaseExpiry(deps.config, "queued", new Date(now.getTime() + delaySeconds * 1000)),
  };
  const note: TimelineNote = { source: opts.note?.source ?? QUEUE_SOURCES[reason], message: opts.note?.message ?? null };
  const queued = await updateJob<Row>(deps, kind, job, guard, set, { ...note, attempt: job.attempt + 1, always: reason === "recovery", now });
  if (!queued) return undefined;
  try {
    await kind.queue(deps.env).send(kind.jobMessage(queued, deps.config), delaySeconds > 0 ? { delaySeconds } : undefined);
  } catch (err) {
    deps.log.error("job queue send failed; attempt reverted", { job: kind.name, id: job.id, reason, ...errorFields(err) });
    const restore: ColumnValues = Object.fromEntries(Object.keys(set).map((k) => [k, (job as Record<string, unknown>)[k]]));
    // The attempt never started: the row goes back and its timeline row goes with it, in one batch.
    await deps.db.batch([
      deps.db
        .update(kind.table)
        .set({ ...restore, updatedAt: new Date() })
        .where(guardWhere(kind, job, { from: [kind.statuses.queued], attempt: job.attempt + 1 })),
      forgetAttemptEvents(deps, kind, { id: job.id, userId: job.userId }, job.attempt + 1),
    ]);
    throw new QueueSendError(`${kind.name} queue send failed`, { cause: err });
  }
  deps.log.info("job queued", { job: kind.name, id: job.id, attempt: queued.attempt, reason, ...(delaySeconds ? { delaySeconds } : {}) });
  return queued;
}

/**
 * What {@link applyEvent} did with an event, and the row after it (undefined when the job is gone);
 * `requeued`: a retryable ERROR queued the next attempt instead (./record-event.ts).
 */
export type ApplyResult<Row> =
  | { result: "applied"; row: Row }
  | { result: "requeued"; row: Row }
  | { result: "redelivered"; row: Row }
  | { result: "ignored"; row: Row | undefined };

/** True for the phases that end an attempt. */
export function isFinal(phase: EventPhase): boolean {
  return phase === "success" || phase === "error";
}

/** Status an event of `phase` leads to. */
function targetStatus(kind: JobKind<JobRow, unknown, unknown>, phase: EventPhase): string {
  return phase === "success" ? kind.statuses.success : phase === "error" ? kind.statuses.error : kind.statuses.processing;
}

export type EventDecision = "apply" | "redelivered" | "ignore";

/**
 * What to do with an event given the row's current status and attempt.
 * - `apply`: same attempt, and the row is queued or processing;
 * - `redelivered`: a final event whose outcome the row already shows for that attempt (the caller sends
 *   the notification again; receivers deduplicate);
 * - `ignore`: another attempt, a PROCESSING or PROGRESS after the end, or no row.
 */
export function decideEvent(
  kind: JobKind<JobRow, unknown, unknown>,
  event: { phase: EventPhase; attempt: number },
  row: { status: string; attempt: number } | null | undefined,
): EventDecision {
  if (!row || row.attempt !== event.attempt) return "ignore";
  if (activeStatuses(kind).includes(row.status)) return "apply";
  if (isFinal(event.phase) && row.status === targetStatus(kind, event.phase)) return "redelivered";
  return "ignore";
}

/**
 * Applies one processor event to its attempt: the status it leads to, the lease (renewed while running,
 * cleared at the end), processing_started_at once, completed_at at the end, and the kind's own columns.
 * @param opts.leaseExpiredBefore apply only while the lease expired before this time (the cron's ERROR: a
 *   PROCESSING event that renewed the lease meanwhile wins)
 * @param opts.source the timeline's source (default: `api` for an event the API wrote, else `processor`)
 * @throws Error on D1 failures, or what the kind's eventColumns throws (the caller retries the event)
 */
export async function applyEvent<Row extends JobRow, Event>(
  deps: Deps,
  kind: JobKind<Row, Event, unknown>,
  event: Event,
  opts: { leaseExpiredBefore?: Date; source?: TimelineNote["source"] } = {},
): Promise<ApplyResult<Row>> {
  const ref = kind.eventRef(event);
  const note = kind.eventNote(event);
  const phase = kind.eventPhase(event);
  const now = new Date();
  const updated = await updateJob<Row>(
    deps,
    kind,
    ref,
    { from: activeStatuses(kind), attempt: ref.attempt, leaseExpiredBefore: opts.leaseExpiredBefore },
    {
      ...kind.eventColumns(deps, event, now),
      status: targetStatus(kind, phase),
      updatedAt: now,
      processingStartedAt: sql`coalesce(${kind.table.processingStartedAt}, ${now.getTime()})`,
      ...(isFinal(phase) ? { completedAt: now, leaseExpiresAt: null } : { leaseExpiresAt: leaseExpiry(deps.config, "processing", now) }),
    },
    { source: opts.source ?? eventSource(note.sender), message: note.message, attempt: ref.attempt, now },
  );
  if (updated) return { result: "applied", row: updated };
  const current = await readJob(deps, kind, ref);
  if (current && decideEvent(kind, { phase, attempt: ref.attempt }, current) === "redelivered") {
    return { result: "redelivered", row: current };
  }
  return { result: "ignored", row: current };
}

/** True while `attempt` is the job's current attempt and still queued or running: its job message should run. */
export function isLiveAttempt(
  kind: JobKind<JobRow, unknown, unknown>,
  row: { status: string; attempt: number } | undefined,
  attempt: number,
): boolean {
  return !!row && row.attempt === attempt && activeStatuses(kind).includes(row.status);
}
