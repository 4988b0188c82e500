/**
 * Maps a `videos` row to the API's `Video` (schema/api.ts): epoch-ms times become ISO strings, the
 * options JSON is validated, internal keys (source/archive/manifest) stay private.
 */
import type { Video } from "../../../../schema/api.ts";
import type { videos } from "../../../../schema/db.ts";
import { ExtractionOptions } from "../../../../schema/extraction-options.ts";

export type VideoRow = typeof videos.$inferSelect;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** @throws ZodError when the stored options are not valid ExtractionOptions (data corruption). */
export function toVideo(row: VideoRow): Video {
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.contentType,
    sizeBytes: row.sizeBytes,
    status: row.status,
    options: ExtractionOptions.parse(row.options),
    attempt: row.attempt,
    progress: row.progress,
    imagesSoFar: row.imagesSoFar,
    imageCount: row.imageCount,
    zipSizeBytes: row.zipSizeBytes,
    durationSeconds: row.durationSeconds,
    errorMessage: row.errorMessage,
    errorDescription: row.errorDescription,
    sourceUrl: row.sourceUrl,
    importedBytes: row.importedBytes,
    importTotalBytes: row.importTotalBytes,
    ...(row.warnings && row.warnings.length > 0 ? { warnings: row.warnings } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    queuedAt: iso(row.queuedAt),
    processingStartedAt: iso(row.processingStartedAt),
    completedAt: iso(row.completedAt),
    estimatedCompletionAt: iso(row.estimatedCompletionAt),
  };
}
