/**
 * Message family MSG_EXTRACT_SNAPSHOT*: the job sent by the API to the image processor and the events
 * the processor sends back. Every payload names the video, its owner and the attempt (≥ 1), so an
 * event of an older attempt can be recognised and ignored.
 */
import { z } from "zod";
import { ExtractionOptions } from "../extraction-options.ts";
import { ExtractionWarnings, SourceFacts } from "../manifest.ts";
import { API_SERVICE, envelope, envelopeBuilder, PROCESSOR_SERVICE } from "./envelope.ts";
import { JobErrorFields } from "./job-error.ts";

/**
 * An id that object keys are built from (schema/object-keys.ts): letters, digits, `-` and `_` only, at most
 * 64 characters, so a crafted message cannot reach other keys (`/`, `..`, encodings). Covers what the API
 * generates: UUIDs for videos, better-auth's 32-character alphanumeric ids for users.
 */
export const KeyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '-' or '_'");

const JobRef = z.object({
  videoId: KeyId,
  userId: KeyId,
  attempt: z.number().int().min(1),
});

/**
 * An object's ETag as S3 and R2 answer it (`"<hex md5>"`, `"<hex>-<parts>"` for a multipart upload): visible
 * ASCII only, optionally in double quotes, at most 200 characters. No space, quote or control character
 * inside, because the processor sends it as an `If-Match` header (also through ffmpeg's `-headers`).
 */
export const ObjectEtag = z.string().regex(/^"?[\x21\x23-\x7e]{1,200}"?$/, "must be an ETag: visible ASCII, optionally quoted");

/**
 * API → processor: extract images of one uploaded video. `sourceEtag` is the source object's ETag recorded
 * at `complete`: the processor reads the source only while it still has that ETag (`If-Match`), so an object
 * replaced afterwards fails the job ("The video was replaced after upload completed"). Optional: messages
 * queued before it existed still parse, and are read without the condition.
 */
export const ExtractSnapshotMessage = envelope(
  "MSG_EXTRACT_SNAPSHOT",
  [API_SERVICE],
  PROCESSOR_SERVICE,
  JobRef.extend({ options: ExtractionOptions, sourceEtag: ObjectEtag.optional() }),
);
export type ExtractSnapshotMessage = z.infer<typeof ExtractSnapshotMessage>;

/**
 * Processor → API: the job started (first line), or is still alive (a heartbeat after HEARTBEAT_SECONDS
 * of silence, default 30). Progress travels in MSG_EXTRACT_SNAPSHOT_PROGRESS; the optional `progress`
 * here is deprecated (sent by processors before that message existed) and still applied by the API.
 */
export const ExtractSnapshotProcessingMessage = envelope(
  "MSG_EXTRACT_SNAPSHOT_PROCESSING",
  [PROCESSOR_SERVICE],
  API_SERVICE,
  JobRef.extend({
    progress: z
      .object({ fraction: z.number().min(0).max(1), images: z.number().int().min(0) })
      .optional(),
  }),
);
export type ExtractSnapshotProcessingMessage = z.infer<typeof ExtractSnapshotProcessingMessage>;

/**
 * Processor → API: the job advanced, at most every 2 s while images come out. `fraction` is the share of
 * the work window done (0..1: the duration, or [startSeconds, endSeconds] when a window was asked), by
 * the timestamp of the latest image; `imagesSoFar` the images in the archive so far. Never lower than the
 * job's previous PROGRESS (the API keeps the maximum anyway: queue order is not guaranteed). Like
 * PROCESSING it renews the attempt's lease.
 */
export const ExtractSnapshotProgressMessage = envelope(
  "MSG_EXTRACT_SNAPSHOT_PROGRESS",
  [PROCESSOR_SERVICE],
  API_SERVICE,
  JobRef.extend({
    fraction: z.number().min(0).max(1),
    imagesSoFar: z.number().int().min(0),
  }),
);
export type ExtractSnapshotProgressMessage = z.infer<typeof ExtractSnapshotProgressMessage>;

/**
 * Processor → API: the archive is in the images bucket. `warnings` (optional) when the file was damaged
 * and only part of it could be decoded (schema/manifest.ts `ExtractionWarnings`).
 */
export const ExtractSnapshotSuccessMessage = envelope(
  "MSG_EXTRACT_SNAPSHOT_SUCCESS",
  [PROCESSOR_SERVICE],
  API_SERVICE,
  JobRef.extend({
    /** `s3://images-bucket/key` of the archive (an object reference, not a URL: clients get presigned URLs from the API). */
    archiveUri: z.string().startsWith("s3://"),
    /** `s3://images-bucket/key` of the stand-alone manifest.json. */
    manifestUri: z.string().startsWith("s3://"),
    imageCount: z.number().int().min(0),
    zipSizeBytes: z.number().int().min(0),
    source: SourceFacts,
    warnings: ExtractionWarnings.optional(),
  }),
);
export type ExtractSnapshotSuccessMessage = z.infer<typeof ExtractSnapshotSuccessMessage>;

/**
 * Processor → API: the job failed; `errorMessage` is one human sentence, `errorDescription` the detail.
 * `retryable: true` marks a transient fault (the storage unavailable, the processor shutting down): the API
 * then re-queues the job as a new attempt with backoff while its retry budget lasts, instead of recording
 * ERROR (edge-api/src/lifecycle/record-event.ts). Optional: absent means permanent (older processors).
 * The API sends it itself (sender VIDEO_API_SERVICE) when it fails a job on the processor's behalf: the
 * processor stayed unreachable, the job was dead-lettered, or its lease expired too often.
 */
export const ExtractSnapshotErrorMessage = envelope(
  "MSG_EXTRACT_SNAPSHOT_ERROR",
  [PROCESSOR_SERVICE, API_SERVICE],
  API_SERVICE,
  JobRef.extend(JobErrorFields.shape),
);
export type ExtractSnapshotErrorMessage = z.infer<typeof ExtractSnapshotErrorMessage>;

export const extractSnapshotMessage = envelopeBuilder(ExtractSnapshotMessage);
export const extractSnapshotProcessingMessage = envelopeBuilder(ExtractSnapshotProcessingMessage);
export const extractSnapshotProgressMessage = envelopeBuilder(ExtractSnapshotProgressMessage);
export const extractSnapshotSuccessMessage = envelopeBuilder(ExtractSnapshotSuccessMessage);
export const extractSnapshotErrorMessage = envelopeBuilder(ExtractSnapshotErrorMessage);

/** Any event of an extraction job (sent by the processor, or by the API on its behalf). */
export const ExtractSnapshotEvent = z.discriminatedUnion("type", [
  ExtractSnapshotProcessingMessage,
  ExtractSnapshotProgressMessage,
  ExtractSnapshotSuccessMessage,
  ExtractSnapshotErrorMessage,
]);
export type ExtractSnapshotEvent = z.infer<typeof ExtractSnapshotEvent>;

/** True for the events that end an attempt (SUCCESS, ERROR); PROCESSING and PROGRESS are not final. */
export function isFinalExtractEvent(type: ExtractSnapshotEvent["type"]): boolean {
  return type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" || type === "MSG_EXTRACT_SNAPSHOT_ERROR";
}
