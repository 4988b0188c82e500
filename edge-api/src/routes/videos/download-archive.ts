/** `GET /v1/videos/{id}/images.zip`: redirect to a presigned download of the ZIP. */
import { createRoute } from "@hono/zod-openapi";
import { VideoIdParams } from "../../../../schema/api.ts";
import { getArchiveUrl } from "../../services/videos/get-archive-url.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const downloadArchiveRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}/images.zip",
  operationId: "downloadVideoArchive",
  tags: ["images"],
  summary: "Download the ZIP of images",
  description: "302 to a presigned URL valid DOWNLOAD_URL_TTL_SECONDS. 409 `not-ready` until the extraction succeeded.",
  security: BEARER,
  request: { params: VideoIdParams },
  responses: {
    // The only success is this redirect (no 2xx: redocly.yaml says why the lint's 2xx rule is off here).
    302: {
      description: "Redirect to the archive: a GET of `Location` (no credentials) answers 200 `application/zip`.",
      headers: {
        Location: {
          description: "Presigned GET URL of the ZIP, valid DOWNLOAD_URL_TTL_SECONDS.",
          required: true,
          schema: { type: "string", format: "uri" },
        },
      },
    },
    ...problems(401, 404, 409),
  },
});

export function registerDownloadArchive(app: App) {
  app.openapi(downloadArchiveRoute, async (c) => {
    const zip = await getArchiveUrl(c.var.deps, c.var.user.id, c.req.valid("param").id);
    c.header("cache-control", "private, no-store");
    return c.redirect(zip.url, 302);
  });
}
