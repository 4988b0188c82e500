/**
 * The extraction job kind: images of a video, run on the `videos` row itself (the video's status is its
 * extraction's status). Job message MSG_EXTRACT_SNAPSHOT on vidsnap-extract, events
 * MSG_EXTRACT_SNAPSHOT_PROCESSING / _PROGRESS / _SUCCESS / _ERROR, outputs the archive and manifest of
 * each attempt in IMAGES_BUCKET, outcome notified by email and webhooks.
 */
import { sql } from "drizzle-orm";
import { videos } from "../../../schema/db.ts";
import { ExtractionOptions } from "../../../schema/extraction-options.ts";
import {
  API_SERVICE,
  ExtractSnapshotEvent,
  extractSnapshotErrorMessage,
  ExtractSnapshotMessage,
  extractSnapshotMessage,
} from "../../../schema/messages/index.ts";
import { archiveObjectKey, manifestObjectKey, parseS3Uri } from "../../../schema/object-keys.ts";
import { jobErrorFields } from "../../../schema/messages/job-error.ts";
import { extractStorageScopes } from "../../../schema/storage-credentials.ts";
import { sendOutcomeEmail } from "../services/videos/send-outcome-email.ts";
import type { VideoRow } from "../services/videos/serialize.ts";
import { enqueueVideoWebhooks } from "../services/webhooks/enqueue-video-event.ts";
import type { ColumnValues, EventPhase, JobKind } from "./job-kind.ts";
import { ERROR, PENDING, PROCESSING, QUEUED, SUCCESS } from "./statuses.ts";

const PHASES: Record<ExtractSnapshotEvent["type"], EventPhase> = {
  MSG_EXTRACT_SNAPSHOT_PROCESSING: "processing",
  MSG_EXTRACT_SNAPSHOT_PROGRESS: "progress",
  MSG_EXTRACT_SNAPSHOT_SUCCESS: "success",
  MSG_EXTRACT_SNAPSHOT_ERROR: "error",
};

/** Never lowers a stored count or fraction: events may arrive out of order. */
const raise = (column: typeof videos.progress | typeof videos.imagesSoFar, value: number) =>
  sql`max(coalesce(${column}, 0), ${value})`;

export const extractJob: JobKind<VideoRow, ExtractSnapshotEvent, ExtractSnapshotMessage> = {
  name: "extract",
  table: videos,
  timeline: { jobKind: "extract", videoId: videos.id },
  statuses: { start: PENDING, queued: QUEUED, processing: PROCESSING, success: SUCCESS, error: ERROR },
  attemptColumns: {
    progress: null,
    imagesSoFar: null,
    imageCount: null,
    zipSizeBytes: null,
    durationSeconds: null,
    archiveKey: null,
    manifestKey: null,
    errorMessage: null,
    errorDescription: null,
    warnings: null,
  },
  schemas: { job: ExtractSnapshotMessage, event: ExtractSnapshotEvent },
  queue: (env) => env.EXTRACT_QUEUE,
  jobMessage: (row) =>
    extractSnapshotMessage({
      videoId: row.id,
      userId: row.userId,
      attempt: row.attempt,
      options: ExtractionOptions.parse(row.options),
      // Recorded at `complete`: the processor reads the source only while it still has this ETag.
      ...(row.sourceEtag ? { sourceEtag: row.sourceEtag } : {}),
    }),
  jobRef: (job) => ({ id: job.payload.videoId, userId: job.payload.userId, attempt: job.payload.attempt }),
  eventQueue: (env) => env.EVENTS_QUEUE,
  eventRef: (event) => ({ id: event.payload.videoId, userId: event.payload.userId, attempt: event.payload.attempt }),
  eventPhase: (event) => PHASES[event.type],
  eventNote: (event) => ({ sender: event.sender, message: event.type === "MSG_EXTRACT_SNAPSHOT_ERROR" ? event.payload.errorMessage : null }),
  eventRetryable: (event) => event.type === "MSG_EXTRACT_SNAPSHOT_ERROR" && event.payload.retryable === true,
  eventColumns(deps, event, _now): ColumnValues {
    switch (event.type) {
      case "MSG_EXTRACT_SNAPSHOT_PROCESSING": {
        // `progress` on PROCESSING is deprecated (processors before MSG_EXTRACT_SNAPSHOT_PROGRESS) but still applied.
        const fraction = event.payload.progress?.fraction;
        return fraction === undefined ? {} : { progress: raise(videos.progress, fraction) };
      }
      case "MSG_EXTRACT_SNAPSHOT_PROGRESS":
        return {
          progress: raise(videos.progress, event.payload.fraction),
          imagesSoFar: raise(videos.imagesSoFar, event.payload.imagesSoFar),
        };
      case "MSG_EXTRACT_SNAPSHOT_SUCCESS": {
        const p = event.payload;
        const archive = parseS3Uri(p.archiveUri);
        const manifest = parseS3Uri(p.manifestUri);
        if (archive.bucket !== deps.config.imagesBucket || manifest.bucket !== deps.config.imagesBucket) {
          deps.log.warn("processor wrote outside IMAGES_BUCKET", { videoId: p.videoId, archiveBucket: archive.bucket });
        }
        return {
          archiveKey: archive.key,
          manifestKey: manifest.key,
          imageCount: p.imageCount,
          zipSizeBytes: p.zipSizeBytes,
          durationSeconds: p.source.durationSeconds,
          progress: 1,
          imagesSoFar: p.imageCount,
          errorMessage: null,
          errorDescription: null,
          warnings: p.warnings && p.warnings.length > 0 ? p.warnings : null,
        };
      }
      case "MSG_EXTRACT_SNAPSHOT_ERROR":
        return { errorMessage: event.payload.errorMessage, errorDescription: event.payload.errorDescription };
    }
  },
  errorEvent: (ref, errorMessage, errorDescription, opts = {}) =>
    extractSnapshotErrorMessage(
      {
        videoId: ref.id,
        userId: ref.userId,
        attempt: ref.attempt,
        ...jobErrorFields(errorMessage, errorDescription, opts),
      },
      API_SERVICE,
    ),
  leaseExpiredDescription: (recoveries) =>
    `The image processor stopped reporting on this video ${recoveries + 1} time(s) in a row` +
    ` (${recoveries} automatic restart(s)); the extraction was stopped. Retry the video to start again.`,
  storageScopes: (ref, config) => extractStorageScopes({ userId: ref.userId, videoId: ref.id, attempt: ref.attempt }, config),
  timeoutSeconds: (config) => config.jobTimeoutSeconds,
  outputs: {
    bucket: (config) => config.imagesBucket,
    keys: (ref) => [archiveObjectKey(ref.userId, ref.id, ref.attempt), manifestObjectKey(ref.userId, ref.id, ref.attempt)],
    prefix: (ref) => `users/${ref.userId}/videos/${ref.id}/`,
    ofEvent: (event) => (event.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" ? [event.payload.archiveUri, event.payload.manifestUri] : []),
  },
  async notify(deps, row) {
    await sendOutcomeEmail(deps, row);
    await enqueueVideoWebhooks(deps, row);
  },
};
