/**
 * `vidsnap status <id> [--wait]`: the video's state; with `--wait`, polls with backoff (showing the
 * extraction progress on stderr) until the extraction succeeded or failed.
 */
import { FINAL_STATUSES, unwrap, waitForVideo, type Video, type VidsnapClient } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, formatBytes, printJson, say, shortStatus, usageError, type CliContext, type ExitCode } from "../context.ts";
import { createProgressBar } from "../progress.ts";

/**
 * Polls `GET /v1/videos/{id}` with backoff (250 ms × 1.5 up to 2 s) until a final status, drawing the
 * video's `progress` (0..1) as an extraction bar on stderr (not with `--json`).
 * @returns the final video (`VIDEO_IMAGE_EXTRACTION_SUCCESS` or `_ERROR`; or `VIDEO_UPLOAD_PENDING`, which never moves by itself)
 * @throws VidsnapApiError (404 when deleted meanwhile), network errors, Error after `timeoutMs`
 */
export async function waitWithProgress(ctx: CliContext, api: VidsnapClient, id: string, timeoutMs = 3_600_000): Promise<Video> {
  const bar = createProgressBar(ctx, "extraction");
  const video = await waitForVideo(api, id, {
    timeoutMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onUpdate: (v) => bar.update(v.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" ? 1 : (v.progress ?? 0), shortStatus(v.status)),
  });
  const success = video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS";
  bar.done(shortStatus(video.status), success ? 1 : (video.progress ?? 0));
  return video;
}

/** Exit code of a video's state after waiting: 0 success, 1 extraction, import or generation error, 5 still waiting for its upload. */
export function outcomeExitCode(video: Video): ExitCode {
  if (video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") return EXIT.ok;
  if (video.status === "VIDEO_IMAGE_EXTRACTION_ERROR" || video.status === "VIDEO_IMPORT_ERROR" || video.status === "VIDEO_GENERATION_ERROR") return EXIT.failed;
  return EXIT.conflict;
}

/** `one image every 10 s, webp, max 640 px wide`: the extraction options in words. */
export function describeOptions(options: Video["options"]): string {
  const { mode, format, quality, maxWidth, maxHeight, maxImages, startSeconds, endSeconds } = options;
  const parts: string[] = [];
  if (mode === "keyframes") parts.push("one image per keyframe");
  else if (mode === "interval") parts.push(`one image every ${options.intervalSeconds} s${options.accuracy === "keyframe" ? " (nearest keyframe)" : ""}`);
  else if (mode === "scene") parts.push(`one image per scene change${options.sceneThreshold !== undefined ? ` (threshold ${options.sceneThreshold})` : ""}`);
  else if (mode === "timestamps") {
    const t = options.timestampsSeconds;
    parts.push(`images at ${t.slice(0, 6).map((s) => `${s} s`).join(", ")}${t.length > 6 ? `, … (${t.length})` : ""}`);
  } else parts.push(String(mode));
  if (format) parts.push(format + (quality !== undefined ? ` q${quality}` : ""));
  else if (quality !== undefined) parts.push(`quality ${quality}`);
  if (maxWidth !== undefined || maxHeight !== undefined) parts.push(`fit ${maxWidth ?? "any"}x${maxHeight ?? "any"} px`);
  if (maxImages !== undefined) parts.push(`at most ${maxImages} images`);
  if (startSeconds !== undefined || endSeconds !== undefined) parts.push(`from ${startSeconds ?? 0} s to ${endSeconds !== undefined ? `${endSeconds} s` : "the end"}`);
  return parts.join(", ");
}

/** Human description of a video, several lines. */
export function describeVideo(video: Video): string {
  const mode = describeOptions(video.options);
  const lines = [
    `video    ${video.id}`,
    `file     ${video.filename} (${video.contentType}, ${formatBytes(video.sizeBytes)})`,
    `status   ${shortStatus(video.status)}${video.attempt > 1 ? ` (attempt ${video.attempt})` : ""}${
      !FINAL_STATUSES.includes(video.status) && video.progress !== null ? `, ${Math.round(video.progress * 100)}%` : ""
    }`,
    `options  ${mode}`,
    `created  ${video.createdAt}`,
  ];
  if (video.durationSeconds !== null) lines.push(`duration ${video.durationSeconds.toFixed(2)} s`);
  if (video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") {
    lines.push(`images   ${video.imageCount ?? "?"}, ZIP ${formatBytes(video.zipSizeBytes)} (vidsnap download ${video.id})`);
  }
  if (video.sourceUrl) {
    lines.push(`import   ${video.sourceUrl}${video.importedBytes !== null ? ` (${formatBytes(video.importedBytes)}${video.importTotalBytes ? ` of ${formatBytes(video.importTotalBytes)}` : ""})` : ""}`);
  }
  if (video.status === "VIDEO_IMAGE_EXTRACTION_ERROR" || video.status === "VIDEO_IMPORT_ERROR" || video.status === "VIDEO_GENERATION_ERROR") {
    lines.push(`error    ${video.errorMessage ?? "unknown"}`);
    if (video.errorDescription) lines.push(`         ${video.errorDescription}`);
    // A failed generation has no source to retry from: a new generation is asked instead.
    if (video.status !== "VIDEO_GENERATION_ERROR") lines.push(`         (vidsnap retry ${video.id})`);
  }
  return lines.join("\n");
}

export const statusCommand: Command = {
  name: "status",
  summary: "show a video's state (--wait: until the extraction ends)",
  help: `Usage: vidsnap status <id> [--wait]

Shows the video's status, progress, options, image count and errors.

Options:
  --wait   poll until the extraction succeeded or failed (progress bar on stderr);
           exit code 0 when it succeeded, 1 when it failed, 5 while the upload is not complete`,
  options: { wait: { type: "boolean" } },
  positionals: { min: 1, max: 1, names: "<id>" },
  async run(ctx, values, [id]) {
    if (!id) throw usageError("missing <id>");
    const api = apiClient(ctx);
    let video: Video;
    if (values.wait) video = await waitWithProgress(ctx, api, id);
    else video = unwrap(await api.GET("/v1/videos/{id}", { params: { path: { id } } })).video;
    if (ctx.json) printJson(ctx, { video });
    else say(ctx, describeVideo(video));
    return values.wait ? outcomeExitCode(video) : EXIT.ok;
  },
};
