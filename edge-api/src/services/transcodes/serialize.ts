/**
 * Maps a `transcodes` row to the API's `Transcode` (schema/api.ts): epoch-ms times become ISO strings,
 * the request JSON is validated, object keys stay private, and each stored output gets a link: a presigned
 * GET for MP4/WebM files (download name `<video name>-<rendition>.<ext>`), the tokenized playlist URL for
 * HLS (./playback.ts). Links live `ttlSeconds` (≤ 7 days, the presign limit).
 */
import type { Transcode, TranscodeOutputView } from "../../../../schema/api.ts";
import type { transcodes } from "../../../../schema/db.ts";
import { parseS3Uri } from "../../../../schema/object-keys.ts";
import { TranscodeRequest } from "../../../../schema/transcode-options.ts";
import type { Deps } from "../../context.ts";
import { T_SUCCESS } from "../../lifecycle/statuses.ts";
import { renditionContentDisposition } from "../../storage/s3.ts";
import { makePlaybackToken, masterPlaylistUrl, variantOfKey, variantPlaylistUrl } from "./playback.ts";

export type TranscodeRow = typeof transcodes.$inferSelect;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/**
 * @param filename the video's file name (download names)
 * @param ttlSeconds lifetime of the links, seconds
 * @returns the transcode as the API shows it; `outputs` empty unless TRANSCODE_SUCCESS
 * @throws ZodError when the stored request is not a valid TranscodeRequest (data corruption)
 */
export async function toTranscode(deps: Deps, row: TranscodeRow, filename: string, ttlSeconds: number): Promise<Transcode> {
  const outputs: TranscodeOutputView[] = [];
  let playbackUrl: string | null = null;
  if (row.status === T_SUCCESS && row.outputs) {
    const scope = { videoId: row.videoId, transcodeId: row.id, attempt: row.attempt };
    const needsToken = row.outputs.some((o) => o.format === "hls");
    const token = needsToken ? await makePlaybackToken(deps, scope, ttlSeconds) : undefined;
    for (const o of row.outputs) {
      const { bucket, key } = parseS3Uri(o.uri);
      let url: string;
      let expiresAt: string;
      if (o.format === "hls") {
        const variant = variantOfKey(key);
        url = variant
          ? variantPlaylistUrl(deps.config.publicBaseUrl, scope, variant, token!.token)
          : masterPlaylistUrl(deps.config.publicBaseUrl, scope, token!.token);
        expiresAt = new Date(token!.expiresAt * 1000).toISOString();
        if (!variant) playbackUrl = url;
      } else {
        const signed = await deps.storage.presignGet({
          bucket,
          key,
          ttlSeconds,
          contentDisposition: renditionContentDisposition(filename, o.rendition, o.format),
        });
        url = signed.url;
        expiresAt = signed.expiresAt;
      }
      outputs.push({
        rendition: o.rendition,
        format: o.format,
        contentType: o.contentType,
        sizeBytes: o.sizeBytes,
        width: o.width,
        height: o.height,
        durationSeconds: o.durationSeconds,
        bitrateKbps: o.bitrateKbps,
        hasAudio: o.hasAudio,
        url,
        expiresAt,
      });
    }
  }
  return {
    id: row.id,
    videoId: row.videoId,
    status: row.status,
    request: TranscodeRequest.parse(row.request),
    attempt: row.attempt,
    progress: row.progress,
    speed: row.speed,
    etaSeconds: row.etaSeconds,
    outputs,
    playbackUrl,
    sourceDurationSeconds: row.sourceDurationSeconds,
    elapsedSeconds: row.elapsedSeconds,
    errorMessage: row.errorMessage,
    errorDescription: row.errorDescription,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    queuedAt: iso(row.queuedAt),
    processingStartedAt: iso(row.processingStartedAt),
    completedAt: iso(row.completedAt),
  };
}
