/**
 * Upload of a local video file (Node 20+): ./upload-protocol.ts with a file source (./node-file.ts).
 * Every failure is an {@link UploadError}; API failures carry the HTTP status and the problem details.
 */
import type { ExtractionOptions, TranscodeRequest, Video } from "./index.ts";
import { createVidsnapClient } from "./index.ts";
import { fileSource } from "./node-file.ts";
import { fetchPut, resumeUpload, uploadVideo, type UploadProgress } from "./upload-protocol.ts";

export {
  PART_ATTEMPTS,
  PART_BACKOFF_MS,
  PART_CONCURRENCY,
  PART_URL_MIN_LIFETIME_MS,
  PART_URLS_PER_CALL,
  partSizes,
  UploadError,
  type UploadProblem,
  type UploadProgress,
} from "./upload-protocol.ts";

export interface UploadVideoFileOptions {
  /** API base URL, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** Bearer token (session token or API key). */
  token: string;
  /** Local file to upload. */
  filePath: string;
  /** MIME type; default: the first type the API allows for the file's extension (schema/video-types.ts). */
  contentType?: string;
  /** Extraction options; default: the API's (keyframes). */
  options?: ExtractionOptions;
  /** Renditions to make after `complete` (sent as `transcode` with `POST /v1/videos`). */
  transcode?: TranscodeRequest;
  /** Called as bytes are sent. */
  onProgress?: (p: UploadProgress) => void;
  /** Aborts every request (the video stays VIDEO_UPLOAD_PENDING; a multipart upload can be resumed). */
  signal?: AbortSignal;
  /** fetch implementation of the API calls and the storage PUTs (tests); default global fetch. */
  fetch?: typeof fetch;
}

export interface ResumeVideoUploadOptions {
  baseUrl: string;
  token: string;
  /** Id of a video created by {@link uploadVideoFile} (or `POST /v1/videos`) with a MULTIPART upload. */
  videoId: string;
  /** The same local file (its size must equal the video's declared size). */
  filePath: string;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

function transport(o: { baseUrl: string; token: string; fetch?: typeof fetch }) {
  return { api: createVidsnapClient({ baseUrl: o.baseUrl, token: o.token, ...(o.fetch ? { fetch: o.fetch } : {}) }), put: fetchPut(o.fetch) };
}

/**
 * Creates the video (`POST /v1/videos`), uploads the file (single PUT or multipart, as the API answers),
 * completes it (`POST /v1/videos/{id}/complete`).
 * @returns the video as answered by `/complete` (normally VIDEO_IMAGE_EXTRACTION_QUEUED)
 * @throws UploadError on any failure (file unreadable, API problem, storage refusal, network, abort)
 */
export async function uploadVideoFile(o: UploadVideoFileOptions): Promise<Video> {
  return uploadVideo({
    ...transport(o),
    source: await fileSource(o.filePath),
    ...(o.contentType ? { contentType: o.contentType } : {}),
    ...(o.options ? { options: o.options } : {}),
    ...(o.transcode ? { transcode: o.transcode } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}

/**
 * Resumes the multipart upload of an existing video: sends only the parts the storage lacks
 * (`GET /v1/videos/{id}/upload-parts`), then completes it. A video already past VIDEO_UPLOAD_PENDING is
 * answered as is.
 * @returns the video as answered by `/complete` (or its current state)
 * @throws UploadError: the video is missing (404), uses a single PUT (409), the file's size differs from the
 *   declared size, or any upload failure
 */
export async function resumeVideoUpload(o: ResumeVideoUploadOptions): Promise<Video> {
  let source;
  try {
    source = await fileSource(o.filePath);
  } catch (err) {
    (err as { videoId?: string }).videoId = o.videoId;
    throw err;
  }
  return resumeUpload({
    ...transport(o),
    videoId: o.videoId,
    source,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}
