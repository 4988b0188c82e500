/**
 * Browser upload of one video file, the way the API answers `POST /v1/videos` (README "REST API"):
 * - {@link checkFile}: extension and type against the allow-list (schema/video-types.ts), non-empty file;
 *   the API checks both again, and the size against MAX_UPLOAD_BYTES (413), before any byte is sent;
 * - `upload.method === "PUT"`: one XMLHttpRequest PUT of the file to the presigned URL (fetch has no upload
 *   progress), with the signed `content-type` (the browser sets `content-length` from the file);
 * - `upload.method === "MULTIPART"`: parts of `partSizeBytes` (`Blob.slice`), presigned in batches of up to
 *   100 (`POST /v1/videos/{id}/upload-parts`), {@link PART_CONCURRENCY} PUTs at once, each retried twice
 *   with a fresh URL on network errors, 5xx and 429; each part's `ETag` (exposed by the bucket's CORS rule)
 *   goes to `/complete`;
 * - then `POST /v1/videos/{id}/complete`.
 * Cancel aborts the running requests and deletes the half-created video. Every failure is an
 * {@link UploadFailure} with one human sentence.
 */
import type { CreateVideoResponse, UploadPartUrls, Video } from "../../schema/api.ts";
import type { ExtractionOptions } from "../../schema/extraction-options.ts";
import { DEFAULT_VIDEO_TYPES, fileExtension } from "../../schema/video-types.ts";
import { apiJson, describeError } from "./api.ts";
import { sleep } from "./dom.ts";

/** Parts sent at once in a multipart upload. */
export const PART_CONCURRENCY = 3;
/** Tries per part (network errors, 5xx, 429). */
const PART_TRIES = 3;

/** A failed upload, with a message for the user. */
export class UploadFailure extends Error {
  override name = "UploadFailure";
}

/** Accepted file extensions, for the file picker's `accept` and messages. */
export const ACCEPTED_EXTENSIONS = Object.keys(DEFAULT_VIDEO_TYPES);

/**
 * Checks a file before anything is sent.
 * @returns the MIME type to declare (the browser's own when the allow-list has it for the extension,
 *   else the extension's first type)
 * @throws UploadFailure for an empty file or an extension/type outside the allow-list
 */
export function checkFile(file: File): string {
  const ext = fileExtension(file.name);
  const types = DEFAULT_VIDEO_TYPES[ext];
  if (!types) {
    throw new UploadFailure(
      `${file.name} is not a supported video: use one of ${ACCEPTED_EXTENSIONS.map((e) => `.${e}`).join(", ")}.`,
    );
  }
  if (file.size === 0) throw new UploadFailure(`${file.name} is empty.`);
  const declared = file.type.toLowerCase();
  return types.includes(declared) ? declared : types[0]!;
}

export interface UploadCallbacks {
  /** Bytes sent so far of `total`. */
  onProgress(sent: number, total: number): void;
  /** What the upload is doing now ("Uploading…", "Starting extraction…"). */
  onPhase(text: string): void;
}

export interface UploadHandle {
  /** The video once completed (queued for extraction). @throws UploadFailure */
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
  const requests = new Set<XMLHttpRequest>();
  let videoId: string | undefined;

  const run = async (): Promise<Video> => {
    const contentType = checkFile(file);
    cb.onPhase("Preparing the upload…");
    const created = await apiJson<CreateVideoResponse>(
      "POST",
      "/v1/videos",
      { filename: file.name, contentType, sizeBytes: file.size, options },
      controller.signal,
    );
    videoId = created.video.id;
    const upload = created.upload;
    cb.onPhase("Uploading…");
    cb.onProgress(0, file.size);
    let body: { parts: { partNumber: number; etag: string }[] } | undefined;
    if (upload.method === "PUT") {
      await put(upload.url, file, { "content-type": upload.headers["content-type"] }, (sent) => cb.onProgress(sent, file.size), requests, controller.signal);
    } else {
      body = { parts: await multipart(videoId, file, upload.partSizeBytes, upload.partCount, cb, requests, controller.signal) };
    }
    cb.onProgress(file.size, file.size);
    cb.onPhase("Starting the extraction…");
    const completed = await apiJson<{ video: Video }>("POST", `/v1/videos/${videoId}/complete`, body, controller.signal);
    return completed.video;
  };

  const done = run().catch(async (err: unknown) => {
    if (controller.signal.aborted) {
      // Best effort (the cron deletes a pending video after UPLOAD_PENDING_TTL_SECONDS anyway); awaited, so the
      // list refreshed after the cancel no longer shows the video.
      if (videoId) await apiJson("DELETE", `/v1/videos/${videoId}`).catch(() => undefined);
      throw new UploadFailure("Upload cancelled.");
    }
    throw err instanceof UploadFailure ? err : new UploadFailure(describeError(err));
  });
  return {
    done,
    cancel() {
      if (controller.signal.aborted) return;
      controller.abort(new DOMException("cancelled", "AbortError"));
      for (const xhr of requests) xhr.abort();
    },
  };
}

/** Sends the parts of a multipart upload. @returns every part's number and ETag, in order */
async function multipart(
  videoId: string,
  file: File,
  partSize: number,
  partCount: number,
  cb: UploadCallbacks,
  requests: Set<XMLHttpRequest>,
  signal: AbortSignal,
): Promise<{ partNumber: number; etag: string }[]> {
  const sent = new Map<number, number>();
  const report = () => cb.onProgress([...sent.values()].reduce((a, b) => a + b, 0), file.size);
  const etags = new Map<number, string>();
  const urls = new Map<number, { url: string; headers: Record<string, string> }>();

  const presign = async (numbers: number[]) => {
    const res = await apiJson<UploadPartUrls>("POST", `/v1/videos/${videoId}/upload-parts`, { partNumbers: numbers }, signal);
    for (const p of res.parts) urls.set(p.partNumber, { url: p.url, headers: p.headers });
  };

  let next = 1;
  const worker = async () => {
    while (next <= partCount) {
      const n = next++;
      const blob = file.slice((n - 1) * partSize, Math.min(n * partSize, file.size));
      for (let tryNo = 1; ; tryNo++) {
        if (!urls.has(n)) {
          // Presign this part and the following ones not yet presigned (up to 100 per call).
          const batch: number[] = [];
          for (let k = n; k <= partCount && batch.length < 100; k++) if (!urls.has(k) && !etags.has(k)) batch.push(k);
          await presign(batch);
        }
        const { url } = urls.get(n)!;
        urls.delete(n); // a retry gets a fresh URL
        try {
          const { etag } = await put(url, blob, {}, (s) => ((sent.set(n, s), report())), requests, signal);
          if (!etag) throw new UploadFailure("The storage did not expose the ETag of a part (check the bucket's CORS rule).");
          etags.set(n, etag);
          break;
        } catch (err) {
          sent.set(n, 0);
          report();
          if (signal.aborted || !(err instanceof RetryableError) || tryNo >= PART_TRIES) throw err;
          await sleep(500 * 2 ** (tryNo - 1), signal);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, partCount) }, worker));
  return [...etags].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
}

/** A storage failure worth retrying (network error, 5xx, 429). */
class RetryableError extends UploadFailure {}

/**
 * PUTs `blob` to a presigned URL with XMLHttpRequest (upload progress events).
 * @returns the answer's ETag header (null when not exposed)
 * @throws UploadFailure with the storage's error code, RetryableError for network errors/5xx/429
 */
function put(
  url: string,
  blob: Blob,
  headers: Record<string, string>,
  onProgress: (sent: number) => void,
  requests: Set<XMLHttpRequest>,
  signal: AbortSignal,
): Promise<{ etag: string | null }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const xhr = new XMLHttpRequest();
    requests.add(xhr);
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      requests.delete(xhr);
      if (xhr.status >= 200 && xhr.status < 300) return resolve({ etag: xhr.getResponseHeader("etag") });
      const message = storageMessage(xhr);
      reject(xhr.status >= 500 || xhr.status === 429 ? new RetryableError(message) : new UploadFailure(message));
    };
    xhr.onerror = () => {
      requests.delete(xhr);
      reject(new RetryableError("The upload was interrupted (network error). Check your connection and try again."));
    };
    xhr.onabort = () => {
      requests.delete(xhr);
      reject(signal.reason ?? new DOMException("cancelled", "AbortError"));
    };
    xhr.send(blob);
  });
}

/** One sentence about a refused PUT, from the S3 error document (`<Code>`, `<Message>`) when there is one. */
function storageMessage(xhr: XMLHttpRequest): string {
  let code = "";
  let message = "";
  try {
    const doc = new DOMParser().parseFromString(xhr.responseText, "application/xml");
    code = doc.querySelector("Code")?.textContent ?? "";
    message = doc.querySelector("Message")?.textContent ?? "";
  } catch {
    /* not XML */
  }
  if (xhr.status === 403 && /expired/i.test(`${code} ${message}`)) return "The upload link expired; start the upload again.";
  return `The storage refused the upload (HTTP ${xhr.status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}).`;
}
