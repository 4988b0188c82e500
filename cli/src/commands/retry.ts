/**
 * `vidsnap retry <id> [--wait]`: starts a new extraction attempt of a failed video, or imports a failed
 * import again (`POST /v1/videos/{id}/retry`; only from VIDEO_IMAGE_EXTRACTION_ERROR or VIDEO_IMPORT_ERROR,
 * else 409 → exit 5).
 */
import { unwrap, type Video } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, printJson, say, usageError, type CliContext } from "../context.ts";
import { describeVideo, outcomeExitCode, waitWithProgress } from "./status.ts";

/** @throws VidsnapApiError (404, 409 when the video did not fail), network errors */
export async function retry(ctx: CliContext, id: string): Promise<Video> {
  return unwrap(await apiClient(ctx).POST("/v1/videos/{id}/retry", { params: { path: { id } } })).video;
}

export const retryCommand: Command = {
  name: "retry",
  summary: "retry the extraction (or the import) of a failed video",
  help: `Usage: vidsnap retry <id> [--wait]

Queues a new extraction attempt of a video whose extraction failed, or a new import of a video
whose import by URL failed. Exit code 5 when the video is in any other status.

Options:
  --wait   follow the new attempt until it ends (exit code 0 success, 1 failed)`,
  options: { wait: { type: "boolean" } },
  positionals: { min: 1, max: 1, names: "<id>" },
  async run(ctx, values, [id]) {
    if (!id) throw usageError("missing <id>");
    let video = await retry(ctx, id);
    if (values.wait) video = await waitWithProgress(ctx, apiClient(ctx), id);
    if (ctx.json) printJson(ctx, { video });
    else if (values.wait) say(ctx, describeVideo(video));
    else say(ctx, `video ${video.id}: attempt ${video.attempt} queued (vidsnap status ${video.id} --wait)`);
    return values.wait ? outcomeExitCode(video) : EXIT.ok;
  },
};
