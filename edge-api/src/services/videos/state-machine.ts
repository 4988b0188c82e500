/**
 * The lifecycle of a video record (schema/video-status.ts) as data: which status each action or
 * processor event leads to, and from which statuses it may start. Services turn these rules into
 * conditional D1 updates (`WHERE status IN (...) AND attempt = ?`), so concurrent or redelivered
 * requests and queue messages cannot move a record backwards.
 *
 *   VIDEO_UPLOAD_PENDING ──complete──▶ QUEUED (attempt 1) ──PROCESSING | PROGRESS──▶ PROCESSING
 *   PROCESSING ──PROCESSING | PROGRESS──▶ PROCESSING (lease renewed; PROGRESS raises progress/imagesSoFar)
 *   QUEUED | PROCESSING ──SUCCESS──▶ SUCCESS        QUEUED | PROCESSING ──ERROR──▶ ERROR
 *   ERROR ──retry──▶ QUEUED (attempt + 1)
 *   QUEUED | PROCESSING ──lease expired (cron, < MAX_JOB_RECOVERIES times)──▶ QUEUED (attempt + 1)
 *   QUEUED | PROCESSING ──lease expired (cron, after that)──▶ ERROR (as an ERROR event, ./leases.ts)
 *
 * Processor events carry the attempt they belong to; an event of another attempt changes nothing.
 */
import { isFinalExtractEvent, type ExtractSnapshotEvent } from "../../../../schema/messages/index.ts";
import type { VideoStatus } from "../../../../schema/video-status.ts";

export const PENDING = "VIDEO_UPLOAD_PENDING" satisfies VideoStatus;
export const QUEUED = "VIDEO_IMAGE_EXTRACTION_QUEUED" satisfies VideoStatus;
export const PROCESSING = "VIDEO_IMAGE_EXTRACTION_PROCESSING" satisfies VideoStatus;
export const SUCCESS = "VIDEO_IMAGE_EXTRACTION_SUCCESS" satisfies VideoStatus;
export const ERROR = "VIDEO_IMAGE_EXTRACTION_ERROR" satisfies VideoStatus;

/** Statuses in which an extraction attempt is in flight (queued or running). */
export const ACTIVE_STATUSES = [QUEUED, PROCESSING] as const satisfies readonly VideoStatus[];

/** `POST /v1/videos/{id}/complete` moves PENDING → QUEUED. */
export const COMPLETE_FROM = PENDING;
/** `POST /v1/videos/{id}/retry` moves ERROR → QUEUED with attempt + 1. */
export const RETRY_FROM = ERROR;
/** The lease sweep (./leases.ts) re-queues an attempt past its lease from these statuses, with attempt + 1. */
export const RECOVER_FROM = ACTIVE_STATUSES;

type EventType = ExtractSnapshotEvent["type"];

/** Status a processor event leads to. */
export const EVENT_TARGET: Record<EventType, VideoStatus> = {
  MSG_EXTRACT_SNAPSHOT_PROCESSING: PROCESSING,
  MSG_EXTRACT_SNAPSHOT_PROGRESS: PROCESSING,
  MSG_EXTRACT_SNAPSHOT_SUCCESS: SUCCESS,
  MSG_EXTRACT_SNAPSHOT_ERROR: ERROR,
};

/** Every processor event applies only from an active status of the same attempt. */
export const EVENT_FROM: Record<EventType, readonly VideoStatus[]> = {
  MSG_EXTRACT_SNAPSHOT_PROCESSING: ACTIVE_STATUSES,
  MSG_EXTRACT_SNAPSHOT_PROGRESS: ACTIVE_STATUSES,
  MSG_EXTRACT_SNAPSHOT_SUCCESS: ACTIVE_STATUSES,
  MSG_EXTRACT_SNAPSHOT_ERROR: ACTIVE_STATUSES,
};

/** True for the two final statuses of an attempt. */
export function isTerminal(status: VideoStatus): boolean {
  return status === SUCCESS || status === ERROR;
}

export type EventDecision = "apply" | "redelivered" | "ignore";

/**
 * What to do with a processor event given the record's current status and attempt.
 * - `apply`: same attempt and the record is queued or processing.
 * - `redelivered`: a terminal event whose outcome the record already shows for that attempt (the
 *   caller re-sends the notification; the email service deduplicates).
 * - `ignore`: another attempt, a stale PROCESSING or PROGRESS after the end, or a missing record.
 */
export function decideEvent(
  event: { type: EventType; attempt: number },
  record: { status: VideoStatus; attempt: number } | null | undefined,
): EventDecision {
  if (!record || record.attempt !== event.attempt) return "ignore";
  if (EVENT_FROM[event.type].includes(record.status)) return "apply";
  if (isFinalExtractEvent(event.type) && record.status === EVENT_TARGET[event.type]) {
    return "redelivered";
  }
  return "ignore";
}
