/**
 * What a client asks of a transcode (`POST /v1/videos/{id}/transcodes`, or `transcode` in `POST /v1/videos`),
 * carried unchanged in MSG_TRANSCODE to the processor, which validates it again with this schema.
 *
 * A transcode is one decode of the source (optionally trimmed to [startSeconds, endSeconds]) feeding every
 * rendition asked (ffmpeg's `split` filter, one encoder per output), so the trim and `upscale` are the
 * transcode's, not a rendition's. Renditions (`format`, the discriminator):
 * - `mp4`: H.264 High + AAC-LC in MP4 with the moov box first (`+faststart`), one file;
 * - `webm`: VP9 + Opus in WebM, one file;
 * - `hls`: an H.264/AAC ladder (one variant per height of `heights`; default: the standard ladder 1080, 720,
 *   480, 360 without the rungs taller than the source) cut in segments of about `segmentSeconds` (default 6),
 *   fMP4 (default) or MPEG-TS, with one media playlist per variant and a master playlist listing them.
 *
 * Heights come from {@link RENDITION_HEIGHTS}; width follows the displayed aspect ratio (rotation applied),
 * rounded to an even number. A height above the source's is refused (the job fails before writing anything)
 * unless `upscale: true`, which makes such renditions at the source's height instead: vidsnap never upscales.
 */
import { z } from "@hono/zod-openapi";

/** Output heights a rendition may ask for, pixels (the usual ladder names: 2160p … 240p). */
export const RENDITION_HEIGHTS = [2160, 1440, 1080, 720, 480, 360, 240] as const;
/** HLS ladder used when `heights` is absent (rungs taller than the source are left out, never upscaled). */
export const DEFAULT_HLS_HEIGHTS = [1080, 720, 480, 360] as const;
/** Most renditions (files, or HLS variants counted one each) in one transcode: one decode feeds them all. */
export const MAX_TRANSCODE_OUTPUTS = 8;
/** Upper bound of the trim options, seconds (24 h; the processor's MAX_DURATION_SECONDS is lower). */
const MAX_TIME_SECONDS = 86_400;

export const RenditionHeight = z
  .literal(RENDITION_HEIGHTS, { error: `must be one of ${RENDITION_HEIGHTS.join(", ")}` })
  // The OpenAPI generator renders a multi-value literal as its first value only: the enum is spelled out.
  .openapi("RenditionHeight", {
    type: "integer",
    enum: [...RENDITION_HEIGHTS],
    description: `Output height, pixels: one of ${RENDITION_HEIGHTS.join(", ")}.`,
    example: 720,
  });
export type RenditionHeight = (typeof RENDITION_HEIGHTS)[number];

/** Encoder quality presets (CRF per codec, chosen in the processor's argument builders). */
export const TranscodeQuality = z
  .enum(["low", "medium", "high"])
  .openapi("TranscodeQuality", {
    description: "Constant-quality preset: `low` (smallest), `medium` (default) or `high`. Exclusive with `videoBitrateKbps`.",
    example: "medium",
  });
export type TranscodeQuality = z.infer<typeof TranscodeQuality>;

const encoderFields = {
  videoBitrateKbps: z
    .number()
    .int()
    .min(100)
    .max(50_000)
    .optional()
    .openapi({ description: "Target average video bitrate, kbit/s (100..50000). Exclusive with `quality`.", example: 2500 }),
  quality: TranscodeQuality.optional(),
  audio: z.boolean().optional().openapi({ description: "false: no audio track. Default true (when the source has audio).", example: true }),
};

function checkEncoder(v: { videoBitrateKbps?: number | undefined; quality?: string | undefined }, ctx: z.RefinementCtx): void {
  if (v.videoBitrateKbps !== undefined && v.quality !== undefined) {
    ctx.addIssue({ code: "custom", path: ["quality"], message: "Give either quality or videoBitrateKbps, not both." });
  }
}

export const Mp4Rendition = z
  .object({
    format: z.literal("mp4"),
    height: RenditionHeight.optional().openapi({ description: "Output height (default: the source's, up to 1080)." }),
    ...encoderFields,
  })
  .superRefine(checkEncoder)
  .openapi("Mp4Rendition", { description: "H.264 High + AAC-LC, MP4 with the moov box first (`+faststart`)." });

export const WebmRendition = z
  .object({
    format: z.literal("webm"),
    height: RenditionHeight.optional().openapi({ description: "Output height (default: the source's, up to 1080)." }),
    ...encoderFields,
  })
  .superRefine(checkEncoder)
  .openapi("WebmRendition", { description: "VP9 + Opus, WebM." });

export const HlsRendition = z
  .object({
    format: z.literal("hls"),
    heights: z
      .array(RenditionHeight)
      .min(1)
      .max(MAX_TRANSCODE_OUTPUTS)
      .optional()
      .openapi({ description: `Variant heights (distinct). Default ${DEFAULT_HLS_HEIGHTS.join(", ")} without the rungs taller than the source.`, example: [720, 480] }),
    segmentSeconds: z.number().min(2).max(10).optional().openapi({ description: "Target segment duration, seconds (2..10, default 6).", example: 6 }),
    segmentFormat: z.enum(["fmp4", "ts"]).optional().openapi({ description: "`fmp4` (default, CMAF) or `ts` (MPEG-TS)." }),
    ...encoderFields,
  })
  .superRefine((v, ctx) => {
    checkEncoder(v, ctx);
    if (v.heights && new Set(v.heights).size !== v.heights.length) {
      ctx.addIssue({ code: "custom", path: ["heights"], message: "heights must be distinct." });
    }
  })
  .openapi("HlsRendition", { description: "H.264/AAC ladder in HLS: a master playlist, one media playlist per variant." });

export const Rendition = z.discriminatedUnion("format", [Mp4Rendition, WebmRendition, HlsRendition]).openapi("Rendition");
export type Rendition = z.infer<typeof Rendition>;

export const TranscodeRequest = z
  .object({
    renditions: z
      .array(Rendition)
      .min(1)
      .max(MAX_TRANSCODE_OUTPUTS)
      .openapi({ description: `1..${MAX_TRANSCODE_OUTPUTS} renditions, all made from one decode of the source.` }),
    startSeconds: z.number().min(0).max(MAX_TIME_SECONDS).optional().openapi({ description: "Trim: start time, seconds (default 0).", example: 10 }),
    endSeconds: z
      .number()
      .positive()
      .max(MAX_TIME_SECONDS)
      .optional()
      .openapi({ description: "Trim: end time, seconds (default: the end). Greater than `startSeconds`.", example: 70 }),
    upscale: z
      .boolean()
      .optional()
      .openapi({
        description:
          "Absent or false: a height above the source's fails the transcode with a clear error. true: such renditions are made at the source's height (vidsnap never upscales).",
      }),
  })
  .superRefine((v, ctx) => {
    if (v.endSeconds !== undefined && v.endSeconds <= (v.startSeconds ?? 0)) {
      ctx.addIssue({ code: "custom", path: ["endSeconds"], message: "endSeconds must be greater than startSeconds (default 0)." });
    }
    const outputs = v.renditions.reduce((n, r) => n + (r.format === "hls" ? (r.heights?.length ?? DEFAULT_HLS_HEIGHTS.length) : 1), 0);
    if (outputs > MAX_TRANSCODE_OUTPUTS) {
      ctx.addIssue({
        code: "custom",
        path: ["renditions"],
        message: `At most ${MAX_TRANSCODE_OUTPUTS} outputs per transcode (each HLS variant counts); ${outputs} asked.`,
      });
    }
    if (v.renditions.filter((r) => r.format === "hls").length > 1) {
      ctx.addIssue({ code: "custom", path: ["renditions"], message: "At most one hls rendition (list its variants in heights)." });
    }
  })
  .openapi("TranscodeRequest", {
    description: "Renditions to make from one decode of the source, with an optional trim.",
    example: { renditions: [{ format: "mp4", height: 720 }, { format: "hls", heights: [720, 480] }] },
  });
export type TranscodeRequest = z.infer<typeof TranscodeRequest>;

/**
 * Stable name of one output of a transcode, used in object keys, API outputs and emails:
 * `mp4-720`, `webm-480`, `hls` (the master playlist) and `hls-720` (one variant's media playlist).
 * @param format the rendition's format; @param height its asked height, pixels (absent: `source`)
 */
export function renditionName(format: Rendition["format"], height?: number): string {
  return height === undefined ? format : `${format}-${height}`;
}

/** MIME types of the outputs, by format (HLS: the playlists). */
export const RENDITION_CONTENT_TYPES: Readonly<Record<Rendition["format"], string>> = {
  mp4: "video/mp4",
  webm: "video/webm",
  hls: "application/vnd.apple.mpegurl",
};
