/**
 * Applies one processor event (MSG_EXTRACT_SNAPSHOT_PROCESSING / _PROGRESS / _SUCCESS / _ERROR) to its
 * video with a conditional D1 update keyed by (id, user_id, attempt) and the statuses of ./state-machine.ts.
 *
 * - PROCESSING (start, heartbeat): from QUEUED/PROCESSING of the same attempt; sets processing_started_at
 *   once (and progress when a legacy processor sent one); renews the attempt's lease to now +
 *   PROCESSING_LEASE_SECONDS (./leases.ts).
 * - PROGRESS: the same (it may arrive before PROCESSING: queue order is not guaranteed), plus progress and
 *   images_so_far, each never lowered (max with the stored value).
 * - SUCCESS / ERROR clear the lease (the attempt is over).
 * - SUCCESS: stores the archive and manifest keys (from the `s3://` references), image count, ZIP size,
 *   duration; progress = 1, completed_at.
 * - ERROR: stores error_message / error_description, completed_at.
 * - An event of another attempt, or arriving after its attempt ended, changes nothing (`ignored`).
 * - A terminal event the record already reflects is `redelivered` (the caller re-sends the email).
 */
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { videos } from "../../../../schema/db.ts";
import type { ExtractSnapshotEvent } from "../../../../schema/messages/index.ts";
import { parseS3Uri } from "../../../../schema/object-keys.ts";
import type { Deps } from "../../context.ts";
import { processingLeaseExpiry } from "./lease-deadlines.ts";
import type { VideoRow } from "./serialize.ts";
import { decideEvent, EVENT_FROM, EVENT_TARGET } from "./state-machine.ts";

export type ApplyResult =
  | { result: "applied"; video: VideoRow }
  | { result: "redelivered"; video: VideoRow }
  | { result: "ignored"; video: VideoRow | undefined };

/** Extra condition of an event's update. */
export interface ApplyOptions {
  /**
   * Apply only while the attempt's lease expired before this time (the lease sweep's ERROR: a PROCESSING
   * event that renewed the lease meanwhile wins, and the ERROR is `ignored`).
   */
  leaseExpiredBefore?: Date;
}

/**
 * @param event a validated processor event
 * @param opts see {@link ApplyOptions}
 * @returns what happened and the record after it (undefined when the video no longer exists)
 * @throws Error on D1 failures or an `s3://` reference that does not parse (the caller retries)
 */
export async function applyProcessorEvent(
  deps: Deps,
  event: ExtractSnapshotEvent,
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  const { videoId, userId, attempt } = event.payload;
  const now = new Date();
  const where = and(
    eq(videos.id, videoId),
    eq(videos.userId, userId),
    eq(videos.attempt, attempt),
    inArray(videos.status, [...EVENT_FROM[event.type]]),
    opts.leaseExpiredBefore ? lt(videos.leaseExpiresAt, opts.leaseExpiredBefore) : undefined,
  );
  const common = {
    status: EVENT_TARGET[event.type],
    updatedAt: now,
    processingStartedAt: sql`coalesce(${videos.processingStartedAt}, ${now.getTime()})`,
  };

  let updated: VideoRow[];
  switch (event.type) {
    case "MSG_EXTRACT_SNAPSHOT_PROCESSING": {
      const fraction = event.payload.progress?.fraction;
      updated = await deps.db
        .update(videos)
        .set({
          ...common,
          leaseExpiresAt: processingLeaseExpiry(deps.config, now),
          ...(fraction === undefined ? {} : { progress: sql`max(coalesce(${videos.progress}, 0), ${fraction})` }),
        })
        .where(where)
        .returning();
      break;
    }
    case "MSG_EXTRACT_SNAPSHOT_PROGRESS": {
      const { fraction, imagesSoFar } = event.payload;
      updated = await deps.db
        .update(videos)
        .set({
          ...common,
          leaseExpiresAt: processingLeaseExpiry(deps.config, now),
          progress: sql`max(coalesce(${videos.progress}, 0), ${fraction})`,
          imagesSoFar: sql`max(coalesce(${videos.imagesSoFar}, 0), ${imagesSoFar})`,
        })
        .where(where)
        .returning();
      break;
    }
    case "MSG_EXTRACT_SNAPSHOT_SUCCESS": {
      const p = event.payload;
      const archive = parseS3Uri(p.archiveUri);
      const manifest = parseS3Uri(p.manifestUri);
      if (archive.bucket !== deps.config.imagesBucket || manifest.bucket !== deps.config.imagesBucket) {
        deps.log.warn("processor wrote outside IMAGES_BUCKET", { videoId, archiveBucket: archive.bucket });
      }
      updated = await deps.db
        .update(videos)
        .set({
          ...common,
          archiveKey: archive.key,
          manifestKey: manifest.key,
          imageCount: p.imageCount,
          zipSizeBytes: p.zipSizeBytes,
          durationSeconds: p.source.durationSeconds,
          progress: 1,
          imagesSoFar: p.imageCount,
          completedAt: now,
          leaseExpiresAt: null,
          errorMessage: null,
          errorDescription: null,
        })
        .where(where)
        .returning();
      break;
    }
    case "MSG_EXTRACT_SNAPSHOT_ERROR": {
      updated = await deps.db
        .update(videos)
        .set({
          ...common,
          errorMessage: event.payload.errorMessage,
          errorDescription: event.payload.errorDescription,
          completedAt: now,
          leaseExpiresAt: null,
        })
        .where(where)
        .returning();
      break;
    }
  }
  if (updated[0]) return { result: "applied", video: updated[0] };

  const [current] = await deps.db
    .select()
    .from(videos)
    .where(and(eq(videos.id, videoId), eq(videos.userId, userId)))
    .limit(1);
  const decision = decideEvent({ type: event.type, attempt }, current);
  if (decision === "redelivered" && current) return { result: "redelivered", video: current };
  return { result: "ignored", video: current };
}
