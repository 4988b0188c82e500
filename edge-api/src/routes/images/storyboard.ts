/**
 * `GET /v1/videos/{id}/storyboard.{jpg,webp,vtt,json}`: one sprite of N tiles spread over the video, and its
 * cues as WebVTT (`…#xywh=x,y,w,h`, what Vidstack's and Video.js' thumbnail tracks read) or JSON. The cues
 * come from the processor's storyboard plan, the same one the sprite is drawn from.
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { VideoIdParams } from "../../../../schema/api.ts";
import { STORYBOARD_FORMATS, StoryboardPlan, StoryboardQuery, storyboardVtt, type RenderSpec, type StoryboardFormat } from "../../../../schema/image-options.ts";
import { imageUrl, signImageToken } from "../../services/images/image-token.ts";
import { imageVideo, renderedImage } from "../../services/images/serve-image.ts";
import type { AppEnv } from "../../context.ts";
import type { App } from "../shared.ts";
import { BEARER_OR_TOKEN, imageResponse, imageResponses, waitUntilOf } from "./shared.ts";

/** The route of one storyboard format. */
export function storyboardRoute(format: StoryboardFormat) {
  return createRoute({
    method: "get",
    path: `/v1/videos/{id}/storyboard.${format}`,
    operationId: `getStoryboard${format[0]!.toUpperCase()}${format.slice(1)}`,
    tags: ["images"],
    summary: `Storyboard (${format.toUpperCase()})`,
    description:
      "One tile per 2 s of video (1 to 100 tiles, rows of 10, 160 px wide). The VTT's and JSON's sprite URL carries a token of the same expiry when this request was made with one. Cached and authenticated like the thumbnail.",
    security: BEARER_OR_TOKEN,
    request: { params: VideoIdParams, query: StoryboardQuery },
    responses: imageResponses(STORYBOARD_FORMATS[format], format === "vtt" ? "WebVTT thumbnail track." : format === "json" ? "The tiles as data (`StoryboardPlan` plus the sprite `url`)." : "The sprite."),
  });
}

/** Answers the storyboard as text: VTT or JSON, the sprite URL (JPEG) tokenized like this request. */
async function cues(c: Context<AppEnv>, format: "vtt" | "json"): Promise<Response> {
  const deps = c.var.deps;
  const id = c.req.param("id")!;
  const token = c.req.query("token");
  const spec: RenderSpec = { kind: "storyboard", format: "json" };
  const { row, tokenExpiresAt } = await imageVideo(deps, { videoId: id, file: `storyboard.${format}`, spec, token, userId: c.var.user?.id });
  const stored = await renderedImage(deps, row, spec, { waitUntil: waitUntilOf(c), requestId: c.var.requestId });
  const plan = StoryboardPlan.parse(JSON.parse(new TextDecoder().decode(stored.bytes)));
  const spriteToken = tokenExpiresAt === undefined ? undefined : await signImageToken(deps, id, "storyboard.jpg", { kind: "storyboard", format: "jpg" }, tokenExpiresAt);
  const url = imageUrl(deps.config.publicBaseUrl, id, "storyboard.jpg", {}, spriteToken);
  const text = format === "vtt" ? storyboardVtt(plan, url) : JSON.stringify({ url, ...plan });
  const bytes = new Uint8Array(new TextEncoder().encode(text));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const etag = `"${[...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
  return imageResponse(c, { bytes, contentType: STORYBOARD_FORMATS[format], etag });
}

export function registerStoryboard(app: App) {
  for (const format of Object.keys(STORYBOARD_FORMATS) as StoryboardFormat[]) {
    app.openapi(storyboardRoute(format), async (c) => {
      if (format === "vtt" || format === "json") return cues(c, format);
      const { id } = c.req.valid("param");
      const { token } = c.req.valid("query");
      const spec: RenderSpec = { kind: "storyboard", format };
      const { row } = await imageVideo(c.var.deps, { videoId: id, file: `storyboard.${format}`, spec, token, userId: c.var.user?.id });
      const image = await renderedImage(c.var.deps, row, spec, { waitUntil: waitUntilOf(c), requestId: c.var.requestId });
      return imageResponse(c, image);
    });
  }
}
