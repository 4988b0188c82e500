/**
 * The one path a processor event (MSG_EXTRACT_SNAPSHOT_PROCESSING / _PROGRESS / _SUCCESS / _ERROR) takes into the
 * system, shared by the events consumer, the extraction dead-letter consumer (edge-api/src/queues) and the
 * lease sweep's give-up (./leases.ts):
 *
 * 1. apply it to D1 through the state machine (./apply-processor-event.ts);
 * 2. when an attempt ends (or a terminal event is redelivered), queue the outcome email
 *    (./send-outcome-email.ts; the email service deduplicates on video, attempt and outcome);
 *    and the webhooks of the user's subscribed endpoints (../webhooks/enqueue-video-event.ts; deduplicated
 *    on endpoint, video, attempt and event type);
 * 3. a SUCCESS for a video whose record no longer exists (deleted while processing) gets the archive and
 *    manifest it points to deleted, so nothing is orphaned in IMAGES_BUCKET. Only keys under that video's
 *    own prefix (`users/{userId}/videos/{videoId}/`, schema/object-keys.ts) are touched;
 * 4. when attempt N ends, the archive and manifest keys of attempts 1..N-1 are deleted (best effort), and a
 *    late SUCCESS of an older attempt gets its own output deleted: an attempt superseded by the cron's
 *    recovery may have stored its ZIP before its processor died (found by `npm run chaos`: SIGKILL between
 *    the upload and the SUCCESS line left `attempts/1/images.zip` beside attempt 2's). No attempt before the
 *    current one can have succeeded (SUCCESS is final), so nothing a user can download is removed.
 */
import { eq } from "drizzle-orm";
import { videos } from "../../../../schema/db.ts";
import {
  isFinalExtractEvent,
  type ExtractSnapshotEvent,
  type ExtractSnapshotSuccessMessage,
} from "../../../../schema/messages/index.ts";
import { archiveObjectKey, manifestObjectKey, parseS3Uri } from "../../../../schema/object-keys.ts";
import type { Deps } from "../../context.ts";
import { StorageError } from "../../storage/s3.ts";
import { applyProcessorEvent, type ApplyOptions, type ApplyResult } from "./apply-processor-event.ts";
import { deleteObjects, type StoredObject } from "./purge-video-objects.ts";
import { sendOutcomeEmail } from "./send-outcome-email.ts";
import type { VideoRow } from "./serialize.ts";
import { enqueueVideoWebhooks } from "../webhooks/enqueue-video-event.ts";

/**
 * @param event a validated processor event
 * @param opts extra condition of the D1 update (./apply-processor-event.ts; used by the lease sweep)
 * @returns the state machine's result and the record after it (undefined when the video is gone)
 * @throws Error on D1, queue or storage failures (the caller retries the message; every step is idempotent)
 */
export async function recordProcessorEvent(
  deps: Deps,
  event: ExtractSnapshotEvent,
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  const outcome = await applyProcessorEvent(deps, event, opts);
  deps.log.info("processor event handled", { type: event.type, result: outcome.result, status: outcome.video?.status });
  if (isFinalExtractEvent(event.type) && outcome.result !== "ignored") {
    await sendOutcomeEmail(deps, outcome.video);
    await enqueueVideoWebhooks(deps, outcome.video);
  }
  if (event.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" && outcome.result === "ignored" && !outcome.video) {
    await discardOutputOfDeletedVideo(deps, event);
  }
  if (isFinalExtractEvent(event.type) && outcome.video) {
    const { attempt } = event.payload;
    if (outcome.result !== "ignored" && attempt > 1) await discardSupersededAttempts(deps, outcome.video, 1, attempt - 1);
    else if (outcome.result === "ignored" && event.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" && attempt < outcome.video.attempt) {
      await discardSupersededAttempts(deps, outcome.video, attempt, attempt);
    }
  }
  return outcome;
}

/**
 * Deletes the archive and manifest keys of attempts `from..to` of `video` (all older than its current
 * attempt), in IMAGES_BUCKET under the video's own prefix. Best effort: objects that could not be deleted
 * are logged and left to the video's deletion, which purges every attempt 1..attempt.
 */
async function discardSupersededAttempts(deps: Deps, video: VideoRow, from: number, to: number): Promise<void> {
  if (to >= video.attempt) return; // never the current attempt
  const objects: StoredObject[] = [];
  for (let attempt = Math.max(1, from); attempt <= to; attempt++) {
    objects.push({ bucket: deps.config.imagesBucket, key: archiveObjectKey(video.userId, video.id, attempt) });
    objects.push({ bucket: deps.config.imagesBucket, key: manifestObjectKey(video.userId, video.id, attempt) });
  }
  const left = await deleteObjects(deps, objects);
  if (left.length > 0) deps.log.warn("output of superseded attempts not deleted", { videoId: video.id, left: left.length });
}

/**
 * Deletes the archive and manifest a SUCCESS event points to when no record of its video exists at all
 * (under any user). References outside IMAGES_BUCKET or outside the video's prefix are left alone.
 * @throws StorageError when an object could not be deleted (the caller retries the message)
 */
async function discardOutputOfDeletedVideo(deps: Deps, event: ExtractSnapshotSuccessMessage): Promise<void> {
  const { videoId, userId, attempt } = event.payload;
  const [exists] = await deps.db.select({ id: videos.id }).from(videos).where(eq(videos.id, videoId)).limit(1);
  if (exists) return;
  const prefix = `users/${userId}/videos/${videoId}/`;
  const objects: StoredObject[] = [];
  for (const ref of [event.payload.archiveUri, event.payload.manifestUri]) {
    const object = parseS3Uri(ref);
    if (object.bucket === deps.config.imagesBucket && object.key.startsWith(prefix)) objects.push(object);
    else deps.log.warn("late SUCCESS points outside the video's prefix; left alone", { videoId, bucket: object.bucket });
  }
  const left = await deleteObjects(deps, objects);
  if (left.length > 0) throw new StorageError(`${left.length} object(s) of deleted video ${videoId} not deleted`);
  deps.log.info("output of a deleted video removed", { videoId, userId, attempt, objects: objects.length });
}
