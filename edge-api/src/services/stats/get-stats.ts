/**
 * `GET /v1/stats` for one user, from the `videos` table (deleted videos are gone from it, so they are
 * not counted):
 * - videos by status (every status present, 0 when none) and their total;
 * - success rate = SUCCESS / (SUCCESS + ERROR), null when no video finished;
 * - processing time of succeeded videos = completed_at − processing_started_at (the processor's work,
 *   excluding queue wait; `processing_started_at` is set by the first PROCESSING event of the video), median
 *   and p95 by nearest rank (the value at rank ⌈p·n⌉ of the sorted durations). D1 has no percentile
 *   function, so the durations of the latest {@link MAX_DURATION_SAMPLES} succeeded videos are read (one
 *   number each) and sorted here;
 * - images produced = sum of image_count of succeeded videos;
 * - bytes stored = size of every uploaded video (status past VIDEO_UPLOAD_PENDING: the upload was verified)
 *   + ZIP size of every succeeded video's archive (only SUCCESS has an archive: a retry starts from ERROR).
 * - transcodes by status (every status present) and their total, from the `transcodes` table.
 * Three queries, all on the user's rows only.
 */
import { and, desc, eq, isNotNull, sql } from "drizzle-orm";
import type { Stats } from "../../../../schema/api.ts";
import { transcodes, videos } from "../../../../schema/db.ts";
import { TranscodeStatus } from "../../../../schema/transcode-status.ts";
import { VideoStatus } from "../../../../schema/video-status.ts";
import type { Deps } from "../../context.ts";
import { ERROR, SUCCESS } from "../../lifecycle/statuses.ts";

/** Most succeeded videos whose durations are read for the percentiles (latest first). */
export const MAX_DURATION_SAMPLES = 10_000;

/**
 * Nearest-rank percentile of ascending `sorted` values.
 * @param p 0 < p ≤ 1 (0.5 = median, 0.95 = p95)
 * @returns the value at rank ⌈p·n⌉, or null for no values
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/** @returns the user's statistics (schema/api.ts `Stats`) */
export async function getStats(deps: Deps, userId: string): Promise<Stats> {
  const [groups, samples, transcodeGroups] = await Promise.all([
    deps.db
      .select({
        status: videos.status,
        count: sql<number>`count(*)`,
        images: sql<number>`coalesce(sum(${videos.imageCount}), 0)`,
        videoBytes: sql<number>`coalesce(sum(${videos.sizeBytes}), 0)`,
        zipBytes: sql<number>`coalesce(sum(${videos.zipSizeBytes}), 0)`,
      })
      .from(videos)
      .where(eq(videos.userId, userId))
      .groupBy(videos.status),
    deps.db
      .select({ ms: sql<number>`${videos.completedAt} - ${videos.processingStartedAt}` })
      .from(videos)
      .where(
        and(
          eq(videos.userId, userId),
          eq(videos.status, SUCCESS),
          isNotNull(videos.processingStartedAt),
          isNotNull(videos.completedAt),
        ),
      )
      .orderBy(desc(videos.completedAt))
      .limit(MAX_DURATION_SAMPLES),
    deps.db
      .select({ status: transcodes.status, count: sql<number>`count(*)` })
      .from(transcodes)
      .where(eq(transcodes.userId, userId))
      .groupBy(transcodes.status),
  ]);
  const transcodesByStatus = Object.fromEntries(TranscodeStatus.options.map((s) => [s, 0])) as Stats["transcodesByStatus"];
  for (const g of transcodeGroups) if (g.status in transcodesByStatus) transcodesByStatus[g.status] = Number(g.count);

  const byStatus = Object.fromEntries(VideoStatus.options.map((s) => [s, 0])) as Stats["videosByStatus"];
  let imagesProduced = 0;
  let videoBytes = 0;
  let archiveBytes = 0;
  for (const g of groups) {
    if (!(g.status in byStatus)) continue;
    byStatus[g.status] = Number(g.count);
    if (g.status !== "VIDEO_UPLOAD_PENDING") videoBytes += Number(g.videoBytes);
    if (g.status === SUCCESS) {
      imagesProduced += Number(g.images);
      archiveBytes += Number(g.zipBytes);
    }
  }
  const finished = byStatus[SUCCESS] + byStatus[ERROR];
  const seconds = samples.map((s) => Math.max(0, Number(s.ms)) / 1000).sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return {
    videosByStatus: byStatus,
    totalVideos: Object.values(byStatus).reduce((a, b) => a + b, 0),
    successRate: finished === 0 ? null : byStatus[SUCCESS] / finished,
    processingSeconds: {
      median: round(nearestRank(seconds, 0.5)),
      p95: round(nearestRank(seconds, 0.95)),
      sampleSize: seconds.length,
    },
    imagesProduced,
    transcodesByStatus,
    totalTranscodes: Object.values(transcodesByStatus).reduce((a, b) => a + b, 0),
    bytesStored: { videos: videoBytes, archives: archiveBytes, total: videoBytes + archiveBytes },
  };
}
