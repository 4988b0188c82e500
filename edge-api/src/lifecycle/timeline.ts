/**
 * The one writer of a video's timeline (`video_events`, docs/architecture.md "Timeline"). Every function
 * here returns a D1 statement that the caller puts in the same `db.batch` as the change it records, so a
 * timeline event exists exactly when the change happened:
 * - {@link changeEvent}: an INSERT … SELECT from the job's row under the same guard as the conditional
 *   UPDATE that follows it in the batch (./transitions.ts `updateJob`): the guard fails → no row is
 *   selected → nothing recorded. It reads the status before the change, and records nothing when the
 *   status stays (a PROGRESS, a heartbeat) unless asked to (a lease recovery of a queued attempt);
 * - {@link createdEvent}: the record's first status, batched with its INSERT;
 * - {@link deletedEvent}: a transcode's deletion, batched before its DELETE;
 * - {@link forgetAttemptEvents}: removes what a reverted queueing recorded (the job message could not be sent);
 * - {@link deleteVideoEvents}: a video's rows, batched with the video's deletion (the foreign key cascades too).
 */
import { and, eq, inArray, ne, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { videoEvents } from "../../../schema/db.ts";
import {
  TIMELINE_MESSAGE_MAX_CHARS,
  TRANSCODE_DELETED,
  type TimelineJobKind,
  type TimelineSource,
  type TimelineStatus,
} from "../../../schema/timeline.ts";
import { API_SERVICE } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import type { JobKind, JobRow, JobTable, RecordKind, TimelineRef } from "./job-kind.ts";

/** Who caused a change and why (stored as `source` and `message`). */
export interface TimelineNote {
  source: TimelineSource;
  /** A human sentence: an error message, a retry's reason; cut to TIMELINE_MESSAGE_MAX_CHARS. */
  message?: string | null;
}

/** `message` as stored: trimmed to TIMELINE_MESSAGE_MAX_CHARS, null when empty. */
export function boundMessage(message: string | null | undefined): string | null {
  if (!message) return null;
  return message.length > TIMELINE_MESSAGE_MAX_CHARS ? `${message.slice(0, TIMELINE_MESSAGE_MAX_CHARS - 1)}…` : message;
}

/** Source of a processor event: `api` when the API wrote it on the processor's behalf, else `processor`. */
export function eventSource(sender: string): TimelineSource {
  return sender === API_SERVICE ? "api" : "processor";
}

/**
 * The timeline row of a guarded status change of a job row, to run in the same batch just before the UPDATE.
 * @param where the UPDATE's own guard (id, owner, statuses, attempt, lease)
 * @param to the status the UPDATE sets
 * @param attempt the job's attempt after the UPDATE
 * @param opts.always record even when the status stays (a recovery of a queued attempt)
 * @param opts.now the change's time (the UPDATE's `updated_at`)
 */
export function changeEvent(
  deps: Deps,
  kind: RecordKind,
  where: SQL | undefined,
  to: string,
  attempt: number,
  note: TimelineNote,
  opts: { always?: boolean; now: Date },
) {
  const t = kind.table;
  return insertFromRow(deps, t, kind.timeline, opts.always ? where : and(where, ne(t.status, to)), {
    to,
    attempt: sql<number>`${attempt}`,
    source: note.source,
    message: sql<string | null>`${boundMessage(note.message)}`,
    now: opts.now,
  });
}

/** The row of a deleted transcode, to run in the same batch just before its DELETE (same `where`). */
export function deletedEvent(deps: Deps, kind: JobKind<JobRow, unknown, unknown>, where: SQL | undefined, now: Date) {
  const t = kind.table;
  // A job still queued or running is cancelled in the processor by the deletion.
  const message = sql<string | null>`CASE WHEN ${t.status} IN (${kind.statuses.queued}, ${kind.statuses.processing}) THEN 'Cancelled while running.' ELSE NULL END`;
  return insertFromRow(deps, t, kind.timeline, where, { to: TRANSCODE_DELETED, attempt: sql<number>`${t.attempt}`, source: "user", message, now });
}

/**
 * The first row of a record just created (from status null), to batch with its INSERT.
 * @param job the new record: its video, job id ('' for the video itself), status and attempt
 */
export function createdEvent(
  deps: Deps,
  job: { userId: string; videoId: string; jobKind: TimelineJobKind; jobId?: string; status: TimelineStatus; attempt: number },
  note: TimelineNote,
  now: Date,
) {
  return deps.db.insert(videoEvents).values({
    userId: job.userId,
    videoId: job.videoId,
    jobKind: job.jobKind,
    jobId: job.jobId ?? "",
    attempt: job.attempt,
    fromStatus: null,
    toStatus: job.status,
    source: note.source,
    message: boundMessage(note.message),
    createdAt: now,
  });
}

/**
 * Removes the rows of attempt `attempt` of one job: batched with the revert of a queueing whose job message
 * could not be sent (that attempt never existed; the guard of the queueing makes its row the only one).
 */
export function forgetAttemptEvents(deps: Deps, kind: JobKind<JobRow, unknown, unknown>, job: { id: string; userId: string; parentId?: string }, attempt: number) {
  const e = videoEvents;
  const isExtraction = !kind.timeline.jobId;
  return deps.db
    .delete(e)
    .where(
      and(
        eq(e.userId, job.userId),
        eq(e.jobKind, kind.timeline.jobKind),
        isExtraction ? eq(e.videoId, job.id) : eq(e.jobId, job.id),
        eq(e.attempt, attempt),
      ),
    );
}

/**
 * Deletes the timeline of some videos, batched with their deletion (before it: `videoIds` may be a sub-select
 * of the rows about to go). The foreign key's ON DELETE CASCADE would too; this keeps it explicit.
 * @param videoIds ids, or a sub-select of `videos.id`
 * @param userId the owner, when the deletion is a user's
 */
export function deleteVideoEvents(deps: Deps, videoIds: string[] | SQLWrapper, userId?: string) {
  return deps.db
    .delete(videoEvents)
    .where(and(inArray(videoEvents.videoId, videoIds), userId === undefined ? undefined : eq(videoEvents.userId, userId)));
}

/** INSERT … SELECT of one timeline row per job row matching `where`, its from status read from the row. */
function insertFromRow(
  deps: Deps,
  t: JobTable,
  ref: TimelineRef,
  where: SQL | undefined,
  v: { to: string; attempt: SQL<number>; source: TimelineSource; message: SQL<string | null>; now: Date },
) {
  return deps.db.insert(videoEvents).select(
    deps.db
      .select({
        // Null lets SQLite assign the next id (AUTOINCREMENT): insertion order breaks ties within a millisecond.
        id: sql<number>`NULL`.as("id"),
        userId: sql<string>`${t.userId}`.as("user_id"),
        videoId: sql<string>`${ref.videoId}`.as("video_id"),
        jobKind: sql<TimelineJobKind>`${ref.jobKind}`.as("job_kind"),
        jobId: (ref.jobId ? sql<string>`${ref.jobId}` : sql<string>`''`).as("job_id"),
        attempt: v.attempt.as("attempt"),
        fromStatus: sql<TimelineStatus>`${t.status}`.as("from_status"),
        toStatus: sql<TimelineStatus>`${v.to}`.as("to_status"),
        source: sql<TimelineSource>`${v.source}`.as("source"),
        message: v.message.as("message"),
        createdAt: sql<Date>`${v.now.getTime()}`.as("created_at"),
      })
      .from(t)
      .where(where),
  );
}
