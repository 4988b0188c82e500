/**
 * Creates a transcode of a video (`POST /v1/videos/{id}/transcodes`, or `transcode` in `POST /v1/videos`).
 *
 * Rules (docs/architecture.md "Transcodes"):
 * - Allowed in any status of the video once it exists. Before the upload is completed the transcode waits
 *   in TRANSCODE_PENDING and the video's `complete` queues it (./start-pending-transcodes.ts); after that
 *   it is queued at once (attempt 1). A failed queue send answers 503 and leaves it PENDING: the next
 *   `complete` call of the video (idempotent) starts it.
 * - At most {@link MAX_ACTIVE_TRANSCODES_PER_VIDEO} transcodes of one video pending, queued or processing
 *   at once (409 `conflict`): one decode feeds every rendition of a transcode, so more renditions belong in
 *   one request rather than in many parallel jobs.
 * - The request was validated by the route (schema/transcode-options.ts); the processor validates it again
 *   and checks what depends on the source (heights above it, trims past its end).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Transcode } from "../../../../schema/api.ts";
import { transcodes } from "../../../../schema/db.ts";
import type { TranscodeRequest } from "../../../../schema/transcode-options.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { SOURCE_NOT_STORED, T_PENDING, T_PROCESSING, T_QUEUED } from "../../lifecycle/statuses.ts";
import { createdEvent } from "../../lifecycle/timeline.ts";
import { transcodeJob } from "../../lifecycle/transcode-job.ts";
import { queueAttempt, QueueSendError } from "../../lifecycle/transitions.ts";
import { getVideoRow } from "../videos/get-video.ts";
import type { VideoRow } from "../videos/serialize.ts";
import { toTranscode, type TranscodeRow } from "./serialize.ts";

/** Transcodes of one video that may be pending, queued or processing at once. */
export const MAX_ACTIVE_TRANSCODES_PER_VIDEO = 5;

/**
 * Inserts a TRANSCODE_PENDING row (attempt 0) for `video`; used by both creation paths.
 * @returns the new row
 */
export async function insertTranscode(deps: Deps, video: Pick<VideoRow, "id" | "userId">, request: TranscodeRequest, now = new Date()): Promise<TranscodeRow> {
  const id = crypto.randomUUID();
  const [[row]] = await deps.db.batch([
    deps.db
      .insert(transcodes)
      .values({
        id,
        userId: video.userId,
        videoId: video.id,
        status: T_PENDING,
        request,
        attempt: 0,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
    createdEvent(deps, { userId: video.userId, videoId: video.id, jobKind: "transcode", jobId: id, status: T_PENDING, attempt: 0 }, { source: "user" }, now),
  ]);
  return row!;
}

/**
 * Queues attempt 1 of a PENDING transcode.
 * @returns the queued row, or the row unchanged when something else queued it first
 * @throws QueueSendError when the send failed (the row is back to PENDING)
 */
export async function startTranscode(deps: Deps, row: TranscodeRow): Promise<TranscodeRow> {
  return (await queueAttempt(deps, transcodeJob, row, "start")) ?? row;
}

/**
 * @param request validated TranscodeRequest
 * @returns the transcode: TRANSCODE_PENDING while the video's source is not stored (upload not completed, import
 *   not done), else TRANSCODE_QUEUED
 * @throws ProblemError `not-found` (404, no such video for this user), `conflict` (409, too many active
 *   transcodes of the video), `service-unavailable` (503, the queue send failed)
 */
export async function createTranscode(deps: Deps, userId: string, videoId: string, request: TranscodeRequest): Promise<Transcode> {
  const video = await getVideoRow(deps, userId, videoId);
  const [active] = await deps.db
    .select({ n: sql<number>`count(*)` })
    .from(transcodes)
    .where(and(eq(transcodes.videoId, video.id), eq(transcodes.userId, userId), inArray(transcodes.status, [T_PENDING, T_QUEUED, T_PROCESSING])));
  if (Number(active?.n ?? 0) >= MAX_ACTIVE_TRANSCODES_PER_VIDEO) {
    throw new ProblemError(
      "conflict",
      `This video already has ${MAX_ACTIVE_TRANSCODES_PER_VIDEO} transcodes waiting or running; wait for one to end (or put more renditions in one transcode).`,
    );
  }
  let row = await insertTranscode(deps, video, request);
  deps.log.info("transcode created", { videoId, transcodeId: row.id, renditions: request.renditions.length });
  // The upload may have been completed between the read above and the insert: read the status again, so a
  // transcode is never left PENDING behind a `complete` that did not see it.
  const waits = (status: string) => SOURCE_NOT_STORED.includes(status as (typeof SOURCE_NOT_STORED)[number]);
  const current = waits(video.status) ? await getVideoRow(deps, userId, videoId) : video;
  if (!waits(current.status)) {
    try {
      row = await startTranscode(deps, row);
    } catch (err) {
      if (!(err instanceof QueueSendError)) throw err;
      throw new ProblemError("service-unavailable", "The job queue is unavailable; the transcode waits (TRANSCODE_PENDING): complete the video again shortly to start it.", {
        headers: { "retry-after": "5" },
        cause: err,
      });
    }
  }
  return toTranscode(deps, row, video.filename, deps.config.downloadUrlTtlSeconds);
}
