/**
 * The dashboard's upload of one file: client/src/upload-protocol.ts with the file as a Blob source and
 * XMLHttpRequest PUTs (upload progress). {@link checkFile} refuses what the API would refuse for its type
 * or emptiness before any request; Cancel aborts the requests and deletes the half-created video.
 */
import { DEFAULT_VIDEO_TYPES, fileExtension } from "../../schema/video-types.ts";
import type { ExtractionOptions, Video } from "../../client/src/index.ts";
import { blobSource, UploadError, uploadVideo, videoContentType, type UploadPhase } from "../../client/src/upload-protocol.ts";
import { xhrPut } from "../../client/src/xhr-put.ts";
import { api } from "./api.ts";

/** Accepted file extensions, for the file picker's `accept` and messages. */
export const ACCEPTED_EXTENSIONS = Object.keys(DEFAULT_VIDEO_TYPES);

/**
 * Checks a file before anything is sent.
 * @returns the MIME type to declare (the browser's own when the allow-list has it for the extension,
 *   else the extension's first type)
 * @throws UploadError for an empty file or an extension outside the allow-list
 */
export function checkFile(file: File): string {
  if (!DEFAULT_VIDEO_TYPES[fileExtension(file.name)]) {
    throw new UploadError(`${file.name} is not a supported video: use one of ${ACCEPTED_EXTENSIONS.map((e) => `.${e}`).join(", ")}.`);
  }
  if (file.size === 0) throw new UploadError(`${file.name} is empty.`);
  return videoContentType(file.name, file.type);
}

const PHASE_TEXT = {
  create: "Preparing the upload…",
  upload: "Uploading…",
  complete: "Starting the extraction…",
} as const satisfies Record<UploadPhase, string>;

export interface UploadCallbacks {
  /** Bytes sent so far of `total`. */
  onProgress(sent: number, total: number): void;
  /** What the upload is doing now ("Uploading…", "Starting the extraction…"). */
  onPhase(text: string): void;
}

export interface UploadHandle {
  /** The video once completed (queued for extraction). @throws UploadError */
  done: Promise<Video>;
  /** Stops the upload and deletes the video record it created. */
  cancel(): void;
}

/**
 * Starts uploading `file` with `options`.
 * @param file the picked or dropped file (checked with {@link checkFile} first)
 * @param options extraction options (schema/extraction-options.ts)
 */
export function startUpload(file: File, options: ExtractionOptions, cb: UploadCallbacks): UploadHandle {
  const controller = new AbortController();
  const run = async () =>
    uploadVideo({
      api,
      source: blobSource(file),
      contentType: checkFile(file),
      options,
      put: xhrPut,
      signal: controller.signal,
      onPhase: (phase) => cb.onPhase(PHASE_TEXT[phase]),
      onProgress: (p) => cb.onProgress(p.uploadedBytes, p.totalBytes),
    });
  const done = run().catch(async (err: unknown) => {
    if (!controller.signal.aborted) throw err;
    // Best effort (the cron deletes a pending video after UPLOAD_PENDING_TTL_SECONDS anyway); awaited, so the
    // list refreshed after the cancel no longer shows the video.
    const id = (err as UploadError).videoId;
    if (id) await api.DELETE("/v1/videos/{id}", { params: { path: { id } } }).catch(() => undefined);
    throw new UploadError("Upload cancelled.");
  });
  return {
    done,
    cancel() {
      if (!controller.signal.aborted) controller.abort(new DOMException("cancelled", "AbortError"));
    },
  };
}
