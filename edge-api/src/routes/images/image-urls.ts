/** `POST /v1/videos/{id}/image-urls`: signed URLs of the video's images (no header needed to open them). */
import { createRoute } from "@hono/zod-openapi";
import { VideoIdParams } from "../../../../schema/api.ts";
import { ImageUrls, ImageUrlsRequest } from "../../../../schema/image-options.ts";
import { fieldIssues, ProblemError } from "../../errors.ts";
import { signImageUrls } from "../../services/images/sign-image-urls.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const createImageUrlsRoute = createRoute({
  method: "post",
  path: "/v1/videos/{id}/image-urls",
  operationId: "createImageUrls",
  tags: ["images"],
  summary: "Signed image URLs",
  description:
    "URLs of thumbnails, animated previews and storyboards for `<img src>` and players: each carries a `token` (HMAC-SHA256 over the video, the image route and its normalized parameters, and the expiry). An expired or altered URL, or one used for another image or video, answers 403.",
  security: BEARER,
  request: { params: VideoIdParams, body: { content: { "application/json": { schema: ImageUrlsRequest } }, required: false } },
  responses: {
    200: { description: "The signed URLs.", content: { "application/json": { schema: ImageUrls } } },
    ...problems(400, 401, 404),
  },
});

export function registerCreateImageUrls(app: App) {
  app.openapi(createImageUrlsRoute, async (c) => {
    // The body is optional (defaults: thumbnail, animated GIF, storyboard VTT): parsed here, not by the validator.
    const raw: unknown = (await c.req.text()) ? await c.req.json().catch(() => undefined) : {};
    const body = ImageUrlsRequest.safeParse(raw);
    if (!body.success) throw new ProblemError("validation", "The request body is invalid.", { errors: fieldIssues(body.error.issues) });
    return c.json(await signImageUrls(c.var.deps, c.var.user.id, c.req.valid("param").id, body.data), 200);
  });
}
