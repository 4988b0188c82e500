/**
 * `POST /v1/videos`: create a video record and get its upload instructions (presigned PUT or multipart), or,
 * with `source: {url}`, create a video imported by URL.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { CreateOrImportVideoRequest, CreateVideoResponse, ImportVideoResponse } from "../../../../schema/api.ts";
import { createVideo } from "../../services/videos/create-video.ts";
import { importVideo } from "../../services/videos/import-video.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const createVideoRoute = createRoute({
  method: "post",
  path: "/v1/videos",
  operationId: "createVideo",
  tags: ["videos"],
  summary: "Create a video: get its upload URL, or import it from a URL",
  description:
    "Declares a file (name, MIME type, exact size). Answers the video (VIDEO_UPLOAD_PENDING) and how to upload it: `upload.method = \"PUT\"`, a presigned PUT bound to that type and size (upload the file with exactly the given headers), or above MULTIPART_THRESHOLD_BYTES `\"MULTIPART\"`, an S3 multipart upload (part URLs from `POST /v1/videos/{id}/upload-parts`). Then call `/complete`.\n\n" +
    "With `source: {url}` instead, the video is imported from that URL: the answer is the video in VIDEO_IMPORT_QUEUED (no `upload`), then VIDEO_IMPORTING with `importedBytes` / `importTotalBytes` / `progress`, then the usual extraction (and `transcode`) as after `/complete`; a failed import ends VIDEO_IMPORT_ERROR (retry with `/retry`). A refused URL is a 400 `validation` problem naming `source.url`.",
  security: BEARER,
  request: { body: { required: true, content: { "application/json": { schema: CreateOrImportVideoRequest } } } },
  responses: {
    201: {
      description: "Created: upload instructions, or the import queued.",
      content: { "application/json": { schema: z.union([CreateVideoResponse, ImportVideoResponse]) } },
    },
    ...problems(400, 401, 403, 413, 415, 429, 503),
  },
});

export function registerCreateVideo(app: App) {
  app.openapi(createVideoRoute, async (c) => {
    const body = c.req.valid("json");
    const result = "source" in body ? await importVideo(c.var.deps, c.var.user.id, body) : await createVideo(c.var.deps, c.var.user.id, body);
    return c.json(result, 201);
  });
}
