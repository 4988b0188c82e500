/**
 * The transcode job kind: renditions of a video (schema/transcode-options.ts), one `transcodes` row per
 * transcode. Job message MSG_TRANSCODE on vidsnap-transcode, events MSG_TRANSCODE_PROCESSING / _PROGRESS /
 * _SUCCESS / _ERROR on the shared vidsnap-events queue (the events consumer routes on the envelope type),
 * outputs in VIDEOS_BUCKET under `transcodeAttemptPrefix` (files and HLS segments, deleted by listing),
 * outcome notified by email (MSG_SEND_TRANSCODE_*) and webhooks (`transcode.ready` / `transcode.failed`).
 *
 * A transcode asked before its video's upload was completed starts TRANSCODE_PENDING, and the video's
 * `complete` queues it (services/transcodes/start-pending-transcodes.ts).
 */
import { sql } from "drizzle-orm";
import { transcodes } from "../../../schema/db.ts";
import {
  API_SERVICE,
  TranscodeEvent,
  transcodeErrorMessage,
  TranscodeMessage,
  transcodeMessage,
  type TranscodeOutput,
} from "../../../schema/messages/index.ts";
import { parseS3Uri, transcodeAttemptPrefix, transcodePrefix } from "../../../schema/object-keys.ts";
import { transcodeStorageScopes } from "../../../schema/storage-credentials.ts";
import { TranscodeRequest } from "../../../schema/transcode-options.ts";
import { jobErrorFields } from "../../../schema/messages/job-error.ts";
import type { Deps } from "../context.ts";
import { sendTranscodeEmail } from "../services/transcodes/send-transcode-email.ts";
import type { TranscodeRow } from "../services/transcodes/serialize.ts";
import { enqueueTranscodeWebhooks } from "../services/webhooks/enqueue-transcode-event.ts";
import type { AttemptRef, ColumnValues, EventPhase, JobKind } from "./job-kind.ts";
import { T_ERROR, T_PENDING, T_PROCESSING, T_QUEUED, T_SUCCESS } from "./statuses.ts";

const PHASES: Record<TranscodeEvent["type"], EventPhase> = {
  MSG_TRANSCODE_PROCESSING: "processing",
  MSG_TRANSCODE_PROGRESS: "progress",
  MSG_TRANSCODE_SUCCESS: "success",
  MSG_TRANSCODE_ERROR: "error",
};

/**
 * The video a transcode ref belongs to: `parentId` of refs built from messages, `videoId` of a `transcodes`
 * row used as a ref (the lease sweep).
 * @throws Error when the ref has neither (a bug: every transcode ref names its video)
 */
function videoOf(ref: Pick<AttemptRef, "parentId"> & { videoId?: string }): string {
  const videoId = ref.parentId ?? ref.videoId;
  if (!videoId) throw new Error("transcode reference without its video id");
  return videoId;
}

/**
 * The outputs of a SUCCESS that lie where this attempt may write (VIDEOS_BUCKET, under its attempt prefix);
 * others are logged and left out, so the API never presigns an object outside the transcode.
 */
function ownOutputs(deps: Deps, event: Extract<TranscodeEvent, { type: "MSG_TRANSCODE_SUCCESS" }>): TranscodeOutput[] {
  const p = event.payload;
  const prefix = transcodeAttemptPrefix(p.userId, p.videoId, p.transcodeId, p.attempt);
  return p.outputs.filter((o) => {
    const { bucket, key } = parseS3Uri(o.uri);
    const own = bucket === deps.config.videosBucket && key.startsWith(prefix) && !key.includes("..");
    if (!own) deps.log.warn("processor reported an output outside the transcode's prefix; left out", { transcodeId: p.transcodeId, bucket });
    return own;
  });
}

export const transcodeJob: JobKind<TranscodeRow, TranscodeEvent, TranscodeMessage> = {
  name: "transcode",
  table: transcodes,
  timeline: { jobKind: "transcode", videoId: transcodes.videoId, jobId: transcodes.id },
  statuses: { start: T_PENDING, queued: T_QUEUED, processing: T_PROCESSING, success: T_SUCCESS, error: T_ERROR },
  attemptColumns: {
    progress: null,
    speed: null,
    etaSeconds: null,
    outputs: null,
    sourceDurationSeconds: null,
    elapsedSeconds: null,
    errorMessage: null,
    errorDescription: null,
  },
  schemas: { job: TranscodeMessage, event: TranscodeEvent },
  queue: (env) => env.TRANSCODE_QUEUE,
  jobMessage: (row) =>
    transcodeMessage({
      transcodeId: row.id,
      videoId: row.videoId,
      userId: row.userId,
      attempt: row.attempt,
      transcode: TranscodeRequest.parse(row.request),
    }),
  jobRef: (job) => ({ id: job.payload.transcodeId, userId: job.payload.userId, attempt: job.payload.attempt, parentId: job.payload.videoId }),
  eventQueue: (env) => env.EVENTS_QUEUE,
  eventRef: (event) => ({
    id: event.payload.transcodeId,
    userId: event.payload.userId,
    attempt: event.payload.attempt,
    parentId: event.payload.videoId,
  }),
  eventPhase: (event) => PHASES[event.type],
  eventNote: (event) => ({ sender: event.sender, message: event.type === "MSG_TRANSCODE_ERROR" ? event.payload.errorMessage : null }),
  eventRetryable: (event) => event.type === "MSG_TRANSCODE_ERROR" && event.payload.retryable === true,
  eventColumns(deps, event, _now): ColumnValues {
    switch (event.type) {
      case "MSG_TRANSCODE_PROCESSING":
        return {};
      case "MSG_TRANSCODE_PROGRESS": {
        const p = event.payload;
        // Events may arrive out of order: progress never goes down, and speed/ETA come from the newest fraction only.
        const newest = sql`${p.fraction} >= coalesce(${transcodes.progress}, 0)`;
        return {
          progress: sql`max(coalesce(${transcodes.progress}, 0), ${p.fraction})`,
          speed: sql`CASE WHEN ${newest} THEN ${p.speed} ELSE ${transcodes.speed} END`,
          etaSeconds: sql`CASE WHEN ${newest} THEN ${p.etaSeconds} ELSE ${transcodes.etaSeconds} END`,
        };
      }
      case "MSG_TRANSCODE_SUCCESS": {
        const p = event.payload;
        return {
          outputs: ownOutputs(deps, event),
          progress: 1,
          speed: p.speed,
          etaSeconds: null,
          sourceDurationSeconds: p.source.durationSeconds,
          elapsedSeconds: p.elapsedSeconds,
          errorMessage: null,
          errorDescription: null,
        };
      }
      case "MSG_TRANSCODE_ERROR":
        return { errorMessage: event.payload.errorMessage, errorDescription: event.payload.errorDescription, etaSeconds: null };
    }
  },
  errorEvent: (ref, errorMessage, errorDescription, opts = {}) =>
    transcodeErrorMessage(
      {
        transcodeId: ref.id,
        videoId: videoOf(ref),
        userId: ref.userId,
        attempt: ref.attempt,
        ...jobErrorFields(errorMessage, errorDescription, opts),
      },
      API_SERVICE,
    ),
  leaseExpiredDescription: (recoveries) =>
    `The processor stopped reporting on this transcode ${recoveries + 1} time(s) in a row` +
    ` (${recoveries} automatic restart(s)); the transcode was stopped. Retry it to start again.`,
  storageScopes: (ref, config) => transcodeStorageScopes({ userId: ref.userId, videoId: videoOf(ref), transcodeId: ref.id, attempt: ref.attempt }, config),
  timeoutSeconds: (config) => config.transcodeTimeoutSeconds,
  outputs: {
    bucket: (config) => config.videosBucket,
    // Keys are not known in advance (HLS segments): everything lies under the attempt prefix.
    keys: () => [],
    prefix: (ref) => transcodePrefix(ref.userId, videoOf(ref), ref.id),
    ofEvent: (event) => (event.type === "MSG_TRANSCODE_SUCCESS" ? event.payload.outputs.map((o) => o.uri) : []),
    attemptPrefix: (ref) => transcodeAttemptPrefix(ref.userId, videoOf(ref), ref.id, ref.attempt),
  },
  async notify(deps, row) {
    await sendTranscodeEmail(deps, row);
    await enqueueTranscodeWebhooks(deps, row);
  },
};
