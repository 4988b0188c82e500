/**
 * Extraction options a client chooses when creating a video (`POST /v1/videos` `options`), carried
 * unchanged in MSG_EXTRACT_SNAPSHOT to the processor, which validates them again with this schema.
 *
 * Modes (`mode`, the discriminator):
 * - `keyframes` (default): one image at every keyframe (decoded with `-skip_frame nokey`: fast).
 * - `interval`: one image at or after each of start, start + N, start + 2N… seconds, N = `intervalSeconds`
 *   (default 10, 0.1 to 3600 seconds).
 * - `scene`: the first frame, then one image at each scene change whose score (ffmpeg's `scene`, 0..1)
 *   exceeds `sceneThreshold` (default {@link DEFAULT_SCENE_THRESHOLD}). Decodes every frame.
 * - `timestamps`: one image at or after each time of `timestampsSeconds` (1 to 1000 values, seconds;
 *   sorted and de-duplicated; values past the end of the video or outside the window are skipped and
 *   listed in the manifest; none left is an error), like single thumbnails "at time t".
 *
 * Common to every mode (all optional; defaults in brackets): `format` (`jpeg`), `quality` (1..100; jpeg
 * about 97, webp 80; refused for png, which is lossless), `maxWidth` / `maxHeight` (scale down only,
 * aspect kept, applied to the displayed orientation of rotated videos), `maxImages` (stop after N
 * images and succeed; the server's MAX_IMAGES limit still fails a job that needs more), `startSeconds`
 * / `endSeconds` (only frames within [start, end]; end > start). `interval` and `timestamps` also take
 * `accuracy`: `exact` (default: the exact frame at or after each target) or `keyframe` (the keyframe
 * nearest to each target: decodes keyframes only, much faster).
 */
import { z } from "@hono/zod-openapi";

/** Image formats of the archive. */
export const ImageFormat = z
  .enum(["jpeg", "png", "webp"])
  .openapi("ImageFormat", { description: "Image format of the archive's files.", example: "jpeg" });
export type ImageFormat = z.infer<typeof ImageFormat>;

/** MIME type and ZIP entry extension of each image format. */
export const IMAGE_FORMATS: Readonly<Record<ImageFormat, { contentType: string; extension: string }>> = {
  jpeg: { contentType: "image/jpeg", extension: "jpg" },
  png: { contentType: "image/png", extension: "png" },
  webp: { contentType: "image/webp", extension: "webp" },
};

/** Scene-change score above which `mode: "scene"` takes an image when `sceneThreshold` is not given. */
export const DEFAULT_SCENE_THRESHOLD = 0.3;
/** Most values of `timestampsSeconds`. */
export const MAX_TIMESTAMPS = 1000;
/** Upper bound of every time option, seconds (24 h; the processor's MAX_DURATION_SECONDS is lower). */
const MAX_TIME_SECONDS = 86_400;

/** Fields every mode accepts. */
const commonFields = {
  format: ImageFormat.optional().openapi({ description: "Image format: `jpeg` (default), `png` (lossless) or `webp`." }),
  quality: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({
      description:
        "1 (smallest) to 100 (best). jpeg: mapped linearly to ffmpeg's `-q:v` 31..2 (default ≈ 97, i.e. `-q:v 3`); " +
        "webp: libwebp `-quality` (default 80). Refused for `png` (lossless).",
      example: 85,
    }),
  maxWidth: z
    .number()
    .int()
    .min(16)
    .max(16384)
    .optional()
    .openapi({ description: "Largest image width, pixels: larger frames are scaled down keeping their aspect ratio (never up). Applies to the displayed (rotated) orientation.", example: 640 }),
  maxHeight: z
    .number()
    .int()
    .min(16)
    .max(16384)
    .optional()
    .openapi({ description: "Largest image height, pixels (as `maxWidth`).", example: 480 }),
  maxImages: z
    .number()
    .int()
    .min(1)
    .max(10000)
    .optional()
    .openapi({ description: "Stop after this many images and succeed (the first N in time order).", example: 50 }),
  startSeconds: z
    .number()
    .min(0)
    .max(MAX_TIME_SECONDS)
    .optional()
    .openapi({ description: "Only frames at or after this time, seconds (default 0). Interval targets start here.", example: 30 }),
  endSeconds: z
    .number()
    .positive()
    .max(MAX_TIME_SECONDS)
    .optional()
    .openapi({ description: "Only frames at or before this time, seconds (default: the end). Must be greater than `startSeconds`.", example: 90 }),
};

const accuracy = z
  .enum(["exact", "keyframe"])
  .optional()
  .openapi({
    description:
      "`exact` (default): the exact frame at or after each target. `keyframe`: the keyframe nearest to each target " +
      "(each keyframe once), decoding keyframes only: much faster, off by up to half a keyframe interval.",
    example: "exact",
  });

/**
 * Checks across fields (zod issues at the offending field, so the API reports e.g. `options.endSeconds`).
 * Rules: end > start; `quality` is refused for png (lossless: nothing to trade).
 */
function checkCommon(
  v: { format?: ImageFormat | undefined; quality?: number | undefined; startSeconds?: number | undefined; endSeconds?: number | undefined },
  ctx: z.RefinementCtx,
): void {
  if (v.endSeconds !== undefined && v.endSeconds <= (v.startSeconds ?? 0)) {
    ctx.addIssue({ code: "custom", path: ["endSeconds"], message: "endSeconds must be greater than startSeconds (default 0)." });
  }
  if (v.format === "png" && v.quality !== undefined) {
    ctx.addIssue({ code: "custom", path: ["quality"], message: "quality does not apply to png (lossless); leave it out." });
  }
}

export const KeyframeOptions = z
  .object({
    mode: z.literal("keyframes"),
    ...commonFields,
  })
  .superRefine(checkCommon);

export const IntervalOptions = z
  .object({
    mode: z.literal("interval"),
    intervalSeconds: z.number().min(0.1).max(3600).default(10).describe("Seconds between two images."),
    accuracy,
    ...commonFields,
  })
  .superRefine(checkCommon);

export const SceneOptions = z
  .object({
    mode: z.literal("scene"),
    sceneThreshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .openapi({
        description: `Scene-change score (0..1) above which a frame is taken (default ${DEFAULT_SCENE_THRESHOLD}); lower = more images. Every frame is decoded.`,
        example: DEFAULT_SCENE_THRESHOLD,
      }),
    ...commonFields,
  })
  .superRefine(checkCommon);

export const TimestampsOptions = z
  .object({
    mode: z.literal("timestamps"),
    timestampsSeconds: z
      .array(z.number().min(0).max(MAX_TIME_SECONDS))
      .min(1)
      .max(MAX_TIMESTAMPS)
      .openapi({
        description: `Times of the wanted images, seconds (1 to ${MAX_TIMESTAMPS}, each ≥ 0; sorted and de-duplicated). Each gives the frame at or after it; times past the end are skipped (listed in the manifest).`,
        example: [0, 12.5, 60],
      }),
    accuracy,
    ...commonFields,
  })
  .superRefine(checkCommon);

export const ExtractionOptions = z
  .discriminatedUnion("mode", [KeyframeOptions, IntervalOptions, SceneOptions, TimestampsOptions])
  .openapi("ExtractionOptions", {
    description: "What to extract and how to encode it (see the mode descriptions).",
    example: { mode: "interval", intervalSeconds: 10, format: "webp", quality: 80, maxWidth: 640 },
  });
export type ExtractionOptions = z.infer<typeof ExtractionOptions>;

/** Options used when a client sends none. */
export const DEFAULT_EXTRACTION_OPTIONS: ExtractionOptions = { mode: "keyframes" };
