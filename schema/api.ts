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
import { ExtractionWarnings, ManifestImage } from "./manifest.ts";
import { VideoStatus } from "./video-status.ts";
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from "./messages/webhook.ts";
import { TranscodeRequest } from "./transcode-options.ts";
import { TranscodeStatus } from "./transcode-status.ts";
import { TimelineJobKind, TimelineSource, TimelineStatus } from "./timeline.ts";

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
    transcode: TranscodeRequest.optional().describe(
      "Also transcode the video: the transcode is created now (TRANSCODE_PENDING) and queued by `/complete`, beside the extraction.",
    ),
  })
  .openapi("CreateVideoRequest");
export type CreateVideoRequest = z.infer<typeof CreateVideoRequest>;

/** `POST /v1/videos` body of an import by URL (docs/architecture.md "Imports"). */
export const ImportVideoRequest = z
  .object({
    source: z
      .object({
        url: z
          .string()
          .min(1)
          .max(2048)
          .describe(
            "The video's URL. https only (http too when ENVIRONMENT=local); refused when it, any address its host resolves to, or any of its redirects (at most 5) points to a private, loopback, link-local, shared, metadata or reserved address.",
          )
          .openapi({ example: "https://example.com/videos/holiday.mp4" }),
      })
      .strict()
      .describe("Where the video is downloaded from, instead of an upload."),
    filename: Filename.optional().describe("Name shown for the video; default the last segment of the URL's path."),
    options: ExtractionOptions.optional().describe("Extraction options; default `{ \"mode\": \"keyframes\" }`."),
    transcode: TranscodeRequest.optional().describe(
      "Also transcode the video: the transcode is created now (TRANSCODE_PENDING) and queued once the import is stored, beside the extraction.",
    ),
  })
  .strict()
  .openapi("ImportVideoRequest");
export type ImportVideoRequest = z.infer<typeof ImportVideoRequest>;

/** `POST /v1/videos` body: a video to upload ({@link CreateVideoRequest}) or to import by URL ({@link ImportVideoRequest}). */
export const CreateOrImportVideoRequest = z.union([CreateVideoRequest, ImportVideoRequest]).openapi("CreateOrImportVideoRequest");
export type CreateOrImportVideoRequest = z.infer<typeof CreateOrImportVideoRequest>;

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
    attempt: z
      .number()
      .int()
      .min(0)
      .describe("Current attempt; 0 until the upload is completed. An imported video counts its import attempts and then its extraction attempts on it."),
    progress: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe(
        "Share of the video (or of the requested window) processed (0..1), null when unknown; 1 once done. While VIDEO_IMPORTING: share of the bytes downloaded, when the remote server announced the size.",
      ),
    imagesSoFar: z
      .number()
      .int()
      .min(0)
      .nullable()
      .describe("Images extracted so far while processing (the image count once done), null when unknown."),
    imageCount: z.number().int().nullable(),
    zipSizeBytes: z.number().int().nullable(),
    durationSeconds: z.number().nullable(),
    errorMessage: z.string().nullable().describe("One human sentence, when the attempt failed."),
    errorDescription: z.string().nullable().describe("Technical detail, when the attempt failed."),
    sourceUrl: z.string().nullable().describe("The URL an imported video is downloaded from; null for uploads."),
    importedBytes: z.number().int().nullable().describe("Imports: bytes downloaded so far (the source's size once stored); null for uploads."),
    importTotalBytes: z
      .number()
      .int()
      .nullable()
      .describe("Imports: the size announced by the remote server (`content-length`), null while unknown and for uploads."),
    warnings: ExtractionWarnings.optional().describe(
      "Set on a SUCCESS from a damaged file: what was met while decoding (decode errors, a file that ended early), one sentence each. Absent otherwise.",
    ),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    queuedAt: IsoTime.nullable(),
    processingStartedAt: IsoTime.nullable(),
    completedAt: IsoTime.nullable(),
    estimatedCompletionAt: IsoTime.nullable().describe(
      "Generated videos (`POST /v1/generations`): when the generator expects to be done; null for other videos.",
    ),
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

/**
 * How to send a large file (`sizeBytes` above MULTIPART_THRESHOLD_BYTES): an S3 multipart upload the server
 * started. Split the file into `partCount` parts of `partSizeBytes` (the last one smaller), get presigned
 * part URLs from `POST /v1/videos/{id}/upload-parts`, PUT each part, keep each answer's `ETag` header, then
 * call `/complete` with `{parts: [{partNumber, etag}]}`. `GET /v1/videos/{id}/upload-parts` lists the parts
 * already stored (to resume).
 */
export const MultipartUploadInstructions = z
  .object({
    method: z.literal("MULTIPART"),
    partSizeBytes: z
      .number()
      .int()
      .describe("Size of every part but the last, bytes (5 MiB to 5 GiB, S3/R2 rule).")
      .openapi({ example: 16777216 }),
    partCount: z.number().int().min(1).max(10000).describe("Number of parts, 1 to 10,000 (S3/R2 rule)."),
    expiresAt: IsoTime.describe(
      "The upload must be completed before this time (UPLOAD_PENDING_TTL_SECONDS): then the video and its parts are deleted.",
    ),
  })
  .openapi("MultipartUploadInstructions");
export type MultipartUploadInstructions = z.infer<typeof MultipartUploadInstructions>;

/** Upload instructions of a new video: one presigned `PUT`, or a `MULTIPART` upload for large files. */
export const VideoUpload = z
  .discriminatedUnion("method", [UploadInstructions, MultipartUploadInstructions])
  .openapi("VideoUpload");
export type VideoUpload = z.infer<typeof VideoUpload>;

/** `POST /v1/videos/{id}/upload-parts` body: the parts to presign. */
export const UploadPartsRequest = z
  .object({
    partNumbers: z
      .array(z.number().int().min(1).max(10000))
      .min(1)
      .max(100)
      .describe("Part numbers (1..partCount), at most 100 per call; duplicates are answered once.")
      .openapi({ example: [1, 2, 3] }),
  })
  .openapi("UploadPartsRequest");
export type UploadPartsRequest = z.infer<typeof UploadPartsRequest>;

/** A presigned PUT of one part of a multipart upload. */
export const UploadPartUrl = z
  .object({
    partNumber: z.number().int().min(1).max(10000),
    url: z.string().describe("Presigned PUT URL of this part (bound to the upload, the part number and its size)."),
    headers: z
      .object({ "content-length": z.string() })
      .describe("Headers the URL is signed with: send exactly this size (403 otherwise)."),
    expiresAt: IsoTime.describe("The URL is refused after this time (UPLOAD_URL_TTL_SECONDS); ask again for a new one."),
  })
  .openapi("UploadPartUrl");
export type UploadPartUrl = z.infer<typeof UploadPartUrl>;

/** Answer of `POST /v1/videos/{id}/upload-parts`. */
export const UploadPartUrls = z.object({ parts: z.array(UploadPartUrl) }).openapi("UploadPartUrls");
export type UploadPartUrls = z.infer<typeof UploadPartUrls>;

/** A part the storage holds (S3 ListParts). */
export const StoredPart = z
  .object({
    partNumber: z.number().int().min(1).max(10000),
    etag: z.string().describe("The part's ETag, as answered by its PUT (quoted)."),
    sizeBytes: z.number().int().min(0),
  })
  .openapi("StoredPart");
export type StoredPart = z.infer<typeof StoredPart>;

/** Answer of `GET /v1/videos/{id}/upload-parts`: the upload's geometry and the parts already stored. */
export const StoredParts = z
  .object({
    partSizeBytes: z.number().int(),
    partCount: z.number().int().min(1).max(10000),
    parts: z.array(StoredPart).describe("Parts stored so far, by part number."),
  })
  .openapi("StoredParts");
export type StoredParts = z.infer<typeof StoredParts>;

/** One part of `POST /v1/videos/{id}/complete` for a multipart upload. */
export const CompletedPart = z.object({
  partNumber: z.number().int().min(1).max(10000),
  etag: z.string().min(1).max(200).describe("ETag header answered by the part's PUT."),
});
export type CompletedPart = z.infer<typeof CompletedPart>;

/** `POST /v1/videos/{id}/complete` body (optional): the parts of a multipart upload. */
export const CompleteUploadRequest = z
  .object({
    parts: z
      .array(CompletedPart)
      .min(1)
      .max(10000)
      .optional()
      .describe("Multipart uploads only: every part 1..partCount once, with its ETag. Ignored for single PUT uploads."),
  })
  .openapi("CompleteUploadRequest");
export type CompleteUploadRequest = z.infer<typeof CompleteUploadRequest>;

// ---- Transcodes (docs/architecture.md "Transcodes") ----------------------------------------------------

export const TranscodeStatusSchema = TranscodeStatus.openapi("TranscodeStatus", {
  description:
    "TRANSCODE_PENDING (waits for the video's upload to be completed), TRANSCODE_QUEUED, TRANSCODE_PROCESSING, TRANSCODE_SUCCESS, TRANSCODE_ERROR.",
});

/** One stored output of a succeeded transcode, with a link to it. */
export const TranscodeOutputView = z
  .object({
    rendition: z
      .string()
      .describe("Stable name: `mp4-720`, `webm-480`, `hls` (the master playlist), `hls-720` (one HLS variant's media playlist)."),
    format: z.enum(["mp4", "webm", "hls"]),
    contentType: z.string().describe("`video/mp4`, `video/webm`, or `application/vnd.apple.mpegurl` for playlists."),
    sizeBytes: z.number().int().min(0).describe("Bytes of the file; for HLS of the playlist with all its segments."),
    width: z.number().int().nullable().describe("Pixels (display orientation), null for the master playlist."),
    height: z.number().int().nullable(),
    durationSeconds: z.number().nullable(),
    bitrateKbps: z.number().nullable().describe("Average total bitrate, kbit/s."),
    hasAudio: z.boolean(),
    url: z
      .string()
      .describe(
        "Files: a presigned GET URL (download or `<video src>`). HLS: the playlist URL with its playback token (`?token=`), playable by hls.js, Safari or ffmpeg without a bearer token.",
      ),
    expiresAt: IsoTime.describe("The URL is refused after this time (DOWNLOAD_URL_TTL_SECONDS)."),
  })
  .openapi("TranscodeOutput");
export type TranscodeOutputView = z.infer<typeof TranscodeOutputView>;

/** One transcode of a video and the state of its latest attempt. */
export const Transcode = z
  .object({
    id: z.string().describe("Transcode id (UUID)."),
    videoId: z.string(),
    status: TranscodeStatusSchema,
    request: TranscodeRequest,
    attempt: z.number().int().min(0).describe("Current attempt; 0 while TRANSCODE_PENDING."),
    progress: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe("Share of the (trimmed) duration encoded, 0..1, never going down; 1 once done; null when unknown."),
    speed: z.number().min(0).nullable().describe("Encode speed, × real time (1 = as fast as playback); null when unknown."),
    etaSeconds: z.number().min(0).nullable().describe("Estimated seconds left while processing; null when unknown or done."),
    outputs: z.array(TranscodeOutputView).describe("The stored outputs once TRANSCODE_SUCCESS; empty before."),
    playbackUrl: z
      .string()
      .nullable()
      .describe("The HLS master playlist URL with its playback token when an `hls` rendition succeeded (same as the `hls` output's url)."),
    sourceDurationSeconds: z.number().nullable(),
    elapsedSeconds: z.number().nullable().describe("Encode wall time of the successful attempt, seconds."),
    errorMessage: z.string().nullable().describe("One human sentence, when the attempt failed."),
    errorDescription: z.string().nullable().describe("Technical detail, when the attempt failed."),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    queuedAt: IsoTime.nullable(),
    processingStartedAt: IsoTime.nullable(),
    completedAt: IsoTime.nullable(),
  })
  .openapi("Transcode");
export type Transcode = z.infer<typeof Transcode>;

/** `{ transcode }`: answer of the single-transcode routes. */
export const TranscodeEnvelope = z.object({ transcode: Transcode }).openapi("TranscodeEnvelope");
export type TranscodeEnvelope = z.infer<typeof TranscodeEnvelope>;

/** A page of a video's transcodes, newest first. */
export const TranscodeList = z
  .object({
    data: z.array(Transcode),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page."),
  })
  .openapi("TranscodeList");
export type TranscodeList = z.infer<typeof TranscodeList>;

/** Path parameters `{id}` (video) and `{tid}` (transcode). */
export const TranscodeIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, example: "0f8b7c8e-3c4d-4e8a-9f1b-2a3b4c5d6e7f" }),
  tid: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "tid", in: "path" }, example: "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a" }),
});

/** Path parameters of an HLS variant playlist: `{id}`, `{tid}` and `{height}` (pixels). */
export const HlsVariantParams = TranscodeIdParams.extend({
  height: z.coerce
    .number()
    .int()
    .min(1)
    .max(10000)
    .describe("The variant's height, pixels, as in its playlist's folder (`hls/{height}/index.m3u8`).")
    .openapi({ param: { name: "height", in: "path" }, example: 720, type: "integer" }),
});

/** Query of the HLS playlist routes: the playback token. */
export const PlaybackTokenQuery = z.object({
  token: z
    .string()
    .min(1)
    .max(200)
    .describe("Playback token made by the API (in the `hls` output's url): HMAC-SHA256 over video, transcode, attempt and expiry.")
    .openapi({ param: { name: "token", in: "query" } }),
});

/** Answer of `POST /v1/videos`. */
export const CreateVideoResponse = z
  .object({
    video: Video,
    upload: VideoUpload,
    transcode: Transcode.optional().describe("The transcode asked with `transcode` (TRANSCODE_PENDING until `/complete`)."),
  })
  .openapi("CreateVideoResponse");
export type CreateVideoResponse = z.infer<typeof CreateVideoResponse>;

/** Answer of `POST /v1/videos` for an import by URL: the video (VIDEO_IMPORT_QUEUED), no upload instructions. */
export const ImportVideoResponse = z
  .object({
    video: Video,
    transcode: Transcode.optional().describe("The transcode asked with `transcode` (TRANSCODE_PENDING until the import is stored)."),
  })
  .openapi("ImportVideoResponse");
export type ImportVideoResponse = z.infer<typeof ImportVideoResponse>;

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

/** `GET /v1/videos/{id}/transcodes` query. */
export const ListTranscodesQuery = ListVideosQuery.pick({ limit: true, cursor: true }).extend({
  status: TranscodeStatusSchema.optional().openapi({ param: { name: "status", in: "query" } }),
});
export type ListTranscodesQuery = z.infer<typeof ListTranscodesQuery>;

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

// ---- Timeline (docs/architecture.md "Timeline") --------------------------------------------------------

/** One recorded change of a video or of one of its jobs. */
export const VideoEvent = z
  .object({
    id: z.number().int().describe("Event id; ids grow in the order the changes were recorded."),
    jobKind: TimelineJobKind.describe(
      "`video` the record itself (created), `extract` its image extraction, `transcode` one transcode (see `jobId`); `import` and `generation` are reserved.",
    ),
    jobId: z.string().describe("The transcode id for `transcode`; empty for the video's own jobs."),
    attempt: z.number().int().min(0).describe("The job's attempt after the change (0 before the first one is queued)."),
    fromStatus: TimelineStatus.nullable().describe("Status before the change; null when the record was created."),
    toStatus: TimelineStatus.describe("Status after the change (`TRANSCODE_DELETED` when a transcode was deleted)."),
    source: TimelineSource.describe(
      "Who caused it: `user` (the owner's request), `processor`, `api` (the API on its own: a job given up, the processor unreachable), `cron` (lease recovery), `generator`.",
    ),
    message: z.string().nullable().describe("Why, when it says more than the statuses: an error message, a retry's reason (≤ 500 characters)."),
    createdAt: IsoTime,
  })
  .openapi("VideoEvent");
export type VideoEvent = z.infer<typeof VideoEvent>;

/** `GET /v1/videos/{id}/events` query. */
export const ListVideoEventsQuery = ListVideosQuery.pick({ limit: true, cursor: true });
export type ListVideoEventsQuery = z.infer<typeof ListVideoEventsQuery>;

/** A page of a video's timeline, newest first. */
export const VideoEventList = z
  .object({
    data: z.array(VideoEvent),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page."),
  })
  .openapi("VideoEventList");
export type VideoEventList = z.infer<typeof VideoEventList>;

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

// ---- Webhooks (docs/webhooks.md) and statistics ------------------------------------------------------

/** Event types an endpoint subscribes to; `ping` is only sent by `POST /v1/webhooks/{id}/test`. */
export const WebhookEventTypeSchema = WebhookEventType.describe(
  "`video.ready`: images extracted; `video.failed`: the extraction ended in error; `video.import_failed`: the import of a video by URL ended in error (VIDEO_IMPORT_ERROR); `video.generation_failed`: a generation ended in error (VIDEO_GENERATION_ERROR); `transcode.ready`: a transcode's outputs are stored; `transcode.failed`: a transcode ended in error.",
)
  .openapi("WebhookEventType");

/** `POST /v1/webhooks` body. */
export const CreateWebhookRequest = z
  .object({
    url: z
      .string()
      .trim()
      .min(1)
      .max(2048)
      .describe(
        "Where events are POSTed: https, default port, no credentials, not a private/loopback/link-local address or `localhost` (locally, ENVIRONMENT=local, http and loopback are allowed).",
      )
      .openapi({ example: "https://example.com/hooks/vidsnap" }),
    events: z
      .array(WebhookEventTypeSchema)
      .min(1)
      .max(WEBHOOK_EVENT_TYPES.length)
      .optional()
      .describe("Event types to receive; default all."),
    description: z.string().trim().max(200).optional().openapi({ example: "production receiver" }),
  })
  .openapi("CreateWebhookRequest");
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequest>;

/** A registered webhook endpoint (never its secret). */
export const WebhookEndpoint = z
  .object({
    id: z.string().describe("Endpoint id (UUID)."),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(WebhookEventTypeSchema),
    enabled: z.boolean(),
    createdAt: IsoTime,
  })
  .openapi("WebhookEndpoint");
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

/** `{ webhook }`: answer of `GET /v1/webhooks/{id}`. */
export const WebhookEnvelope = z.object({ webhook: WebhookEndpoint }).openapi("WebhookEnvelope");
export type WebhookEnvelope = z.infer<typeof WebhookEnvelope>;

/** Answer of `POST /v1/webhooks` and `POST /v1/webhooks/{id}/rotate-secret`: the only time the secret is shown. */
export const WebhookWithSecret = z
  .object({
    webhook: WebhookEndpoint,
    secret: z
      .string()
      .describe("Signing secret (`whsec_…`), shown only now: store it to verify `vidsnap-signature` (docs/webhooks.md).")
      .openapi({ example: "whsec_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
  })
  .openapi("WebhookWithSecret");
export type WebhookWithSecret = z.infer<typeof WebhookWithSecret>;

/** Answer of `GET /v1/webhooks`: every endpoint of the user (at most 10), newest first. */
export const WebhookEndpointList = z.object({ data: z.array(WebhookEndpoint) }).openapi("WebhookEndpointList");
export type WebhookEndpointList = z.infer<typeof WebhookEndpointList>;

/** Path parameter `{id}` of the webhook routes. */
export const WebhookIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, example: "5b0c2d1e-8f3a-4b6c-9d7e-1a2b3c4d5e6f" }),
});

/** One HTTP try of a delivery. */
export const WebhookDeliveryAttempt = z
  .object({
    at: IsoTime.describe("When the try started."),
    responseStatus: z.number().int().nullable().describe("HTTP status answered, null when none (timeout, network error)."),
    error: z.string().nullable().describe("Why the try failed, null on success."),
    durationMs: z.number().int().min(0),
  })
  .openapi("WebhookDeliveryAttempt");

/** One event sent (or being sent) to one endpoint. */
export const WebhookDelivery = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string().describe("`evt_…`, the body's `id` and the `vidsnap-event-id` header."),
    eventType: z.enum([...WebhookEventType.options, "ping"]),
    videoId: z.string().nullable(),
    transcodeId: z.string().nullable().describe("The transcode a `transcode.*` event is about; null otherwise."),
    videoAttempt: z.number().int().nullable().describe("Attempt of the extraction (`video.*`) or of the transcode (`transcode.*`)."),
    status: z.enum(["pending", "succeeded", "failed"]),
    attemptsMade: z.number().int().min(0),
    lastResponseStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: IsoTime.nullable().describe("When the next try is due, while `pending` after a failed try."),
    createdAt: IsoTime,
    deliveredAt: IsoTime.nullable(),
    attempts: z.array(WebhookDeliveryAttempt).describe("Every try so far, oldest first."),
  })
  .openapi("WebhookDelivery");
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** `{ delivery }`: answer of `POST /v1/webhooks/{id}/test`. */
export const WebhookDeliveryEnvelope = z.object({ delivery: WebhookDelivery }).openapi("WebhookDeliveryEnvelope");

/** `GET /v1/webhooks/{id}/deliveries` query. */
export const ListWebhookDeliveriesQuery = ListVideosQuery.pick({ limit: true, cursor: true }).extend({
  status: z
    .enum(["pending", "succeeded", "failed"])
    .optional()
    .openapi({ param: { name: "status", in: "query" } }),
});
export type ListWebhookDeliveriesQuery = z.infer<typeof ListWebhookDeliveriesQuery>;

/** A page of deliveries, newest first. */
export const WebhookDeliveryList = z
  .object({
    data: z.array(WebhookDelivery),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page."),
  })
  .openapi("WebhookDeliveryList");
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;

/**
 * The JSON body POSTed to an endpoint (docs/webhooks.md). `data.video` has the shape of
 * `GET /v1/videos/{id}`'s `video` when the event happened; `transcode.*` events also carry `data.transcode`
 * (output links valid EMAIL_LINK_TTL_SECONDS); `ping` carries `data.webhookId` instead.
 */
export const WebhookEventBody = z
  .object({
    id: z.string().describe("`evt_…`, stable across retries and endpoints: deduplicate on it."),
    type: z.enum([...WebhookEventType.options, "ping"]),
    createdAt: IsoTime,
    data: z.object({ video: Video.optional(), transcode: Transcode.optional(), webhookId: z.string().optional() }),
  })
  .openapi("WebhookEventBody");
export type WebhookEventBody = z.infer<typeof WebhookEventBody>;

/** Answer of `GET /v1/stats`: the calling user's videos (deleted videos are not counted). */
export const Stats = z
  .object({
    videosByStatus: z
      .object(Object.fromEntries(VideoStatus.options.map((s) => [s, z.number().int().min(0)])) as Record<VideoStatus, z.ZodNumber>)
      .describe("Number of videos in each status; every status is present."),
    totalVideos: z.number().int().min(0),
    successRate: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe("succeeded / (succeeded + failed) over finished videos; null when none finished."),
    processingSeconds: z
      .object({
        median: z.number().nullable(),
        p95: z.number().nullable(),
        sampleSize: z.number().int().min(0).describe("Succeeded videos measured (the latest 10,000 at most)."),
      })
      .describe(
        "Time from the processor's start (`processingStartedAt`) to completion (`completedAt`) of succeeded videos, seconds; queue wait excluded. Nearest-rank percentiles; null without samples.",
      ),
    imagesProduced: z.number().int().min(0).describe("Images in the archives of succeeded videos."),
    transcodesByStatus: z
      .object(Object.fromEntries(TranscodeStatus.options.map((s) => [s, z.number().int().min(0)])) as Record<TranscodeStatus, z.ZodNumber>)
      .describe("Number of transcodes in each status; every status is present."),
    totalTranscodes: z.number().int().min(0),
    bytesStored: z
      .object({
        videos: z.number().int().min(0).describe("Uploaded videos (upload completed), bytes."),
        archives: z.number().int().min(0).describe("ZIP archives of succeeded videos, bytes."),
        total: z.number().int().min(0),
      })
      .describe("Bytes held in the buckets for this user."),
  })
  .openapi("Stats", {
    example: {
      videosByStatus: {
        VIDEO_UPLOAD_PENDING: 1,
        VIDEO_IMAGE_EXTRACTION_QUEUED: 0,
        VIDEO_IMAGE_EXTRACTION_PROCESSING: 1,
        VIDEO_IMAGE_EXTRACTION_SUCCESS: 8,
        VIDEO_IMAGE_EXTRACTION_ERROR: 2,
        VIDEO_IMPORT_QUEUED: 0,
        VIDEO_IMPORTING: 1,
        VIDEO_IMPORT_ERROR: 1,
        VIDEO_GENERATION_PENDING: 0,
        VIDEO_GENERATION_ERROR: 0,
      },
      totalVideos: 14,
      successRate: 0.8,
      processingSeconds: { median: 1.4, p95: 6.2, sampleSize: 8 },
      imagesProduced: 163,
      transcodesByStatus: { TRANSCODE_PENDING: 0, TRANSCODE_QUEUED: 1, TRANSCODE_PROCESSING: 1, TRANSCODE_SUCCESS: 4, TRANSCODE_ERROR: 0 },
      totalTranscodes: 6,
      bytesStored: { videos: 412000000, archives: 18300000, total: 430300000 },
    },
  });
export type Stats = z.infer<typeof Stats>;

// ---- Generators and generations (docs/generators.md) ----------------------------------------------------

/** Largest `input` of a generation, bytes of its JSON text. */
export const MAX_GENERATION_INPUT_BYTES = 64 * 1024;
/** Default `estimatedSeconds` of a generation (15 minutes, the n8n pattern's estimate). */
export const DEFAULT_GENERATION_ESTIMATED_SECONDS = 900;

/** `POST /v1/generators` body. */
export const CreateGeneratorRequest = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "n8n avatar workflow" }),
    url: z
      .string()
      .trim()
      .min(1)
      .max(2048)
      .describe(
        "Where generation requests are POSTed: https, default port, no credentials, not a private/loopback/link-local address or `localhost` (locally, ENVIRONMENT=local, http and loopback are allowed).",
      )
      .openapi({ example: "https://n8n.example.com/webhook/vidsnap-generate" }),
  })
  .strict()
  .openapi("CreateGeneratorRequest");
export type CreateGeneratorRequest = z.infer<typeof CreateGeneratorRequest>;

/** A registered generator (never its secret). */
export const Generator = z
  .object({
    id: z.string().describe("Generator id (UUID)."),
    name: z.string(),
    url: z.string(),
    createdAt: IsoTime,
  })
  .openapi("Generator");
export type Generator = z.infer<typeof Generator>;

/** `{ generator }`: answer of `GET /v1/generators/{id}`. */
export const GeneratorEnvelope = z.object({ generator: Generator }).openapi("GeneratorEnvelope");
export type GeneratorEnvelope = z.infer<typeof GeneratorEnvelope>;

/** Answer of `POST /v1/generators` and `POST /v1/generators/{id}/rotate-secret`: the only time the secret is shown. */
export const GeneratorWithSecret = z
  .object({
    generator: Generator,
    secret: z
      .string()
      .describe("Signing secret (`whsec_…`), shown only now: the generator verifies `vidsnap-signature` with it (docs/generators.md).")
      .openapi({ example: "whsec_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
  })
  .openapi("GeneratorWithSecret");
export type GeneratorWithSecret = z.infer<typeof GeneratorWithSecret>;

/** Answer of `GET /v1/generators`: every generator of the user (at most 10), newest first. */
export const GeneratorList = z.object({ data: z.array(Generator) }).openapi("GeneratorList");
export type GeneratorList = z.infer<typeof GeneratorList>;

/** Path parameter `{id}` of the generator and generation routes. */
export const GeneratorIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, example: "5b0c2d1e-8f3a-4b6c-9d7e-1a2b3c4d5e6f" }),
});

/** `POST /v1/generations` body. */
export const CreateGenerationRequest = z
  .object({
    generator: z.string().min(1).max(100).describe("Id of one of your generators."),
    input: z
      .record(z.string(), z.unknown())
      .refine((v) => new TextEncoder().encode(JSON.stringify(v)).length <= MAX_GENERATION_INPUT_BYTES, {
        message: `The input must be at most ${MAX_GENERATION_INPUT_BYTES} bytes of JSON.`,
      })
      .describe(`JSON object handed to the generator as is (at most ${MAX_GENERATION_INPUT_BYTES} bytes as JSON).`)
      .openapi({ example: { script: "Hello from vidsnap", avatar: "anna" } }),
    title: Filename.optional().describe("Name shown for the video; default `generation`."),
    extraction: ExtractionOptions.optional().describe("Extraction options once the video is stored; default `{ \"mode\": \"keyframes\" }`."),
    transcode: TranscodeRequest.optional().describe("Also transcode the video once it is stored (TRANSCODE_PENDING until then)."),
    estimatedSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional()
      .describe(`When the generator should be done, seconds from now; default ${DEFAULT_GENERATION_ESTIMATED_SECONDS}.`),
  })
  .strict()
  .openapi("CreateGenerationRequest");
export type CreateGenerationRequest = z.infer<typeof CreateGenerationRequest>;

/** Answer of `POST /v1/generations`: the video (VIDEO_GENERATION_PENDING) and the transcode asked with it. */
export const CreateGenerationResponse = z
  .object({
    video: Video,
    transcode: Transcode.optional().describe("The transcode asked with `transcode` (TRANSCODE_PENDING until the video is stored)."),
  })
  .openapi("CreateGenerationResponse");
export type CreateGenerationResponse = z.infer<typeof CreateGenerationResponse>;

/** Longest generator `error` kept, characters. */
export const MAX_GENERATOR_ERROR_CHARS = 1000;

/** `POST /v1/generations/{id}/callback` body, sent by the generator. */
export const GenerationCallbackRequest = z
  .object({
    status: z.enum(["ready", "failed"]),
    url: z.string().min(1).max(2048).optional().describe("`ready`: where vidsnap downloads the video (same rules as an import's URL)."),
    metadata: z.record(z.string(), z.unknown()).optional().describe("Free-form details (size, format); logged, not stored."),
    error: z.string().max(10_000).optional().describe(`\`failed\`: the generator's error, kept to ${MAX_GENERATOR_ERROR_CHARS} characters.`),
  })
  .refine((b) => b.status !== "ready" || b.url !== undefined, { message: "`url` is required when status is ready.", path: ["url"] })
  .openapi("GenerationCallbackRequest");
export type GenerationCallbackRequest = z.infer<typeof GenerationCallbackRequest>;
