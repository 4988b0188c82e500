/**
 * `vidsnap images <id>`: the images of a video whose extraction succeeded (index, timestamp, file,
 * size) and the presigned link of its ZIP (`GET /v1/videos/{id}/images`; 409 until ready → exit 5).
 */
import { unwrap, type ImageList } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, formatBytes, printJson, say, usageError, type CliContext } from "../context.ts";

/** @throws VidsnapApiError (404, 409 not ready), network errors */
export async function listImages(ctx: CliContext, id: string): Promise<ImageList> {
  return unwrap(await apiClient(ctx).GET("/v1/videos/{id}/images", { params: { path: { id } } }));
}

export const imagesCommand: Command = {
  name: "images",
  summary: "list the images of a finished video",
  help: `Usage: vidsnap images <id>

Lists the images of the video (index, timestamp in seconds, file name in the ZIP, size) and the
ZIP's presigned download link. Exit code 5 while the extraction has not succeeded.
With --json prints the API's answer: {"videoId", "attempt", "imageCount", "images": […], "zip": {…}}.`,
  options: {},
  positionals: { min: 1, max: 1, names: "<id>" },
  async run(ctx, _values, [id]) {
    if (!id) throw usageError("missing <id>");
    const list = await listImages(ctx, id);
    if (ctx.json) {
      printJson(ctx, list);
      return EXIT.ok;
    }
    const rows = list.images.map((img) => `${String(img.index).padStart(5)}  ${img.timestampSeconds.toFixed(3).padStart(10)} s  ${formatBytes(img.bytes).padStart(9)}  ${img.fileName}`);
    say(ctx, [`${list.imageCount} images (attempt ${list.attempt})`, "INDEX   TIMESTAMP         SIZE  FILE", ...rows].join("\n"));
    say(ctx, `zip: ${formatBytes(list.zip.sizeBytes)}, link valid until ${list.zip.expiresAt} (vidsnap download ${list.videoId})`);
    return EXIT.ok;
  },
};
