/**
 * Client-side upload of a local video file to the vidsnap API (Node 20+: reads the file with `node:fs`).
 *
 * {@link uploadVideoFile} creates the video (`POST /v1/videos`), sends the bytes the way the API answers
 * (`upload.method`), then completes it (`POST /v1/videos/{id}/complete`):
 * - `PUT`: one presigned PUT of the whole file, streamed from disk with the signed headers.
 * - `MULTIPART` (files above the server's MULTIPART_THRESHOLD_BYTES): parts of `partSizeBytes` presigned in
 *   batches (`POST /v1/videos/{id}/upload-parts`), {@link PART_CONCURRENCY} PUT at once, each streamed
 *   from its byte range and retried with backoff on network errors, 5xx and 429 (a fresh URL per retry),
 *   then `/complete` with every part's ETag.
 * {@link resumeVideoUpload} continues a multipart upload of an existing video: it asks the API which parts
 * the storage already holds (`GET /v1/videos/{id}/upload-parts`, S3 ListParts) and sends only the others.
 *
 * Nothing is buffered whole: every body is a stream of the file (or of one part's byte range).
 * Every failure is an {@link UploadError}; API failures carry the HTTP status and the problem details.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type {
  CompletedPart,
  CreateVideoRequest,
  CreateVideoResponse,
  MultipartUploadInstructions,
  StoredParts,
  UploadInstructions,
  UploadPartUrls,
  Video,
} from "../../schema/api.ts";
import type { ExtractionOptions } from "../../schema/extraction-options.ts";
import { DEFAULT_VIDEO_TYPES, fileExtension } from "../../schema/video-types.ts";

/** Parts sent at once during a multipart upload. */
export const PART_CONCURRENCY = 4;
/** Tries per part (first try included) before the upload fails. */
export const PART_ATTEMPTS = 5;
/** Backoff before retry n (1-based) is `PART_BACKOFF_MS * 2^(n-1)` plus up to 50 % jitter, milliseconds. */
export const PART_BACKOFF_MS = 500;
/**
 * Part URLs asked per `POST /v1/videos/{id}/upload-parts` call (the API allows 100): a few rounds of
 * {@link PART_CONCURRENCY}, so URLs are fresh when used on a slow link.
 */
export const PART_URLS_PER_CALL = 16;
/** A part URL expiring within this margin is asked again before its PUT, milliseconds. */
export const PART_URL_MIN_LIFETIME_MS = 60_000;

/** Bytes sent so far of the whole file (a part being retried counts from zero again). */
export interface UploadProgress {
  uploadedBytes: number;
  totalBytes: number;
}

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
  /** Called as bytes are sent. */
  onProgress?: (p: UploadProgress) => void;
  /** Aborts every request (the video stays VIDEO_UPLOAD_PENDING; a multipart upload can be resumed). */
  signal?: AbortSignal;
  /** fetch implementation (tests); default global fetch. */
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

/** The problem details of an API error (RFC 9457). */
export interface UploadProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
}

/**
 * A failed upload step. `status` is the HTTP status of the failing answer (API or storage), absent for
 * network errors, local file errors and aborts; `problem` is set when the API answered problem details.
 * `videoId` is set once the video exists (to resume, retry `/complete` or delete it).
 */
export class UploadError extends Error {
  readonly status?: number;
  readonly problem?: UploadProblem;
  videoId?: string;

  constructor(message: string, opts: { status?: number; problem?: UploadProblem; videoId?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "UploadError";
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.problem !== undefined) this.problem = opts.problem;
    if (opts.videoId !== undefined) this.videoId = opts.videoId;
  }
}

/**
 * Creates the video (`POST /v1/videos`), uploads the file (single PUT or multipart, as the API answers),
 * completes it (`POST /v1/videos/{id}/complete`).
 * @returns the video as answered by `/complete` (normally VIDEO_IMAGE_EXTRACTION_QUEUED)
 * @throws UploadError on any failure (file unreadable, API problem, storage refusal, network, abort)
 */
export async function uploadVideoFile(o: UploadVideoFileOptions): Promise<Video> {
  const api = new Api(o.baseUrl, o.token, o.fetch ?? fetch, o.signal);
  const totalBytes = await fileSize(o.filePath);
  const filename = path.basename(o.filePath);
  const contentType = o.contentType ?? guessContentType(filename);
  const body: CreateVideoRequest = { filename, contentType, sizeBytes: totalBytes, ...(o.options ? { options: o.options } : {}) };
  const created = await api.call<CreateVideoResponse>("POST", "/v1/videos", body);
  const videoId = created.video.id;
  try {
    const progress = new Progress(totalBytes, o.onProgress);
    if (created.upload.method === "PUT") {
      await putWholeFile(api, created.upload, o.filePath, totalBytes, progress);
      return await api.complete(videoId);
    }
    const parts = await uploadParts(api, videoId, created.upload, o.filePath, totalBytes, new Map(), progress);
    return await api.complete(videoId, parts);
  } catch (err) {
    throw withVideoId(err, videoId);
  }
}

/**
 * Resumes the multipart upload of an existing video: lists the parts already stored
 * (`GET /v1/videos/{id}/upload-parts`), uploads the missing ones, completes the video. A video already
 * past VIDEO_UPLOAD_PENDING is answered as is (nothing sent).
 * @returns the video as answered by `/complete` (or its current state)
 * @throws UploadError: the video is missing (404), uses a single PUT (409 from the API: create a new one),
 *   the file's size differs from the declared size, or any upload failure
 */
export async function resumeVideoUpload(o: ResumeVideoUploadOptions): Promise<Video> {
  const api = new Api(o.baseUrl, o.token, o.fetch ?? fetch, o.signal);
  const id = encodeURIComponent(o.videoId);
  try {
    const { video } = await api.call<{ video: Video }>("GET", `/v1/videos/${id}`);
    if (video.status !== "VIDEO_UPLOAD_PENDING") return video;
    const totalBytes = await fileSize(o.filePath);
    if (totalBytes !== video.sizeBytes) {
      throw new UploadError(`${o.filePath} is ${totalBytes} bytes but the video was declared with ${video.sizeBytes} bytes.`);
    }
    const stored = await api.call<StoredParts>("GET", `/v1/videos/${id}/upload-parts`);
    const geometry = { partSizeBytes: stored.partSizeBytes, partCount: stored.partCount };
    if (partSizes(totalBytes, geometry.partSizeBytes).length !== geometry.partCount) {
      throw new UploadError(`The upload's geometry (${geometry.partCount} parts of ${geometry.partSizeBytes} bytes) does not fit the file.`);
    }
    const done = new Map<number, string>();
    const sizes = partSizes(totalBytes, geometry.partSizeBytes);
    for (const p of stored.parts) {
      // A part of the wrong size (an interrupted PUT is never stored, but be safe) is sent again.
      if (sizes[p.partNumber - 1] === p.sizeBytes) done.set(p.partNumber, p.etag);
    }
    const progress = new Progress(totalBytes, o.onProgress);
    const parts = await uploadParts(api, video.id, geometry, o.filePath, totalBytes, done, progress);
    return await api.complete(video.id, parts);
  } catch (err) {
    throw withVideoId(err, o.videoId);
  }
}

/** The first MIME type the API allows for the file's extension, else `application/octet-stream` (the API answers 415). */
function guessContentType(filename: string): string {
  return DEFAULT_VIDEO_TYPES[fileExtension(filename)]?.[0] ?? "application/octet-stream";
}

async function fileSize(filePath: string): Promise<number> {
  try {
    const s = await stat(filePath);
    if (!s.isFile()) throw new Error("not a regular file");
    return s.size;
  } catch (err) {
    throw new UploadError(`Cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
  }
}

function withVideoId(err: unknown, videoId: string): UploadError {
  const e = err instanceof UploadError ? err : new UploadError(`Upload failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  e.videoId ??= videoId;
  return e;
}

/** Sizes of the parts of a file of `totalBytes` split in `partSizeBytes` (last one smaller), part 1 first. */
export function partSizes(totalBytes: number, partSizeBytes: number): number[] {
  const count = Math.max(1, Math.ceil(totalBytes / partSizeBytes));
  return Array.from({ length: count }, (_, i) => Math.min(partSizeBytes, totalBytes - i * partSizeBytes));
}

/** Sums the bytes sent per part (or for the whole file) and reports the total. */
class Progress {
  private readonly sent = new Map<number, number>();
  private total = 0;

  constructor(
    readonly totalBytes: number,
    private readonly onProgress?: (p: UploadProgress) => void,
  ) {}

  /** Sets the bytes sent of one slot (a part number, or 0 for a single PUT) and reports. */
  set(slot: number, bytes: number): void {
    this.total += bytes - (this.sent.get(slot) ?? 0);
    this.sent.set(slot, bytes);
    this.onProgress?.({ uploadedBytes: this.total, totalBytes: this.totalBytes });
  }
}

/** Bearer-authenticated JSON calls to the API; non-2xx answers become UploadError with the problem. */
class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    readonly fetch: typeof globalThis.fetch,
    readonly signal: AbortSignal | undefined,
  ) {}

  async call<T>(method: "GET" | "POST", pathname: string, body?: unknown): Promise<T> {
    const url = this.baseUrl.replace(/\/+$/, "") + pathname;
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (err) {
      throw new UploadError(`${method} ${pathname} failed: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text().catch(() => "");
    if (!res.ok) {
      let problem: UploadProblem | undefined;
      try {
        const parsed = JSON.parse(text) as Partial<UploadProblem>;
        if (typeof parsed?.type === "string" && typeof parsed.detail === "string") problem = parsed as UploadProblem;
      } catch {
        // not JSON: keep the status only
      }
      const detail = problem ? `${problem.title}: ${problem.detail}` : text.slice(0, 200) || res.statusText;
      throw new UploadError(`${method} ${pathname} answered ${res.status}: ${detail}`, {
        status: res.status,
        ...(problem ? { problem } : {}),
      });
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new UploadError(`${method} ${pathname} answered ${res.status} with a body that is not JSON`, { status: res.status, cause: err });
    }
  }

  /** `POST /v1/videos/{id}/complete`, with the parts of a multipart upload. */
  async complete(videoId: string, parts?: CompletedPart[]): Promise<Video> {
    const res = await this.call<{ video: Video }>("POST", `/v1/videos/${encodeURIComponent(videoId)}/complete`, parts ? { parts } : {});
    return res.video;
  }
}

/**
 * PUTs bytes `start..start+length-1` of a file to a presigned URL, streamed, counting progress in `slot`.
 * @returns the answer's ETag (or null)
 * @throws UploadError with the storage's status on a non-2xx answer, without status on network errors
 */
async function putRange(
  api: Api,
  url: string,
  headers: Record<string, string>,
  filePath: string,
  start: number,
  length: number,
  progress: Progress,
  slot: number,
): Promise<string | null> {
  let sent = 0;
  progress.set(slot, 0);
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      sent += chunk.byteLength;
      progress.set(slot, sent);
    },
  });
  const file =
    length === 0
      ? Readable.from([])
      : createReadStream(filePath, { start, end: start + length - 1, highWaterMark: 256 * 1024 });
  const body = (Readable.toWeb(file) as ReadableStream<Uint8Array>).pipeThrough(counter);
  let res: Response;
  try {
    res = await api.fetch(url, {
      method: "PUT",
      headers,
      body,
      // Node's fetch needs `duplex: "half"` for a streamed request body.
      duplex: "half",
      ...(api.signal ? { signal: api.signal } : {}),
    } as RequestInit);
  } catch (err) {
    file.destroy();
    throw new UploadError(`Upload to the storage failed: ${(err as Error).message}`, { cause: err });
  }
  const text = await res.text().catch(() => "");
  if (!res.ok) {
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new UploadError(`The storage refused the upload (${res.status}${code ? ` ${code}` : ""}).`, { status: res.status });
  }
  return res.headers.get("etag");
}

/** Single presigned PUT of the whole file with exactly the signed headers. */
async function putWholeFile(api: Api, upload: UploadInstructions, filePath: string, totalBytes: number, progress: Progress) {
  await putRange(api, upload.url, { ...upload.headers }, filePath, 0, totalBytes, progress, 0);
}

/** True for failures worth retrying: network errors (no status), 5xx and 429 (never after an abort). */
function retryable(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return false;
  if (!(err instanceof UploadError)) return false;
  return err.status === undefined || err.status >= 500 || err.status === 429;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new UploadError("Upload aborted.", { cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new UploadError("Upload aborted.", { cause: signal?.reason }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Uploads every part not in `done`, {@link PART_CONCURRENCY} at a time; part URLs are asked in batches
 * of up to {@link PART_URLS_PER_CALL} just before use (each lives UPLOAD_URL_TTL_SECONDS), again for a
 * retry, and again when one is about to expire ({@link PART_URL_MIN_LIFETIME_MS}).
 * @param done part number → ETag of parts already stored (counted as sent)
 * @returns every part 1..partCount with its ETag, by part number
 */
async function uploadParts(
  api: Api,
  videoId: string,
  upload: Pick<MultipartUploadInstructions, "partSizeBytes" | "partCount">,
  filePath: string,
  totalBytes: number,
  done: Map<number, string>,
  progress: Progress,
): Promise<CompletedPart[]> {
  const sizes = partSizes(totalBytes, upload.partSizeBytes);
  if (sizes.length !== upload.partCount) {
    throw new UploadError(`The API expects ${upload.partCount} parts but the file makes ${sizes.length}.`);
  }
  for (const [n] of done) progress.set(n, sizes[n - 1] ?? 0);
  const todo = sizes.map((_, i) => i + 1).filter((n) => !done.has(n));
  const urls = new Map<number, { url: string; headers: Record<string, string>; expiresAt: number }>();
  const partsPath = `/v1/videos/${encodeURIComponent(videoId)}/upload-parts`;

  const pending = new Map<number, Promise<void>>();
  /** Presigns `n` and the next parts still to send that have no URL yet (one call; joins a call in flight). */
  const presign = async (n: number) => {
    const inFlight = pending.get(n);
    if (inFlight) return inFlight.catch(() => undefined);
    const batch = [n, ...todo.filter((m) => m > n && !urls.has(m) && !done.has(m) && !pending.has(m))].slice(0, PART_URLS_PER_CALL);
    const call = api.call<UploadPartUrls>("POST", partsPath, { partNumbers: batch }).then((res) => {
      for (const p of res.parts) urls.set(p.partNumber, { url: p.url, headers: { ...p.headers }, expiresAt: Date.parse(p.expiresAt) });
    });
    for (const m of batch) pending.set(m, call);
    try {
      await call;
    } finally {
      for (const m of batch) pending.delete(m);
    }
  };

  const sendPart = async (n: number) => {
    const size = sizes[n - 1]!;
    for (let attempt = 1; ; attempt++) {
      try {
        const cached = urls.get(n);
        if (cached && !(cached.expiresAt - Date.now() > PART_URL_MIN_LIFETIME_MS)) urls.delete(n);
        if (!urls.has(n)) await presign(n);
        const signed = urls.get(n);
        if (!signed) throw new UploadError(`The API gave no URL for part ${n}.`);
        const etag = await putRange(api, signed.url, signed.headers, filePath, (n - 1) * upload.partSizeBytes, size, progress, n);
        if (!etag) throw new UploadError(`The storage answered no ETag for part ${n} (bucket CORS must expose ETag).`);
        done.set(n, etag);
        return;
      } catch (err) {
        urls.delete(n); // a retry asks for a fresh URL (the old one may have expired)
        progress.set(n, 0);
        if (attempt >= PART_ATTEMPTS || !retryable(err, api.signal)) throw err;
        await sleep(PART_BACKOFF_MS * 2 ** (attempt - 1) * (1 + Math.random() / 2), api.signal);
      }
    }
  };

  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < todo.length) {
      const n = todo[next++]!;
      try {
        await sendPart(n);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(PART_CONCURRENCY, todo.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;
  return sizes.map((_, i) => ({ partNumber: i + 1, etag: done.get(i + 1)! }));
}
