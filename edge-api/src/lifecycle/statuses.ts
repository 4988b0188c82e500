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
import type { TranscodeStatus } from "../../../schema/transcode-status.ts";
import type { VideoStatus } from "../../../schema/video-status.ts";

export const PENDING = "VIDEO_UPLOAD_PENDING" satisfies VideoStatus;
export const QUEUED = "VIDEO_IMAGE_EXTRACTION_QUEUED" satisfies VideoStatus;
export const PROCESSING = "VIDEO_IMAGE_EXTRACTION_PROCESSING" satisfies VideoStatus;
export const SUCCESS = "VIDEO_IMAGE_EXTRACTION_SUCCESS" satisfies VideoStatus;
export const ERROR = "VIDEO_IMAGE_EXTRACTION_ERROR" satisfies VideoStatus;

/**
 * The statuses of a transcode record (schema/transcode-status.ts), same roles and transitions as the
 * video's above, with TRANSCODE_PENDING (asked before the upload was completed) as the start status:
 *
 *   T_PENDING ──video's complete──▶ T_QUEUED (attempt 1)      (asked after complete: queued at once)
 */
export const T_PENDING = "TRANSCODE_PENDING" satisfies TranscodeStatus;
export const T_QUEUED = "TRANSCODE_QUEUED" satisfies TranscodeStatus;
export const T_PROCESSING = "TRANSCODE_PROCESSING" satisfies TranscodeStatus;
export const T_SUCCESS = "TRANSCODE_SUCCESS" satisfies TranscodeStatus;
export const T_ERROR = "TRANSCODE_ERROR" satisfies TranscodeStatus;
