/**
 * The statuses of a video record (schema/video-status.ts) by role. Which transition may start from
 * which status is decided in ./transitions.ts; the extraction job kind (./extract-job.ts) maps its
 * roles to these values.
 *
 *   PENDING ──complete──▶ QUEUED (attempt 1) ──PROCESSING | PROGRESS──▶ PROCESSING
 *   QUEUED | PROCESSING ──SUCCESS──▶ SUCCESS        QUEUED | PROCESSING ──ERROR──▶ ERROR
 *   ERROR ──retry──▶ QUEUED (attempt + 1)
 *   QUEUED | PROCESSING ──lease expired, < MAX_JOB_RECOVERIES times──▶ QUEUED (attempt + 1)
 *   QUEUED | PROCESSING ──lease expired, after that──▶ ERROR (as an ERROR event)
 */
import type { VideoStatus } from "../../../schema/video-status.ts";

export const PENDING = "VIDEO_UPLOAD_PENDING" satisfies VideoStatus;
export const QUEUED = "VIDEO_IMAGE_EXTRACTION_QUEUED" satisfies VideoStatus;
export const PROCESSING = "VIDEO_IMAGE_EXTRACTION_PROCESSING" satisfies VideoStatus;
export const SUCCESS = "VIDEO_IMAGE_EXTRACTION_SUCCESS" satisfies VideoStatus;
export const ERROR = "VIDEO_IMAGE_EXTRACTION_ERROR" satisfies VideoStatus;
