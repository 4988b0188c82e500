/**
 * The status changes of a generated video before its import (statuses in ./statuses.ts: G_PENDING, G_ERROR),
 * each one guarded update of the `videos` row through ./transitions.ts `updateJob` with its timeline event
 * (job kind `generation`) in the same batch. A generation is not a processor job: the generator runs
 * elsewhere, so there is no queue of attempts, lease or processor event, only these changes:
 * - {@link noteGenerationRequest}: a try of the signed request to the generator (status unchanged, source `api`);
 * - {@link failGeneration}: G_PENDING → G_ERROR (the generator's `failed`, the request's last try, the
 *   cron's timeout), then the error email;
 * - {@link startGeneratedImport}: G_PENDING → I_QUEUED with the generator's URL (its `ready`), then the
 *   import job kind (./import-job.ts) queued as after `POST /v1/videos` with `source: {url}`.
 * Every change holds only while the video is still G_PENDING at attempt 0, so a late or repeated callback,
 * a timeout racing a callback, or a request failing after the callback change nothing.
 */
import { errorFields } from "../../../runtime/log.ts";
import { videos } from "../../../schema/db.ts";
import type { TimelineSource } from "../../../schema/timeline.ts";
import type { Deps } from "../context.ts";
import { sendGenerationErrorEmail } from "../services/generations/send-generation-error-email.ts";
import type { VideoRow } from "../services/videos/serialize.ts";
import { enqueueVideoWebhooks } from "../services/webhooks/enqueue-video-event.ts";
import { importJob } from "./import-job.ts";
import type { RecordKind } from "./job-kind.ts";
import { G_ERROR, G_PENDING, I_QUEUED } from "./statuses.ts";
import { queueAttempt, updateJob } from "./transitions.ts";

/** A generation's changes land on its video's row, as timeline job kind `generation`. */
export const generationRecord: RecordKind = { table: videos, timeline: { jobKind: "generation", videoId: videos.id } };

/** The video of a generation (its id is the generation's). */
export interface GenerationRef {
  id: string;
  userId: string;
}

const PENDING_GUARD = { from: [G_PENDING], attempt: 0 };

/**
 * Records one try of the request to the generator in the timeline (status unchanged).
 * @returns whether the video was still pending (false: nothing recorded)
 */
export async function noteGenerationRequest(deps: Deps, ref: GenerationRef, message: string, now = new Date()): Promise<boolean> {
  const row = await updateJob<VideoRow>(deps, generationRecord, ref, PENDING_GUARD, { status: G_PENDING, updatedAt: now }, {
    source: "api",
    message,
    attempt: 0,
    always: true,
    now,
  });
  return row !== undefined;
}

/**
 * Ends a pending generation in G_ERROR and queues the error email and the `video.generation_failed` webhooks
 * (a failed send is logged, not thrown: the status change is what callers and retries rely on, and a repeated
 * call finds the video no longer pending).
 * @param errorMessage one sentence (also the timeline's message)
 * @param errorDescription detail: the generator's error, the last try's failure (bounded by the caller)
 * @returns the row in G_ERROR, or undefined when the video was no longer pending (nothing changed)
 */
export async function failGeneration(
  deps: Deps,
  ref: GenerationRef,
  fault: { source: TimelineSource; errorMessage: string; errorDescription: string },
  now = new Date(),
): Promise<VideoRow | undefined> {
  const row = await updateJob<VideoRow>(
    deps,
    generationRecord,
    ref,
    PENDING_GUARD,
    { status: G_ERROR, errorMessage: fault.errorMessage, errorDescription: fault.errorDescription, completedAt: now, updatedAt: now },
    { source: fault.source, message: fault.errorMessage, attempt: 0, now },
  );
  if (!row) return undefined;
  deps.log.info("generation failed", { videoId: ref.id, source: fault.source });
  try {
    await sendGenerationErrorEmail(deps, row);
  } catch (err) {
    deps.log.error("generation error email not queued", { videoId: ref.id, ...errorFields(err) });
  }
  try {
    await enqueueVideoWebhooks(deps, row);
  } catch (err) {
    deps.log.error("generation webhooks not queued", { videoId: ref.id, ...errorFields(err) });
  }
  return row;
}

/**
 * The generator's `ready`: the video becomes an import of `url` (checked by the caller with
 * runtime/outgoing-url.ts) and its first import attempt is queued.
 * @returns the row after queueing (I_QUEUED, attempt 1), or undefined when the video was no longer pending
 * @throws QueueSendError when the import's job message could not be sent: the row stays I_QUEUED at attempt 0,
 *   and {@link queueGeneratedImport} (a repeated callback) queues it again
 */
export async function startGeneratedImport(deps: Deps, ref: GenerationRef, url: string, now = new Date()): Promise<VideoRow | undefined> {
  const row = await updateJob<VideoRow>(
    deps,
    generationRecord,
    ref,
    PENDING_GUARD,
    { status: I_QUEUED, sourceUrl: url, updatedAt: now },
    { source: "generator", message: `The generator reported the video ready at ${new URL(url).host}.`, attempt: 0, now },
  );
  if (!row) return undefined;
  return queueGeneratedImport(deps, row, now);
}

/**
 * Queues the first import attempt of a generated video left I_QUEUED at attempt 0 (by {@link startGeneratedImport},
 * whose queue send failed, or just now).
 * @returns the queued row, or undefined when it changed meanwhile
 * @throws QueueSendError (row restored)
 */
export async function queueGeneratedImport(deps: Deps, row: VideoRow, now = new Date()): Promise<VideoRow | undefined> {
  return queueAttempt(deps, importJob, row, "start", now, { note: { source: "generator" } });
}
