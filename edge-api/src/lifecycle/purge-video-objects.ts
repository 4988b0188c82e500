/**
 * Removes the stored objects of videos whose records are gone (deleted by their owner, or expired
 * uploads), driven by the `video_deletions` rows (schema/db.ts) written in the same D1 batch as the
 * record's deletion.
 *
 * Rules:
 * - A video owns (schema/object-keys.ts): its source in VIDEOS_BUCKET, and the archive and manifest of
 *   every attempt 1..attempt in IMAGES_BUCKET (keys depend only on user, video and attempt), plus the
 *   keys stored on the record when a processor reported others, plus every object of its transcodes
 *   (VIDEOS_BUCKET, under `users/{u}/videos/{v}/transcodes/`, listed) and every image on demand
 *   (IMAGES_BUCKET, under `users/{u}/videos/{v}/images/`, listed).
 * - A multipart upload never completed (`upload_id` still set) is aborted first (AbortMultipartUpload,
 *   idempotent: `NoSuchUpload` counts as done), so its parts do not linger in the bucket.
 * - S3 DELETE is idempotent (204 for a missing key; a 404 counts as deleted), so purging twice is safe.
 * - A `video_deletions` row is removed only when every object of its video is gone; otherwise its
 *   `purge_failures` rises and the cron sweep ({@link sweepVideoDeletions}) tries again later.
 * - At most {@link DELETE_CONCURRENCY} storage requests at once (Workers allow 6 open connections).
 */
import { and, asc, inArray, lt, sql, type SQL } from "drizzle-orm";
import { videoDeletions, videos } from "../../../schema/db.ts";
import { sourceObjectKey, videoImagesPrefix, videoTranscodesPrefix } from "../../../schema/object-keys.ts";
import type { Deps } from "../context.ts";
import type { Config } from "../env.ts";
import { errorFields } from "../../../runtime/log.ts";
import { extractJob } from "./extract-job.ts";

/** Storage requests in flight at once while purging. */
export const DELETE_CONCURRENCY = 6;
/** Most `video_deletions` rows one sweep handles (bounded work per cron run). */
export const SWEEP_BATCH_SIZE = 100;
/** A `video_deletions` row younger than this is left to the request that wrote it, seconds. */
export const SWEEP_MIN_AGE_SECONDS = 60;
/** Ids per `IN (...)` list: D1 allows 100 bound parameters per query. */
const IDS_PER_QUERY = 90;

/**
 * The INSERT … SELECT that records, for every `videos` row matching `where`, a `video_deletions` row listing
 * what to purge. Run it in the same D1 batch as the DELETE of those records, so both happen or neither.
 * @param where the records about to be deleted (same condition as the DELETE)
 * @param reason `deleted` (by the owner) or `expired` (stale upload)
 * @param now time of the deletion
 */
export function recordVideoDeletions(deps: Deps, where: SQL | undefined, reason: "deleted" | "expired", now: Date) {
  return deps.db
    .insert(videoDeletions)
    .select(
      deps.db
        .select({
          videoId: videos.id,
          userId: videos.userId,
          attempt: videos.attempt,
          sourceKey: videos.sourceKey,
          archiveKey: videos.archiveKey,
          manifestKey: videos.manifestKey,
          uploadId: videos.uploadId,
          reason: sql<typeof reason>`${reason}`.as("reason"),
          purgeFailures: sql<number>`0`.as("purge_failures"),
          createdAt: sql<Date>`${now.getTime()}`.as("created_at"),
        })
        .from(videos)
        .where(where),
    )
    .onConflictDoNothing();
}

/** One object in a bucket. */
export interface StoredObject {
  bucket: string;
  key: string;
}

/** What is needed to know every object of a video (a `videos` or `video_deletions` row). */
export interface VideoObjectsRef {
  videoId: string;
  userId: string;
  /** Last extraction attempt, 0 = never queued. */
  attempt: number;
  sourceKey: string;
  archiveKey?: string | null;
  manifestKey?: string | null;
  /** UploadId of a multipart upload of the source never completed (aborted by the purge). */
  uploadId?: string | null;
}

/**
 * Every object a video may own, without duplicates.
 * @param config bucket names
 * @param ref the video (attempt 0 = only the source)
 * @returns the source (VIDEOS_BUCKET) and, for each attempt 1..attempt, archive and manifest (IMAGES_BUCKET)
 */
export function videoObjects(config: Pick<Config, "videosBucket" | "imagesBucket">, ref: VideoObjectsRef): StoredObject[] {
  const keys = new Map<string, StoredObject>();
  const add = (bucket: string, key: string | null | undefined) => {
    if (key) keys.set(`${bucket}\u0000${key}`, { bucket, key });
  };
  add(config.videosBucket, ref.sourceKey);
  add(config.videosBucket, sourceObjectKey(ref.userId, ref.videoId));
  for (let attempt = 1; attempt <= ref.attempt; attempt++) {
    for (const key of extractJob.outputs.keys({ id: ref.videoId, userId: ref.userId, attempt })) add(config.imagesBucket, key);
  }
  add(config.imagesBucket, ref.archiveKey);
  add(config.imagesBucket, ref.manifestKey);
  return [...keys.values()];
}

/**
 * Deletes objects, {@link DELETE_CONCURRENCY} at a time; never throws.
 * @returns the objects that could not be deleted (each failure is logged with its key)
 */
export async function deleteObjects(deps: Deps, objects: readonly StoredObject[]): Promise<StoredObject[]> {
  const failed: StoredObject[] = [];
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const object = objects[next++]!;
      try {
        await deps.storage.deleteObject(object.bucket, object.key);
      } catch (err) {
        deps.log.warn("object delete failed", { bucket: object.bucket, key: object.key, ...errorFields(err) });
        failed.push(object);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, objects.length) }, worker));
  return failed;
}

/**
 * Deletes every object under `prefix` in `bucket` (listed with ListObjectsV2); never throws.
 * @returns the objects that could not be deleted; when the listing itself failed, one entry naming the
 *   prefix (logged)
 */
export async function deleteUnderPrefix(deps: Deps, bucket: string, prefix: string): Promise<StoredObject[]> {
  let keys: string[];
  try {
    keys = await deps.storage.listKeys(bucket, prefix);
  } catch (err) {
    deps.log.warn("object listing failed", { bucket, prefix, ...errorFields(err) });
    return [{ bucket, key: prefix }];
  }
  return deleteObjects(deps, keys.map((key) => ({ bucket, key })));
}

/**
 * Aborts the open multipart upload of a video's source, if it has one; never throws.
 * @returns false when the storage refused or did not answer (logged; the sweep retries)
 */
async function abortUpload(deps: Deps, ref: VideoObjectsRef): Promise<boolean> {
  if (!ref.uploadId) return true;
  try {
    await deps.storage.abortMultipartUpload(deps.config.videosBucket, ref.sourceKey, ref.uploadId);
    return true;
  } catch (err) {
    deps.log.warn("multipart upload abort failed", { videoId: ref.videoId, ...errorFields(err) });
    return false;
  }
}

/**
 * Deletes the objects of videos whose records are gone, then their `video_deletions` rows; rows of
 * videos with an object left get `purge_failures + 1` and stay for the next sweep.
 * @param refs videos whose `video_deletions` row exists (or none: removing a missing row is a no-op)
 * @returns how many videos were purged completely and how many kept an object
 * @throws Error on D1 failures (the objects deleted so far stay deleted; the rows stay for a retry)
 */
export async function purgeVideoObjects(
  deps: Deps,
  refs: readonly VideoObjectsRef[],
): Promise<{ purged: number; failed: number }> {
  const done: string[] = [];
  const failed: string[] = [];
  for (const ref of refs) {
    const aborted = await abortUpload(deps, ref);
    const left = await deleteObjects(deps, videoObjects(deps.config, ref));
    // Transcode outputs (HLS segments included) are not known one by one: listed under the video's prefix.
    left.push(...(await deleteUnderPrefix(deps, deps.config.videosBucket, videoTranscodesPrefix(ref.userId, ref.videoId))));
    // Images on demand: one object per distinct request, listed the same way (IMAGES_BUCKET).
    left.push(...(await deleteUnderPrefix(deps, deps.config.imagesBucket, videoImagesPrefix(ref.userId, ref.videoId))));
    if (aborted && left.length === 0) done.push(ref.videoId);
    else {
      failed.push(ref.videoId);
      deps.log.error("video objects not purged; the cron sweep retries", {
        videoId: ref.videoId,
        userId: ref.userId,
        keys: left.map((o) => `${o.bucket}/${o.key}`),
      });
    }
  }
  for (let i = 0; i < done.length; i += IDS_PER_QUERY) {
    await deps.db.delete(videoDeletions).where(inArray(videoDeletions.videoId, done.slice(i, i + IDS_PER_QUERY)));
  }
  for (let i = 0; i < failed.length; i += IDS_PER_QUERY) {
    await deps.db
      .update(videoDeletions)
      .set({ purgeFailures: sql`${videoDeletions.purgeFailures} + 1` })
      .where(inArray(videoDeletions.videoId, failed.slice(i, i + IDS_PER_QUERY)));
  }
  return { purged: done.length, failed: failed.length };
}

/**
 * Cron sweep: purges the objects of `video_deletions` rows left by an earlier failure (storage down,
 * Worker stopped mid-way), oldest first.
 * @param opts.now the run's time (the cron's `scheduledTime`)
 * @param opts.limit most rows handled in this run (default {@link SWEEP_BATCH_SIZE})
 * @param opts.minAgeSeconds skip rows younger than this, seconds (default {@link SWEEP_MIN_AGE_SECONDS}):
 *   their request is probably still purging them
 * @returns rows found, purged and still failing
 * @throws Error on D1 failures
 */
export async function sweepVideoDeletions(
  deps: Deps,
  opts: { now: Date; limit?: number; minAgeSeconds?: number },
): Promise<{ found: number; purged: number; failed: number }> {
  const cutoff = new Date(opts.now.getTime() - (opts.minAgeSeconds ?? SWEEP_MIN_AGE_SECONDS) * 1000);
  const rows = await deps.db
    .select()
    .from(videoDeletions)
    .where(and(lt(videoDeletions.createdAt, cutoff)))
    .orderBy(asc(videoDeletions.createdAt))
    .limit(opts.limit ?? SWEEP_BATCH_SIZE);
  if (rows.length === 0) return { found: 0, purged: 0, failed: 0 };
  const result = await purgeVideoObjects(deps, rows);
  deps.log.info("video deletions swept", { found: rows.length, ...result });
  return { found: rows.length, ...result };
}
