/**
 * The upload protocol of the vidsnap API, for any byte source (a file range in Node, `Blob.slice` in a
 * browser): `POST /v1/videos`, then the bytes the way the API answers (`upload.method`), then
 * `POST /v1/videos/{id}/complete`.
 * - `PUT`: one presigned PUT of the whole source with the signed headers.
 * - `MULTIPART` (above the server's MULTIPART_THRESHOLD_BYTES): parts of `partSizeBytes`, presigned in
 *   batches just before use, {@link PART_CONCURRENCY} at once, each retried with backoff and a fresh URL on
 *   network errors, 5xx and 429; `/complete` gets every part's ETag. {@link resumeUpload} sends only the
 *   parts the storage lacks (`GET /v1/videos/{id}/upload-parts`, S3 ListParts).
 * Runs wherever `fetch` does; it imports nothing from Node (the Node file source is ./node-file.ts).
 */
import { backoffDelay } from "../../runtime/backoff.ts";
import { DEFAULT_VIDEO_TYPES, fileExtension } from "../../schema/video-types.ts";
import { sleep, toApiError, uploadInstructionsOf, type ExtractionOptions, type Problem, type Schemas, type TranscodeRequest, type Video, type VidsnapClient } from "./index.ts";

/** One uploaded part, as `/complete` takes it. */
export type CompletedPart = NonNullable<Schemas["CompleteUploadRequest"]["parts"]>[number];

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

/** The bytes to upload. */
export interface ByteSource {
  /** Bytes in all. */
  size: number;
  /** File name sent to the API (its extension picks the default MIME type). */
  name: string;
  /** MIME type the source declares, "" when unknown. */
  type: string;
  /** Bytes `start` to `end - 1` as a request body. */
  slice(start: number, end: number): Blob | ReadableStream<Uint8Array>;
}

/** A Blob or File as a {@link ByteSource} (`Blob.slice`, nothing read ahead). */
export function blobSource(blob: Blob, name = (blob as Partial<File>).name ?? "video"): ByteSource {
  return { size: blob.size, name, type: blob.type, slice: (start, end) => blob.slice(start, end) };
}

/** One PUT of a body to a presigned URL. */
export interface PutRequest {
  url: string;
  headers: Record<string, string>;
  body: Blob | ReadableStream<Uint8Array>;
  /** Length of the body, bytes. */
  size: number;
  /** Called with the bytes of this body sent so far. */
  onProgress(sentBytes: number): void;
  signal?: AbortSignal;
}

/** What the storage answered: status, `ETag` header (null when absent or not exposed by CORS), body text. */
export interface PutResult {
  status: number;
  etag: string | null;
  text: string;
}

/** Sends a {@link PutRequest}; rejects (TypeError) on network errors and with the signal's reason when aborted. */
export type PutTransport = (request: PutRequest) => Promise<PutResult>;

/** Bytes sent so far of the whole source (a part being retried counts from zero again). */
export interface UploadProgress {
  uploadedBytes: number;
  totalBytes: number;
}

/** Step of an upload, in order: the video is created, the bytes are sent, the upload is completed. */
export type UploadPhase = "create" | "upload" | "complete";

/** The problem details of an API error (RFC 9457). */
export type UploadProblem = Problem;

/**
 * A failed upload step. `status` is the HTTP status of the failing answer (API or storage), absent for
 * network errors, local errors and aborts; `problem` is set when the API answered problem details (the
 * `VidsnapApiError` is the `cause`). `videoId` is set once the video exists (to resume, retry `/complete`
 * or delete it).
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

interface Common {
  /** The typed client the API calls go through (its bearer token or the browser's session cookie). */
  api: VidsnapClient;
  source: ByteSource;
  onProgress?: (p: UploadProgress) => void;
  /** Aborts every request (the video stays VIDEO_UPLOAD_PENDING; a multipart upload can be resumed). */
  signal?: AbortSignal;
  /** Sends the bytes to the storage; default {@link fetchPut} with the global fetch. */
  put?: PutTransport;
}

export interface UploadVideoOptions extends Common {
  /** MIME type; default {@link videoContentType} of the source. */
  contentType?: string;
  /** Extraction options; default: the API's (keyframes). */
  options?: ExtractionOptions;
  /** Renditions to make after `complete`, beside the extraction (the video's `transcode`, TRANSCODE_PENDING until then). */
  transcode?: TranscodeRequest;
  /** Called as each step starts. */
  onPhase?: (phase: UploadPhase) => void;
}

export interface ResumeUploadOptions extends Common {
  /** Id of a video created with a MULTIPART upload. */
  videoId: string;
}

/**
 * The MIME type to declare for a file: `declared` when the API allows it for the extension, else the
 * extension's first allowed type, else `application/octet-stream` (the API answers 415).
 */
export function videoContentType(filename: string, declared = ""): string {
  const types = DEFAULT_VIDEO_TYPES[fileExtension(filename)];
  if (!types) return "application/octet-stream";
  const type = declared.toLowerCase();
  return types.includes(type) ? type : types[0]!;
}

/**
 * Creates the video, uploads the source (single PUT or multipart, as the API answers), completes it.
 * @returns the video as answered by `/complete` (normally VIDEO_IMAGE_EXTRACTION_QUEUED)
 * @throws UploadError on any failure (API problem, storage refusal, network, abort)
 */
export async function uploadVideo(o: UploadVideoOptions): Promise<Video> {
  const { api, source } = o;
  const put = o.put ?? fetchPut();
  o.onPhase?.("create");
  const body = {
    filename: source.name,
    contentType: o.contentType ?? videoContentType(source.name, source.type),
    sizeBytes: source.size,
    ...(o.options ? { options: o.options } : {}),
    ...(o.transcode ? { transcode: o.transcode } : {}),
  };
  let videoId: string | undefined;
  try {
    const answer = await call("POST /v1/videos", () => api.POST("/v1/videos", { body, signal: o.signal }));
    videoId = answer.video.id;
    const created = { ...answer, upload: uploadInstructionsOf(answer) };
    const progress = new Progress(source.size, o.onProgress);
    o.onPhase?.("upload");
    if (created.upload.method === "PUT") {
      const { url, headers } = created.upload;
      await putRange({ put, signal: o.signal, source }, { url, headers: { ...headers } }, 0, source.size, progress, 0);
      o.onPhase?.("complete");
      return await complete(api, videoId, undefined, o.signal);
    }
    const parts = await uploadParts({ api, put, signal: o.signal, source }, videoId, created.upload, new Map(), progress);
    o.onPhase?.("complete");
    return await complete(api, videoId, parts, o.signal);
  } catch (err) {
    throw asUploadError(err, videoId, o.signal);
  }
}

/**
 * Resumes the multipart upload of an existing video: lists the parts already stored, uploads the missing
 * ones, completes the video. A video already past VIDEO_UPLOAD_PENDING is answered as is (nothing sent).
 * @returns the video as answered by `/complete` (or its current state)
 * @throws UploadError: the video is missing (404), uses a single PUT (409 from the API: create a new one),
 *   the source's size differs from the declared size, or any upload failure
 */
export async function resumeUpload(o: ResumeUploadOptions): Promise<Video> {
  const { api, source, signal } = o;
  const id = o.videoId;
  const path = { params: { path: { id } }, signal };
  try {
    const { video } = await call(`GET /v1/videos/${encodeURIComponent(id)}`, () => api.GET("/v1/videos/{id}", path));
    if (video.status !== "VIDEO_UPLOAD_PENDING") return video;
    if (source.size !== video.sizeBytes) {
      throw new UploadError(`${source.name} is ${source.size} bytes but the video was declared with ${video.sizeBytes} bytes.`);
    }
    const stored = await call(`GET /v1/videos/${encodeURIComponent(id)}/upload-parts`, () => api.GET("/v1/videos/{id}/upload-parts", path));
    const sizes = partSizes(source.size, stored.partSizeBytes);
    if (sizes.length !== stored.partCount) {
      throw new UploadError(`The upload's geometry (${stored.partCount} parts of ${stored.partSizeBytes} bytes) does not fit the file.`);
    }
    const done = new Map<number, string>();
    for (const p of stored.parts) {
      // A part of the wrong size (an interrupted PUT is never stored, but be safe) is sent again.
      if (sizes[p.partNumber - 1] === p.sizeBytes) done.set(p.partNumber, p.etag);
    }
    const progress = new Progress(source.size, o.onProgress);
    const parts = await uploadParts({ api, put: o.put ?? fetchPut(), signal, source }, video.id, stored, done, progress);
    return await complete(api, video.id, parts, signal);
  } catch (err) {
    throw asUploadError(err, id, signal);
  }
}

/** Sizes of the parts of `totalBytes` split in `partSizeBytes` (last one smaller), part 1 first. */
export function partSizes(totalBytes: number, partSizeBytes: number): number[] {
  const count = Math.max(1, Math.ceil(totalBytes / partSizeBytes));
  return Array.from({ length: count }, (_, i) => Math.min(partSizeBytes, totalBytes - i * partSizeBytes));
}

/**
 * The PUT of runtimes whose fetch streams request bodies (Node, Deno, Workers): the body goes as a stream
 * counted on its way out. Browsers stream request bodies only over HTTP/2 and report no upload progress to
 * fetch: they use ./xhr-put.ts.
 * @param fetchImpl fetch implementation (default: the global one)
 */
export function fetchPut(fetchImpl: typeof fetch = fetch): PutTransport {
  return async ({ url, headers, body, onProgress, signal }) => {
    let sent = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        sent += chunk.byteLength;
        onProgress(sent);
      },
    });
    // Cancels the source (closing a file) when the request fails before reading all of it.
    const release = new AbortController();
    const stream = (body instanceof Blob ? body.stream() : body).pipeThrough(counter, { signal: release.signal });
    try {
      const res = await fetchImpl(url, {
        method: "PUT",
        headers,
        body: stream,
        // fetch needs `duplex: "half"` for a streamed request body.
        duplex: "half",
        ...(signal ? { signal } : {}),
      } as RequestInit);
      const text = await res.text().catch(() => "");
      return { status: res.status, etag: res.headers.get("etag"), text };
    } catch (err) {
      release.abort(err);
      throw err;
    }
  };
}

function asUploadError(err: unknown, videoId: string | undefined, signal: AbortSignal | undefined): UploadError {
  const e =
    err instanceof UploadError
      ? err
      : signal?.aborted
        ? new UploadError("Upload aborted.", { cause: signal.reason })
        : new UploadError(`Upload failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  if (videoId !== undefined) e.videoId ??= videoId;
  return e;
}

/**
 * Runs one API request of the typed client.
 * @param label `METHOD /path`, for messages
 * @returns the answer's data
 * @throws UploadError: with the status, problem and the VidsnapApiError as cause on a non-2xx answer;
 *   without status when the request failed
 */
async function call<T>(label: string, request: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request();
  } catch (err) {
    throw new UploadError(`${label} failed: ${(err as Error).message}`, { cause: err });
  }
  if (result.response.ok) return result.data as T;
  const apiError = toApiError(result.response, result.error);
  const problem = typeof apiError.problem?.type === "string" ? (apiError.problem as UploadProblem) : undefined;
  const detail = problem ? apiError.message : apiError.detail.slice(0, 200) || result.response.statusText;
  throw new UploadError(`${label} answered ${apiError.status}: ${detail}`, { status: apiError.status, ...(problem ? { problem } : {}), cause: apiError });
}

/** `POST /v1/videos/{id}/complete`, with the parts of a multipart upload. */
async function complete(api: VidsnapClient, videoId: string, parts: CompletedPart[] | undefined, signal: AbortSignal | undefined): Promise<Video> {
  const label = `POST /v1/videos/${encodeURIComponent(videoId)}/complete`;
  const res = await call(label, () => api.POST("/v1/videos/{id}/complete", { params: { path: { id: videoId } }, body: parts ? { parts } : {}, signal }));
  return res.video;
}

/** Sums the bytes sent per part (or for the whole source) and reports the total. */
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

interface Transfer {
  put: PutTransport;
  signal: AbortSignal | undefined;
  source: ByteSource;
}

/**
 * PUTs bytes `start..start+length-1` of the source to a presigned URL, counting progress in `slot`.
 * @returns the answer's ETag (or null)
 * @throws UploadError with the storage's status on a non-2xx answer, without status on network errors
 */
async function putRange(
  t: Transfer,
  signed: { url: string; headers: Record<string, string> },
  start: number,
  length: number,
  progress: Progress,
  slot: number,
): Promise<string | null> {
  progress.set(slot, 0);
  let res: PutResult;
  try {
    res = await t.put({
      url: signed.url,
      headers: signed.headers,
      body: t.source.slice(start, start + length),
      size: length,
      onProgress: (sent) => progress.set(slot, sent),
      ...(t.signal ? { signal: t.signal } : {}),
    });
  } catch (err) {
    throw new UploadError(`Upload to the storage failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  if (res.status < 200 || res.status >= 300) {
    // S3 error document: <Error><Code>…</Code><Message>…</Message></Error>
    const code = /<Code>([^<]+)<\/Code>/.exec(res.text)?.[1];
    const message = /<Message>([^<]+)<\/Message>/.exec(res.text)?.[1];
    throw new UploadError(`The storage refused the upload (${res.status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}).`, { status: res.status });
  }
  return res.etag;
}

/** True for failures worth retrying: network errors (no status), 5xx and 429 (never after an abort). */
function retryable(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return false;
  if (!(err instanceof UploadError)) return false;
  return err.status === undefined || err.status >= 500 || err.status === 429;
}

/**
 * Uploads every part not in `done`, {@link PART_CONCURRENCY} at a time; part URLs are asked in batches
 * of up to {@link PART_URLS_PER_CALL} just before use (each lives UPLOAD_URL_TTL_SECONDS), again for a
 * retry, and again when one is about to expire ({@link PART_URL_MIN_LIFETIME_MS}).
 * @param done part number → ETag of parts already stored (counted as sent)
 * @returns every part 1..partCount with its ETag, by part number
 */
async function uploadParts(
  t: Transfer & { api: VidsnapClient },
  videoId: string,
  upload: { partSizeBytes: number; partCount: number },
  done: Map<number, string>,
  progress: Progress,
): Promise<CompletedPart[]> {
  const sizes = partSizes(t.source.size, upload.partSizeBytes);
  if (sizes.length !== upload.partCount) {
    throw new UploadError(`The API expects ${upload.partCount} parts but the file makes ${sizes.length}.`);
  }
  for (const [n] of done) progress.set(n, sizes[n - 1] ?? 0);
  const todo = sizes.map((_, i) => i + 1).filter((n) => !done.has(n));
  const urls = new Map<number, { url: string; headers: Record<string, string>; expiresAt: number }>();
  const label = `POST /v1/videos/${encodeURIComponent(videoId)}/upload-parts`;

  const pending = new Map<number, Promise<void>>();
  /** Presigns `n` and the next parts still to send that have no URL yet (one call; joins a call in flight). */
  const presign = async (n: number) => {
    const inFlight = pending.get(n);
    if (inFlight) return inFlight.catch(() => undefined);
    const partNumbers = [n, ...todo.filter((m) => m > n && !urls.has(m) && !done.has(m) && !pending.has(m))].slice(0, PART_URLS_PER_CALL);
    const request = call(label, () =>
      t.api.POST("/v1/videos/{id}/upload-parts", { params: { path: { id: videoId } }, body: { partNumbers }, signal: t.signal }),
    ).then((res) => {
      for (const p of res.parts) urls.set(p.partNumber, { url: p.url, headers: { ...p.headers }, expiresAt: Date.parse(p.expiresAt) });
    });
    for (const m of partNumbers) pending.set(m, request);
    try {
      await request;
    } finally {
      for (const m of partNumbers) pending.delete(m);
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
        const etag = await putRange(t, signed, (n - 1) * upload.partSizeBytes, size, progress, n);
        if (!etag) throw new UploadError(`The storage answered no ETag for part ${n} (bucket CORS must expose ETag).`);
        done.set(n, etag);
        return;
      } catch (err) {
        urls.delete(n); // a retry asks for a fresh URL (the old one may have expired)
        progress.set(n, 0);
        if (attempt >= PART_ATTEMPTS || !retryable(err, t.signal)) throw err;
        await sleep(backoffDelay(attempt, { base: PART_BACKOFF_MS, max: PART_BACKOFF_MS * 2 ** PART_ATTEMPTS, jitter: 0.5 }), t.signal);
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
