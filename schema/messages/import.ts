/**
 * Message family MSG_IMPORT_VIDEO*: the import of a video by URL, sent by the API to the processor, and the
 * events the processor sends back (same `{type, sender, target, payload}` envelope and rules as
 * MSG_EXTRACT_SNAPSHOT*: every payload names the video, its owner and the attempt ≥ 1, so an event of an
 * older attempt is recognised and ignored). The processor downloads `url` into the video's source object
 * (schema/object-keys.ts `sourceObjectKey`) of the videos bucket.
 */
import { z } from "zod";
import { API_SERVICE, envelope, envelopeBuilder, PROCESSOR_SERVICE } from "./envelope.ts";
import { JobErrorFields } from "./job-error.ts";
import { KeyId, ObjectEtag } from "./extract-snapshot.ts";

const ImportRef = z.object({
  videoId: KeyId,
  userId: KeyId,
  attempt: z.number().int().min(1),
});

/**
 * API → processor: download `url` (already checked by runtime/outgoing-url.ts `checkOutgoingUrl`; the
 * processor checks it again with every address it resolves to and every redirect) into the video's source
 * object. `maxBytes` is the API's MAX_UPLOAD_BYTES: a larger body is refused.
 */
export const ImportVideoMessage = envelope(
  "MSG_IMPORT_VIDEO",
  [API_SERVICE],
  PROCESSOR_SERVICE,
  ImportRef.extend({ url: z.string().min(1).max(2048), maxBytes: z.number().int().min(1) }),
);
export type ImportVideoMessage = z.infer<typeof ImportVideoMessage>;

/** Processor → API: the download started (first line), or is still alive (heartbeat after 30 s of silence). */
export const ImportVideoProcessingMessage = envelope("MSG_IMPORT_VIDEO_PROCESSING", [PROCESSOR_SERVICE], API_SERVICE, ImportRef);
export type ImportVideoProcessingMessage = z.infer<typeof ImportVideoProcessingMessage>;

/**
 * Processor → API: bytes downloaded so far (at most every 2 s). `totalBytes` is the remote server's
 * `content-length` (null when it sent none), `fraction` = importedBytes / totalBytes (null when the total is
 * unknown). Renews the attempt's lease like PROCESSING.
 */
export const ImportVideoProgressMessage = envelope(
  "MSG_IMPORT_VIDEO_PROGRESS",
  [PROCESSOR_SERVICE],
  API_SERVICE,
  ImportRef.extend({
    importedBytes: z.number().int().min(0),
    totalBytes: z.number().int().min(0).nullable(),
    fraction: z.number().min(0).max(1).nullable(),
  }),
);
export type ImportVideoProgressMessage = z.infer<typeof ImportVideoProgressMessage>;

/**
 * Processor → API: the body is stored whole as the video's source object (`sourceUri`, `s3://bucket/key`),
 * `sizeBytes` long; `contentType` is the remote server's `video/*` type (`application/octet-stream` when it
 * named none), `etag` the stored object's ETag when the store answered one.
 */
export const ImportVideoSuccessMessage = envelope(
  "MSG_IMPORT_VIDEO_SUCCESS",
  [PROCESSOR_SERVICE],
  API_SERVICE,
  ImportRef.extend({
    sourceUri: z.string().startsWith("s3://"),
    sizeBytes: z.number().int().min(1),
    contentType: z.string().min(1).max(255),
    etag: ObjectEtag.optional(),
  }),
);
export type ImportVideoSuccessMessage = z.infer<typeof ImportVideoSuccessMessage>;

/**
 * Processor → API: the import failed and nothing of it is stored (the multipart upload was aborted).
 * `retryable: true` marks a transient fault (the storage unavailable, the processor shutting down), as for
 * the other job kinds. Sent by the API itself (sender VIDEO_API_SERVICE) when it fails a job on the
 * processor's behalf (unreachable, dead-lettered, leases).
 */
export const ImportVideoErrorMessage = envelope(
  "MSG_IMPORT_VIDEO_ERROR",
  [PROCESSOR_SERVICE, API_SERVICE],
  API_SERVICE,
  ImportRef.extend(JobErrorFields.shape),
);
export type ImportVideoErrorMessage = z.infer<typeof ImportVideoErrorMessage>;

export const importVideoMessage = envelopeBuilder(ImportVideoMessage);
export const importVideoProcessingMessage = envelopeBuilder(ImportVideoProcessingMessage);
export const importVideoProgressMessage = envelopeBuilder(ImportVideoProgressMessage);
export const importVideoSuccessMessage = envelopeBuilder(ImportVideoSuccessMessage);
export const importVideoErrorMessage = envelopeBuilder(ImportVideoErrorMessage);

/** Any event of an import job. */
export const ImportVideoEvent = z.discriminatedUnion("type", [
  ImportVideoProcessingMessage,
  ImportVideoProgressMessage,
  ImportVideoSuccessMessage,
  ImportVideoErrorMessage,
]);
export type ImportVideoEvent = z.infer<typeof ImportVideoEvent>;
