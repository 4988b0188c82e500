/**
 * `manifest.json`: written by the processor into every archive (and beside it as its own object),
 * read by the API for `GET /v1/videos/{id}/images`.
 */
import { z } from "@hono/zod-openapi";
import { ExtractionOptions, ImageFormat } from "./extraction-options.ts";

export const ManifestImage = z
  .object({
    index: z.number().int().min(0).describe("0-based order in the archive."),
    fileName: z
      .string()
      .describe("Entry name inside the ZIP, e.g. `images/000001_t0000012.500.jpg` (extension `.jpg`, `.png` or `.webp` by format)."),
    timestampSeconds: z.number().min(0).describe("Presentation time of the frame, seconds from the start."),
    bytes: z.number().int().min(0).describe("Size of the image file in bytes."),
    width: z.number().int().positive().optional().describe("Width of the image as stored (after scaling and rotation), pixels."),
    height: z.number().int().positive().optional().describe("Height of the image as stored, pixels."),
    contentType: z
      .string()
      .optional()
      .describe("MIME type of the file (`image/jpeg`, `image/png`, `image/webp`); absent in archives made before formats existed (JPEG)."),
  })
  .openapi("Image");
export type ManifestImage = z.infer<typeof ManifestImage>;

export const SourceFacts = z.object({
  formatName: z.string().describe("ffprobe format_name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`."),
  durationSeconds: z.number().min(0).nullable(),
  sizeBytes: z.number().int().min(0).nullable(),
  videoCodec: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frameRate: z.number().nullable().describe("Average frames per second, when known."),
  rotationDegrees: z.number().default(0),
});
export type SourceFacts = z.infer<typeof SourceFacts>;

/**
 * Warnings of an extraction that succeeded on a damaged file (decode errors, a file that ended early, a
 * decode that stopped part-way): one human sentence each, at most 10; absent when the file was intact.
 * The same list is on the SUCCESS event, the video record (`warnings` of the API), the success email and
 * the `video.ready` webhook.
 */
export const ExtractionWarnings = z
  .array(z.string().min(1).max(500))
  .max(10)
  .describe("Problems met while decoding a damaged file (one sentence each); absent when there were none.");

export const Manifest = z.object({
  version: z.literal(1),
  videoId: z.string(),
  attempt: z.number().int().min(1),
  createdAt: z.string().describe("ISO 8601 time the archive was finished."),
  options: ExtractionOptions,
  source: SourceFacts,
  /** `jpeg` in every archive made before the `format` option existed. */
  imageFormat: ImageFormat,
  /** MIME type of every image; older manifests lack it (they are JPEG). */
  contentType: z.string().default("image/jpeg"),
  images: z.array(ManifestImage),
  /**
   * `mode: "timestamps"`: requested times (sorted, de-duplicated) that gave no image because they lie past
   * the last frame, outside the window or beyond `maxImages`.
   */
  skippedTimestampsSeconds: z.array(z.number()).optional(),
  /** Set when the file was damaged: see {@link ExtractionWarnings}. */
  warnings: ExtractionWarnings.optional(),
});
export type Manifest = z.infer<typeof Manifest>;
