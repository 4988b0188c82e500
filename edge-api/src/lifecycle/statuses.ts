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

/**
 * The statuses of a video imported by URL, before its extraction (the import job kind, ./import-job.ts).
 * A new import is inserted I_QUEUED at attempt 0 (the kind's start status) and queued at once as attempt 1;
 * a stored import moves to PENDING (the import's success status), from which the extraction is queued
 * exactly as `complete` queues an upload's:
 *
 *   I_QUEUED (attempt 0) ──create──▶ I_QUEUED (attempt 1) ──PROCESSING | PROGRESS──▶ I_IMPORTING
 *   I_QUEUED | I_IMPORTING ──SUCCESS──▶ PENDING ──(at once)──▶ QUEUED (attempt + 1)
 *   I_QUEUED | I_IMPORTING ──ERROR──▶ I_ERROR ──retry──▶ I_QUEUED (attempt + 1)
 */
export const I_QUEUED = "VIDEO_IMPORT_QUEUED" satisfies VideoStatus;
export const I_IMPORTING = "VIDEO_IMPORTING" satisfies VideoStatus;
export const I_ERROR = "VIDEO_IMPORT_ERROR" satisfies VideoStatus;

/**
 * The statuses of a generated video before its import (./generation.ts): inserted G_PENDING at attempt 0; the
 * generator's `ready` callback moves it to I_QUEUED (still attempt 0: the import's start status) and queues the
 * import; a `failed` callback, an unreachable generator or the cron's timeout end it G_ERROR (final):
 *
 *   G_PENDING ──ready──▶ I_QUEUED (attempt 0) ──(at once)──▶ I_QUEUED (attempt 1) …
 *   G_PENDING ──failed | request failed | timeout──▶ G_ERROR
 */
export const G_PENDING = "VIDEO_GENERATION_PENDING" satisfies VideoStatus;
export const G_ERROR = "VIDEO_GENERATION_ERROR" satisfies VideoStatus;

/**
 * Statuses in which the video's source object is not stored (yet): an upload not completed, a generation
 * pending or failed, an import queued, running or failed. A transcode asked then waits (TRANSCODE_PENDING) and `complete` queues nothing of an
 * import; the stored import's path of `complete` starts them.
 */
export const SOURCE_NOT_STORED: readonly VideoStatus[] = [PENDING, I_QUEUED, I_IMPORTING, I_ERROR, G_PENDING, G_ERROR];
