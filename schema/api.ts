/**
 * Request and response bodies of the vidsnap REST API (`/v1/*`), shared by the edge-api Worker (route
 * validation and the OpenAPI document at `/openapi.json`) and REST clients. Every schema is registered
 * under its OpenAPI component name with `.openapi("Name")`.
 *
 * Times are ISO 8601 strings (UTC) or null; sizes are bytes; durations are seconds.
 * Errors are RFC 9457 problem details (`application/problem+json`, {@link Problem}).
 */
import { z } from "@hono/zod-openapi";
import { ExtractionOptions } from "./extraction-options.ts";
import { ManifestImage } from "./manifest.ts";
import { VideoStatus } from "./video-status.ts";

/** RFC 9457 problem details; `type` is a stable URI under `https://vidsnap.dev/problems/`. */
export const Problem = z
  .object({
    type: z.string().describe("Stable URI of the problem kind, e.g. `https://vidsnap.dev/problems/not-found`."),
    title: z.string().describe("Short human summary of the problem kind."),
    status: z.number().int().describe("HTTP status code."),
    detail: z.string().describe("Human explanation of this occurrence."),
    requestId: z.string().describe("Id of the request (also in the `x-request-id` response header)."),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe("Field issues of a validation problem (`path` is dot-separated, e.g. `options.intervalSeconds`)."),
  })
  .openapi("Problem");
export type Problem = z.infer<typeof Problem>;

/** File names are stored and echoed back: no path separators or control characters. */
const Filename = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[^/\\\u0000-\u001f\u007f]+$/, "must not contain path separators or control characters")
  .describe("Original file name; its extension must match `contentType` in the allow-list.");

/** `POST /v1/videos` body. */
export const CreateVideoRequest = z
  .object({
    filename: Filename.openapi({ example: "holiday.mp4" }),
    contentType: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .describe("MIME type the upload will be sent with, e.g. `video/mp4`.")
      .openapi({ example: "video/mp4" }),
    sizeBytes: z
      .number()
      .int()
      .min(1)
      .describe("Exact size of the file in bytes; the upload URL is bound to it (at most MAX_UPLOAD_BYTES).")
      .openapi({ example: 10485760 }),
    options: ExtractionOptions.optional().describe("Extraction options; default `{ \"mode\": \"keyframes\" }`."),
  })
  .openapi("CreateVideoRequest");
export type CreateVideoRequest = z.infer<typeof CreateVideoRequest>;

const IsoTime = z.string().describe("ISO 8601 time (UTC).");

/** One video and the state of its latest extraction attempt. */
export const Video = z
  .object({
    id: z.string().describe("Video id (UUID)."),
    filename: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int().describe("Declared size of the upload, bytes."),
    status: VideoStatus,
    options: ExtractionOptions,
    attempt: z.number().int().min(0).describe("Current extraction attempt; 0 until the upload is completed."),
    progress: z.number().min(0).max(1).nullable().describe("Share of the video processed (0..1), null when unknown."),
    imageCount: z.number().int().nullable(),
    zipSizeBytes: z.number().int().nullable(),
    durationSeconds: z.number().nullable(),
    errorMessage: z.string().nullable().describe("One human sentence, when the attempt failed."),
    errorDescription: z.string().nullable().describe("Technical detail, when the attempt failed."),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    queuedAt: IsoTime.nullable(),
    processingStartedAt: IsoTime.nullable(),
    completedAt: IsoTime.nullable(),
  })
  .openapi("Video");
export type Video = z.infer<typeof Video>;

/** `{ video }`: answer of `GET /v1/videos/{id}`, `.../complete` and `.../retry`. */
export const VideoEnvelope = z.object({ video: Video }).openapi("VideoEnvelope");
export type VideoEnvelope = z.infer<typeof VideoEnvelope>;

/** How to send the file: one `PUT` of the whole body to `url` with exactly these headers. */
export const UploadInstructions = z
  .object({
    method: z.literal("PUT"),
    url: z.string().describe("Presigned URL of the object in the videos bucket."),
    headers: z
      .object({
        "content-type": z.string(),
        "content-length": z.string(),
      })
      .describe("Headers the URL is signed with: any other value is refused by the storage (403)."),
    expiresAt: IsoTime.describe("The URL is refused after this time (UPLOAD_URL_TTL_SECONDS)."),
  })
  .openapi("UploadInstructions");
export type UploadInstructions = z.infer<typeof UploadInstructions>;

/** Answer of `POST /v1/videos`. */
export const CreateVideoResponse = z
  .object({ video: Video, upload: UploadInstructions })
  .openapi("CreateVideoResponse");
export type CreateVideoResponse = z.infer<typeof CreateVideoResponse>;

/** `GET /v1/videos` query. */
export const ListVideosQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .describe("Page size, 1 to 100.")
    .openapi({ param: { name: "limit", in: "query" }, example: 20 }),
  cursor: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe("Opaque `nextCursor` of the previous page.")
    .openapi({ param: { name: "cursor", in: "query" } }),
  status: VideoStatus.optional().openapi({ param: { name: "status", in: "query" } }),
});
export type ListVideosQuery = z.infer<typeof ListVideosQuery>;

/** A page of videos, newest first. */
export const VideoList = z
  .object({
    data: z.array(Video),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page."),
  })
  .openapi("VideoList");
export type VideoList = z.infer<typeof VideoList>;

/** Path parameter `{id}` of the video routes. */
export const VideoIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, example: "0f8b7c8e-3c4d-4e8a-9f1b-2a3b4c5d6e7f" }),
});

/** Presigned download of the ZIP archive. */
export const ZipDownload = z
  .object({
    url: z.string().describe("Presigned GET URL (`Content-Disposition: attachment`)."),
    expiresAt: IsoTime.describe("The URL is refused after this time (DOWNLOAD_URL_TTL_SECONDS)."),
    sizeBytes: z.number().int().nullable(),
  })
  .openapi("ZipDownload");
export type ZipDownload = z.infer<typeof ZipDownload>;

/** Answer of `GET /v1/videos/{id}/images`: the manifest's images and a link to the archive. */
export const ImageList = z
  .object({
    videoId: z.string(),
    attempt: z.number().int().min(1),
    imageCount: z.number().int().min(0),
    images: z.array(ManifestImage),
    zip: ZipDownload,
  })
  .openapi("ImageList");
export type ImageList = z.infer<typeof ImageList>;
