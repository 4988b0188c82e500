/**
 * The import job: downloads a URL (./download.ts: SSRF rules, redirects, timeouts) into the video's source
 * object of the videos bucket, streaming (never holding the body): the first bytes are sniffed with the checks
 * of an upload (../../ffmpeg/input-checks.ts `sniffContent`: an HTML page, a playlist, text, an image or an
 * empty body is refused before anything is stored), then the body goes to a multipart upload
 * (../../s3.ts `uploadStream`) while it arrives. The size is capped by the job's `maxBytes` (the API's
 * MAX_UPLOAD_BYTES): up front from `content-length`, and while streaming. On any failure the multipart upload
 * is aborted, so nothing is stored half-way.
 *
 * A source object already stored (an earlier attempt stored it and died before reporting) is reported as is:
 * the multipart completion is atomic, so a stored object is a whole body of this URL.
 */
import { once } from "node:events";
import { PassThrough } from "node:stream";
import type { ImportVideoMessage } from "../../../../schema/messages/import.ts";
import { ObjectEtag } from "../../../../schema/messages/extract-snapshot.ts";
import { s3Uri, sourceObjectKey } from "../../../../schema/object-keys.ts";
import { rejectedInputError, sniffContent } from "../../ffmpeg/input-checks.ts";
import type { JobContext } from "../../runner/job-kind.ts";
import { JobError } from "../../runner/errors.ts";
import { isNotFound, storageError } from "../../s3.ts";
import { IMPORT_IDLE_TIMEOUT_MS, openSource, type HostResolver } from "./download.ts";

export type ImportJob = ImportVideoMessage["payload"];

export interface ImportResult {
  sourceUri: string;
  sizeBytes: number;
  contentType: string;
  etag?: string;
  /** True when an earlier attempt had stored it (nothing downloaded). */
  reused: boolean;
  redirects: number;
  elapsedMs: number;
}

/** Bytes sniffed before anything is stored (what `sniffContent` reads of an upload). */
export const SNIFF_BYTES = 4096;

/** Type stored when the server names no `video/*` type. */
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** A `video/*` or `application/octet-stream` content type of the answer (parameters dropped), else the default. */
function storedContentType(header: string | undefined): string {
  const type = (header ?? "").split(";")[0]!.trim().toLowerCase();
  return /^video\/[a-z0-9.+-]{1,100}$/.test(type) ? type : DEFAULT_CONTENT_TYPE;
}

/** The size-limit error, before (`content-length`) or while streaming. */
function tooLargeError(maxBytes: number, declared?: number): JobError {
  return new JobError(
    declared !== undefined
      ? `The file is ${declared} bytes; the limit is ${maxBytes} bytes.`
      : `The file is larger than the limit of ${maxBytes} bytes.`,
    declared !== undefined
      ? `MAX_UPLOAD_BYTES=${maxBytes}; the server announced content-length ${declared}, nothing was downloaded.`
      : `MAX_UPLOAD_BYTES=${maxBytes}; the body passed it while streaming, the download was stopped and nothing stored.`,
  );
}

/**
 * The error for a body whose first bytes are not a video, or null when they may be one (ffmpeg decides later).
 * @param head the first bytes (≤ {@link SNIFF_BYTES}); `contentType` the server's header
 */
export function refusedContent(head: Uint8Array, contentType: string | undefined): JobError | null {
  const sniffed = sniffContent(head);
  if (!sniffed) return null;
  const description = `first ${head.length} byte(s) sniffed; content-type ${JSON.stringify(contentType ?? "")}; nothing was stored.`;
  const text = Buffer.from(head).toString("utf8", 0, Math.min(head.length, 1024)).trimStart().toLowerCase();
  if (sniffed.kind === "text" && (/^(<!doctype html|<html|<head|<body)/.test(text) || /^text\/html/i.test(contentType ?? ""))) {
    return new JobError("The URL answered a web page (HTML), not a video.", description);
  }
  return rejectedInputError("", head, description);
}

/**
 * Runs one import attempt.
 * @param opts.resolve a host resolver instead of the system's (tests)
 * @returns where and what was stored
 * @throws JobError for a refused URL, answer or body, a limit, or a storage failure (retryable when transient);
 *   `ctx.signal.reason` when aborted
 */
export async function runImport(job: ImportJob, ctx: JobContext, opts: { resolve?: HostResolver } = {}): Promise<ImportResult> {
  const started = Date.now();
  const { config, storage, signal } = ctx;
  const bucket = config.videosBucket;
  const key = sourceObjectKey(job.userId, job.videoId);

  const existing = await storedSource(ctx, bucket, key);
  if (existing) {
    ctx.log.info("source already stored by an earlier attempt: reported as is", { sizeBytes: existing.sizeBytes });
    return { sourceUri: s3Uri(bucket, key), ...existing, reused: true, redirects: 0, elapsedMs: Date.now() - started };
  }

  const idleMs = config.importIdleTimeoutMs ?? IMPORT_IDLE_TIMEOUT_MS;
  const opened = await openSource(job.url, {
    environment: config.environment ?? "production",
    signal,
    resolve: opts.resolve,
    connectTimeoutMs: config.importConnectTimeoutMs,
    idleTimeoutMs: idleMs,
  });
  const { response } = opened;
  const declared = response.headers["content-length"] !== undefined ? Number(response.headers["content-length"]) : undefined;
  const totalBytes = declared !== undefined && Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
  if (totalBytes !== undefined && totalBytes > job.maxBytes) {
    response.destroy();
    throw tooLargeError(job.maxBytes, totalBytes);
  }
  const contentType = storedContentType(response.headers["content-type"]);

  // The body's idle timer: reset by every chunk, it destroys the response when the server goes silent.
  let idle: ReturnType<typeof setTimeout> | undefined;
  const idleError = new JobError(`The URL's server stopped sending for ${idleMs / 1000} s.`, `no body bytes for ${idleMs} ms; the download was stopped and nothing stored.`);
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => response.destroy(idleError), idleMs);
  };

  const body = new PassThrough();
  let upload: ReturnType<typeof storage.uploadStream> | undefined;
  let uploadFailure: unknown;
  let bytes = 0;
  try {
    armIdle();
    const chunks: Buffer[] = [];
    let headBytes = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      armIdle();
      bytes += chunk.length;
      if (bytes > job.maxBytes) throw tooLargeError(job.maxBytes);
      if (!upload) {
        chunks.push(chunk);
        headBytes += chunk.length;
        if (headBytes < SNIFF_BYTES) continue;
        upload = startUpload(Buffer.concat(chunks));
        chunks.length = 0;
      } else if (!body.write(chunk)) {
        await Promise.race([once(body, "drain"), upload.done]);
      }
      if (uploadFailure) throw uploadFailure;
      ctx.progress(totalBytes ? Math.min(1, bytes / totalBytes) : 0, { importedBytes: bytes }, { totalBytes: totalBytes ?? null });
    }
    clearTimeout(idle);
    // A body shorter than the sniff window: sniffed whole now.
    if (!upload) upload = startUpload(Buffer.concat(chunks));
    body.end();
    const done = (await upload.done) as { ETag?: string } | undefined;
    ctx.progress(1, { importedBytes: bytes }, { totalBytes: bytes });
    const etag = done?.ETag && ObjectEtag.safeParse(done.ETag).success ? done.ETag : undefined;
    return {
      sourceUri: s3Uri(bucket, key),
      sizeBytes: bytes,
      contentType,
      ...(etag ? { etag } : {}),
      reused: false,
      redirects: opened.redirects,
      elapsedMs: Date.now() - started,
    };
  } catch (e) {
    clearTimeout(idle);
    response.destroy();
    body.destroy();
    // Nothing stored half-way: the parts sent so far are discarded (AbortMultipartUpload).
    if (upload) await upload.abort().catch((err: unknown) => ctx.log.warn("multipart upload abort failed", { error: String(err) }));
    if (signal.aborted) throw signal.reason;
    if (e instanceof JobError) throw e;
    if (e === uploadFailure) throw storageError("The video could not be stored.", e, signal);
    const code = (e as { code?: string }).code;
    throw new JobError(`The download from the URL failed${code ? ` (${code})` : ""}.`, `after ${bytes} bytes: ${(e as Error).message ?? String(e)}`.slice(0, 1000));
  }

  /** Sniffs the first bytes, then starts the multipart upload with them. @throws JobError for a body that is not a video */
  function startUpload(head: Buffer): NonNullable<typeof upload> {
    const refused = refusedContent(head.subarray(0, SNIFF_BYTES), response.headers["content-type"]);
    if (refused) throw refused;
    const started = storage.uploadStream(bucket, key, body, contentType);
    started.done.catch((err: unknown) => {
      uploadFailure = err;
      // Unblock a reader waiting on `drain`.
      response.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    body.write(head);
    return started;
  }
}

/** Size, type and ETag of the stored source, or null when there is none. @throws JobError on storage failures */
async function storedSource(ctx: JobContext, bucket: string, key: string): Promise<{ sizeBytes: number; contentType: string; etag?: string } | null> {
  try {
    const head = await ctx.storage.head(bucket, key, ctx.signal);
    const etag = head.etag && ObjectEtag.safeParse(head.etag).success ? head.etag : undefined;
    return { sizeBytes: head.sizeBytes ?? 0, contentType: storedContentType(head.contentType), ...(etag ? { etag } : {}) };
  } catch (e) {
    if (isNotFound(e)) return null;
    throw storageError("The video storage could not be read.", e, ctx.signal);
  }
}
