/**
 * The import job kind: a video downloaded from a URL (`POST /v1/videos` with `source: {url}`) into its source
 * object, run on the `videos` row itself like the extraction (the video's status is its import's status
 * until the import is stored). Job message MSG_IMPORT_VIDEO on vidsnap-import, events
 * MSG_IMPORT_VIDEO_PROCESSING / _PROGRESS / _SUCCESS / _ERROR on the shared vidsnap-events queue.
 *
 * Statuses (./statuses.ts): start and queued VIDEO_IMPORT_QUEUED (a new import is inserted there at attempt
 * 0 and queued at once), processing VIDEO_IMPORTING, error VIDEO_IMPORT_ERROR, and success
 * VIDEO_UPLOAD_PENDING: a stored import is where an upload is before `complete`, and `notify` then takes
 * the very path of `complete` (../services/videos/complete-upload.ts: HEAD + ETag of the source, the
 * extraction queued as the next attempt, the pending transcodes queued). A failure is notified with the
 * import error email (MSG_SEND_VIDEO_IMPORT_ERROR) and the `video.import_failed` webhook.
 *
 * The only output is the source object, whose key is the same for every attempt and which a failed attempt
 * never leaves behind (the processor aborts its multipart upload): `outputs.keys` is empty, so ending an
 * attempt never deletes the source a later attempt stored; a late SUCCESS of a deleted video has its source
 * deleted (`ofEvent`).
 */
import { sql } from "drizzle-orm";
import { videos } from "../../../schema/db.ts";
import {
  API_SERVICE,
  ImportVideoEvent,
  importVideoErrorMessage,
  ImportVideoMessage,
  importVideoMessage,
} from "../../../schema/messages/index.ts";
import { parseS3Uri } from "../../../schema/object-keys.ts";
import { jobErrorFields } from "../../../schema/messages/job-error.ts";
import { importStorageScopes } from "../../../schema/storage-credentials.ts";
import { completeUpload } from "../services/videos/complete-upload.ts";
import { sendOutcomeEmail } from "../services/videos/send-outcome-email.ts";
import type { VideoRow } from "../services/videos/serialize.ts";
import { enqueueVideoWebhooks } from "../services/webhooks/enqueue-video-event.ts";
import type { ColumnValues, EventPhase, JobKind } from "./job-kind.ts";
import { I_ERROR, I_IMPORTING, I_QUEUED, PENDING } from "./statuses.ts";

const PHASES: Record<ImportVideoEvent["type"], EventPhase> = {
  MSG_IMPORT_VIDEO_PROCESSING: "processing",
  MSG_IMPORT_VIDEO_PROGRESS: "progress",
  MSG_IMPORT_VIDEO_SUCCESS: "success",
  MSG_IMPORT_VIDEO_ERROR: "error",
};

/** Never lowers a stored count or fraction: events may arrive out of order. */
const raise = (column: typeof videos.progress | typeof videos.importedBytes, value: number) => sql`max(coalesce(${column}, 0), ${value})`;

export const importJob: JobKind<VideoRow, ImportVideoEvent, ImportVideoMessage> = {
  name: "import",
  table: videos,
  timeline: { jobKind: "import", videoId: videos.id },
  statuses: { start: I_QUEUED, queued: I_QUEUED, processing: I_IMPORTING, success: PENDING, error: I_ERROR },
  attemptColumns: {
    progress: null,
    importedBytes: null,
    importTotalBytes: null,
    errorMessage: null,
    errorDescription: null,
  },
  schemas: { job: ImportVideoMessage, event: ImportVideoEvent },
  queue: (env) => env.IMPORT_QUEUE,
  jobMessage(row, config) {
    if (!row.sourceUrl) throw new Error(`video ${row.id} has no source URL to import`);
    return importVideoMessage({ videoId: row.id, userId: row.userId, attempt: row.attempt, url: row.sourceUrl, maxBytes: config.maxUploadBytes });
  },
  jobRef: (job) => ({ id: job.payload.videoId, userId: job.payload.userId, attempt: job.payload.attempt }),
  eventQueue: (env) => env.EVENTS_QUEUE,
  eventRef: (event) => ({ id: event.payload.videoId, userId: event.payload.userId, attempt: event.payload.attempt }),
  eventPhase: (event) => PHASES[event.type],
  eventNote: (event) => ({ sender: event.sender, message: event.type === "MSG_IMPORT_VIDEO_ERROR" ? event.payload.errorMessage : null }),
  eventRetryable: (event) => event.type === "MSG_IMPORT_VIDEO_ERROR" && event.payload.retryable === true,
  eventColumns(deps, event, _now): ColumnValues {
    switch (event.type) {
      case "MSG_IMPORT_VIDEO_PROCESSING":
        return {};
      case "MSG_IMPORT_VIDEO_PROGRESS": {
        const p = event.payload;
        return {
          importedBytes: raise(videos.importedBytes, p.importedBytes),
          ...(p.totalBytes !== null ? { importTotalBytes: p.totalBytes } : {}),
          ...(p.fraction !== null ? { progress: raise(videos.progress, p.fraction) } : {}),
        };
      }
      case "MSG_IMPORT_VIDEO_SUCCESS": {
        const p = event.payload;
        const { bucket } = parseS3Uri(p.sourceUri);
        if (bucket !== deps.config.videosBucket) deps.log.warn("processor stored an import outside VIDEOS_BUCKET", { videoId: p.videoId, bucket });
        // sizeBytes is what `complete`'s source check compares the stored object with.
        return {
          sizeBytes: p.sizeBytes,
          contentType: p.contentType,
          importedBytes: p.sizeBytes,
          importTotalBytes: p.sizeBytes,
          progress: 1,
          errorMessage: null,
          errorDescription: null,
        };
      }
      case "MSG_IMPORT_VIDEO_ERROR":
        return { errorMessage: event.payload.errorMessage, errorDescription: event.payload.errorDescription };
    }
  },
  errorEvent: (ref, errorMessage, errorDescription, opts = {}) =>
    importVideoErrorMessage(
      {
        videoId: ref.id,
        userId: ref.userId,
        attempt: ref.attempt,
        ...jobErrorFields(errorMessage, errorDescription, opts),
      },
      API_SERVICE,
    ),
  leaseExpiredDescription: (recoveries) =>
    `The processor stopped reporting on this import ${recoveries + 1} time(s) in a row` +
    ` (${recoveries} automatic restart(s)); the import was stopped. Retry the video to start again.`,
  storageScopes: (ref, config) => importStorageScopes({ userId: ref.userId, videoId: ref.id }, config),
  timeoutSeconds: (config) => config.jobTimeoutSeconds,
  outputs: {
    bucket: (config) => config.videosBucket,
    // The source key is the same for every attempt: never deleted as a "superseded attempt's" output.
    keys: () => [],
    prefix: (ref) => `users/${ref.userId}/videos/${ref.id}/`,
    ofEvent: (event) => (event.type === "MSG_IMPORT_VIDEO_SUCCESS" ? [event.payload.sourceUri] : []),
  },
  async notify(deps, row) {
    if (row.status === PENDING) {
      // Stored: the path of `complete` (source check, extraction queued, pending transcodes queued). Its
      // ProblemError (queue or storage unavailable) makes the caller retry the event, which finds the row
      // still PENDING at this attempt (a redelivery) and comes here again.
      await completeUpload(deps, row.userId, row.id);
      return;
    }
    await sendOutcomeEmail(deps, row);
    await enqueueVideoWebhooks(deps, row);
  },
};
