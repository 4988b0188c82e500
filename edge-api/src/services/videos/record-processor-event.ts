/**
 * The one path a processor event (MSG_EXTRACT_SNAPSHOT_PROCESSING / _SUCCESS / _ERROR) takes into the
 * system, shared by the events consumer, the extraction dead-letter consumer (edge-api/src/queues) and the
 * lease sweep's give-up (./leases.ts):
 *
 * 1. apply it to D1 through the state machine (./apply-processor-event.ts);
 * 2. when an attempt ends (or a terminal event is redelivered), queue the outcome email
 *    (./send-outcome-email.ts; the email service deduplicates on video, attempt and outcome);
 * 3. a SUCCESS for a video whose record no longer exists (deleted while processing) gets the archive and
 *    manifest it points to deleted, so nothing is orphaned in IMAGES_BUCKET. Only keys under that video's
 *    own prefix (`users/{userId}/videos/{videoId}/`, schema/object-keys.ts) are touched.
 */
import { eq } from "drizzle-orm";
import { videos } from "../../../../schema/db.ts";
import type { ExtractSnapshotEvent, ExtractSnapshotSuccessMessage } from "../../../../schema/messages/index.ts";
import { parseS3Reference } from "../../../../schema/object-keys.ts";
import type { Deps } from "../../context.ts";
import { StorageError } from "../../storage/s3.ts";
import { applyProcessorEvent, type ApplyOptions, type ApplyResult } from "./apply-processor-event.ts";
import { deleteObjects, type StoredObject } from "./purge-video-objects.ts";
import { sendOutcomeEmail } from "./send-outcome-email.ts";

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
  if (event.type !== "MSG_EXTRACT_SNAPSHOT_PROCESSING" && outcome.result !== "ignored") {
    await sendOutcomeEmail(deps, outcome.video);
  }
  if (event.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" && outcome.result === "ignored" && !outcome.video) {
    await discardOutputOfDeletedVideo(deps, event);
  }
  return outcome;
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
  for (const ref of [event.payload.videoSnapshotsUrl, event.payload.manifestUrl]) {
    const object = parseS3Reference(ref);
    if (object.bucket === deps.config.imagesBucket && object.key.startsWith(prefix)) objects.push(object);
    else deps.log.warn("late SUCCESS points outside the video's prefix; left alone", { videoId, bucket: object.bucket });
  }
  const left = await deleteObjects(deps, objects);
  if (left.length > 0) throw new StorageError(`${left.length} object(s) of deleted video ${videoId} not deleted`);
  deps.log.info("output of a deleted video removed", { videoId, userId, attempt, objects: objects.length });
}
