/**
 * The processor's one S3 module: an AWS SDK client for HEAD, ranged GET, PUT and streaming multipart
 * uploads, and presigned GET URLs (aws4fetch, query-signed SigV4) that ffmpeg reads with HTTP range
 * requests, so a video is streamed and never held whole in memory or on disk.
 *
 * The processor holds no storage key of its own (docs/architecture.md "Storage credentials"): each job or
 * render brings R2 temporary credentials minted by the Worker (schema/storage-credentials.ts), and its
 * {@link Storage} signs every call with the one whose scope names the object (`read` for the source,
 * `write` for the outputs). A call no credential of the job covers fails before any request is sent.
 */
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { AwsClient } from "aws4fetch";
import { backoffDelay, type BackoffPolicy } from "../../runtime/backoff.ts";
import { scopeCovers, type JobCredentials, type StorageCredential } from "../../schema/storage-credentials.ts";
import type { ProcessorConfig } from "./config.ts";
import { JobError } from "./runner/errors.ts";

/** Connection timeout of one S3 request of the processor, ms. */
export const S3_CONNECT_TIMEOUT_MS = 5_000;
/** Longest silence of an S3 socket (no byte sent or received) before the request fails, ms. */
export const S3_SOCKET_TIMEOUT_MS = 30_000;
/** Attempts per S3 call (first try + retries with {@link S3_RETRY_BACKOFF}). */
export const S3_MAX_ATTEMPTS = 6;
/**
 * Delays between the attempts of one S3 call, ms: 250, 500, 1000, 2000, 4000 (+ up to 20 % jitter), about
 * 8 s in all, so a storage blip of a few seconds (a restart, a dropped connection) costs a job nothing.
 * A longer outage fails the call with a retryable error, and the job is re-queued by the API with its
 * own, longer backoff (docs/architecture.md "Transient faults").
 */
export const S3_RETRY_BACKOFF: BackoffPolicy = { base: 250, max: 4_000, jitter: 0.2 };

/** The error classes the SDK's retry middleware hands a retry strategy (`RetryErrorInfo.errorType`). */
type RetryErrorType = "TRANSIENT" | "THROTTLING" | "SERVER_ERROR" | "CLIENT_ERROR";

/**
 * The SDK retry strategy of the processor's client (the SDK's `RetryStrategyV2` shape): up to
 * `maxAttempts` attempts of a call that failed with a network error, a timeout, throttling or a 5xx, waiting
 * {@link backoffDelay} of `policy` (ms) before each retry; client errors (4xx: missing object, 412) are
 * never retried.
 */
export function s3RetryStrategy(maxAttempts = S3_MAX_ATTEMPTS, policy: BackoffPolicy = S3_RETRY_BACKOFF) {
  const token = (retries: number, delayMs: number) => ({ getRetryCount: () => retries, getRetryDelay: () => delayMs });
  type Token = ReturnType<typeof token>;
  return {
    mode: "vidsnap-backoff",
    acquireInitialRetryToken: async (_scope: string): Promise<Token> => token(0, 0),
    async refreshRetryTokenForRetry(previous: Token, info: { errorType: RetryErrorType }): Promise<Token> {
      const retries = previous.getRetryCount() + 1;
      if (info.errorType === "CLIENT_ERROR" || retries >= maxAttempts) throw new Error("no retry left");
      return token(retries, Math.round(backoffDelay(retries, policy)));
    },
    recordSuccess: (_token: Token): void => undefined,
  };
}

/** The SigV4 key pair (and session token of temporary credentials) a client signs with. */
export interface SigningKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/**
 * @param s3 connection settings
 * @param key the credential to sign with (a job's temporary credential; tests playing the Worker may pass another)
 * @returns a client with path-style URLs (per config) and checksums only when an operation requires them:
 *   the local S3 server and R2 reject or mishandle the SDK's default CRC32 checksums (../shared/toolchain-notes.md).
 */
export function createS3Client(s3: ProcessorConfig["s3"], key: SigningKey): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}) },
    forcePathStyle: s3.forcePathStyle,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Bounded: a dead or stalled endpoint fails the call (then the job, with a retryable storage ERROR)
    // instead of hanging until the job timeout. Connect within 5 s; a socket silent for 30 s is dropped;
    // throttling, 5xx and network errors are retried with S3_RETRY_BACKOFF, about 8 s in all.
    requestHandler: { connectionTimeout: S3_CONNECT_TIMEOUT_MS, requestTimeout: S3_SOCKET_TIMEOUT_MS },
    maxAttempts: S3_MAX_ATTEMPTS,
    retryStrategy: s3RetryStrategy(),
  });
}

/**
 * Unsigned URL of an object: `endpoint/bucket/key` (path style) or `bucket.host/key`.
 * Each key segment is percent-encoded (RFC 3986), `/` kept.
 */
export function objectUrl(s3: ProcessorConfig["s3"], bucket: string, key: string): URL {
  const base = new URL(s3.endpoint);
  const encodedKey = key
    .split("/")
    .map((seg) => encodeURIComponent(seg).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
  const basePath = base.pathname.replace(/\/$/, "");
  if (s3.forcePathStyle) return new URL(`${base.origin}${basePath}/${bucket}/${encodedKey}`);
  return new URL(`${base.protocol}//${bucket}.${base.host}${basePath}/${encodedKey}`);
}

/**
 * Presigned GET URL of an object (SigV4 in the query string, only `host` signed, so ffmpeg may add its
 * own Range/User-Agent headers; a temporary credential's session token travels as `X-Amz-Security-Token`).
 * @param expiresSeconds validity, seconds, clamped to 1 … 604800 (7 days, the SigV4 and R2 maximum)
 * @returns the URL; it is a credential: never log it
 */
export async function presignGetUrl(
  s3: ProcessorConfig["s3"],
  signingKey: SigningKey,
  bucket: string,
  key: string,
  expiresSeconds: number,
): Promise<string> {
  const aws = new AwsClient({
    accessKeyId: signingKey.accessKeyId,
    secretAccessKey: signingKey.secretAccessKey,
    ...(signingKey.sessionToken ? { sessionToken: signingKey.sessionToken } : {}),
    service: "s3",
    region: s3.region,
  });
  const url = objectUrl(s3, bucket, key);
  url.searchParams.set("X-Amz-Expires", String(Math.min(604_800, Math.max(1, Math.ceil(expiresSeconds)))));
  const signed = await aws.sign(url.toString(), { method: "GET", aws: { signQuery: true } });
  return signed.url;
}

/** Multipart part size of a streaming upload, bytes: 5 MiB, the S3/R2 minimum for all parts but the last. */
export const PART_SIZE_BYTES = 5 * 1024 * 1024;
/** Parts of one streaming upload sent at once. */
export const UPLOAD_QUEUE_SIZE = 2;

/** A streaming upload started by {@link Storage.uploadStream}. */
export interface StreamUpload {
  /** Settles when the object is stored (or the upload failed). */
  done: Promise<unknown>;
  /** Stops the upload and discards the parts sent (AbortMultipartUpload). */
  abort(): Promise<void>;
}

/** Object storage as the jobs use it; every call of the processor to S3 goes through here. */
export interface Storage {
  /**
   * Presigned GET URL (see {@link presignGetUrl}).
   * @returns the URL; it is a credential: never log it
   */
  presignGet(bucket: string, key: string, expiresSeconds: number): Promise<string>;
  /**
   * HEAD of an object.
   * @param ifMatch when given, only while the object still has this ETag (If-Match)
   * @returns its size in bytes (null when the store does not say)
   * @throws the SDK's error ({@link isNotFound} tells a missing object, {@link isPreconditionFailed} another ETag)
   */
  objectSize(bucket: string, key: string, signal: AbortSignal, ifMatch?: string): Promise<number | null>;
  /** HEAD of an object: size, type and ETag as stored. @throws the SDK's error (see {@link objectSize}) */
  head(bucket: string, key: string, signal: AbortSignal): Promise<{ sizeBytes: number | null; contentType: string | undefined; etag: string | undefined }>;
  /**
   * @param ifMatch when given, only while the object still has this ETag (If-Match)
   * @returns the object's first `bytes` bytes (ranged GET), or null when they cannot be read (another ETag included)
   */
  readHead(bucket: string, key: string, bytes: number, signal: AbortSignal, ifMatch?: string): Promise<Uint8Array | null>;
  /**
   * GET of a whole object as a stream, only while it has the ETag `ifMatch`.
   * @returns its body and Content-Length (null when the store does not say)
   * @throws the SDK's error ({@link isPreconditionFailed} for another ETag, {@link isNotFound})
   */
  openRead(bucket: string, key: string, signal: AbortSignal, ifMatch: string): Promise<{ body: Readable; sizeBytes: number | null }>;
  /** PUT of a small object, only when `key` does not exist yet (If-None-Match: *). @throws the SDK's error */
  put(bucket: string, key: string, body: string, contentType: string, signal: AbortSignal): Promise<void>;
  /**
   * Uploads `body` while it is being written, only when `key` does not exist yet (If-None-Match: * on the
   * PUT or CompleteMultipartUpload, where the store supports it: R2 and S3 do): one PUT, or a multipart upload of {@link PART_SIZE_BYTES}
   * parts ({@link UPLOAD_QUEUE_SIZE} at once) when it is larger. A failed upload is aborted, so no
   * orphan parts are billed.
   */
  uploadStream(bucket: string, key: string, body: Readable, contentType: string): StreamUpload;
  /**
   * Deletes objects (one DeleteObject each, {@link DELETE_CONCURRENCY} at once: multi-object delete needs a
   * checksum header the local S3 server mishandles); a missing key is no error. @throws the SDK's error
   */
  deleteKeys(bucket: string, keys: readonly string[], signal: AbortSignal): Promise<void>;
  /** Closes the clients' connections (the runner calls it when the job or render ended). */
  destroy(): void;
}

/** DeleteObject calls of {@link Storage.deleteKeys} sent at once. */
export const DELETE_CONCURRENCY = 8;

/** Builds the S3 client of one credential (tests pass one that slows or counts calls). */
export type S3ClientFactory = (settings: ProcessorConfig["s3"], key: SigningKey) => S3Client;

/** errorMessage of a job whose credentials do not name an object it needs (a Worker/processor mismatch). */
export const OUT_OF_SCOPE_MESSAGE = "The job's storage credentials do not allow this.";

/**
 * The storage of one job or render, signing with its credentials.
 * @param settings connection settings (endpoint, region, path style)
 * @param credentials the job's credentials: reads use `read` (or `write` when it names the object: an
 *   attempt reads back its own outputs), writes and deletes use `write`
 * @param makeClient how a credential's client is built (default {@link createS3Client}); one client per role, made on first use
 * @throws JobError {@link OUT_OF_SCOPE_MESSAGE} (permanent) from a call no credential covers, before any request
 */
export function createStorage(settings: ProcessorConfig["s3"], credentials: JobCredentials, makeClient: S3ClientFactory = createS3Client): Storage {
  const clients = new Map<StorageCredential, S3Client>();
  const credentialFor = (op: "read" | "write", bucket: string, key: string): StorageCredential => {
    const candidates = op === "read" ? [credentials.read, credentials.write] : [credentials.write];
    const found = candidates.find((c) => c && (op === "read" || c.permission === "object-read-write") && scopeCovers(c, bucket, key));
    if (!found) throw new JobError(OUT_OF_SCOPE_MESSAGE, `No storage credential of the job allows to ${op} s3://${bucket}/${key}.`);
    return found;
  };
  const client = (op: "read" | "write", bucket: string, key: string): S3Client => {
    const credential = credentialFor(op, bucket, key);
    let c = clients.get(credential);
    if (!c) clients.set(credential, (c = makeClient(settings, credential)));
    return c;
  };
  return {
    presignGet: async (bucket, key, expiresSeconds) => presignGetUrl(settings, credentialFor("read", bucket, key), bucket, key, expiresSeconds),
    async objectSize(bucket, key, signal, ifMatch) {
      const head = await client("read", bucket, key).send(new HeadObjectCommand({ Bucket: bucket, Key: key, IfMatch: ifMatch }), { abortSignal: signal });
      return head.ContentLength ?? null;
    },
    async head(bucket, key, signal) {
      const head = await client("read", bucket, key).send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return { sizeBytes: head.ContentLength ?? null, contentType: head.ContentType, etag: head.ETag };
    },
    async readHead(bucket, key, bytes, signal, ifMatch) {
      try {
        const range = `bytes=0-${bytes - 1}`;
        const out = await client("read", bucket, key).send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, IfMatch: ifMatch }), { abortSignal: signal });
        const body = await out.Body?.transformToByteArray();
        return body ? body.subarray(0, bytes) : null;
      } catch {
        return null;
      }
    },
    async openRead(bucket, key, signal, ifMatch) {
      const out = await client("read", bucket, key).send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: ifMatch }), { abortSignal: signal });
      if (!(out.Body instanceof Readable)) throw new Error("GetObject gave no Node stream");
      return { body: out.Body, sizeBytes: out.ContentLength ?? null };
    },
    async put(bucket, key, body, contentType, signal) {
      await client("write", bucket, key).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: "*" }), { abortSignal: signal });
    },
    uploadStream(bucket, key, body, contentType) {
      const upload = new Upload({
        client: client("write", bucket, key),
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: "*" },
        partSize: PART_SIZE_BYTES,
        queueSize: UPLOAD_QUEUE_SIZE,
        leavePartsOnError: false,
      });
      return { done: upload.done(), abort: () => upload.abort() };
    },
    async deleteKeys(bucket, keys, signal) {
      const queue = [...keys];
      const worker = async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
          await client("write", bucket, key).send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
        }
      };
      await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, worker));
    },
    destroy() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}

/** True when an SDK error says the object does not exist (404, NotFound, NoSuchKey). */
export function isNotFound(e: unknown): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 404 || (e as Error).name === "NotFound" || (e as Error).name === "NoSuchKey";
}

/** True when an SDK error says a condition did not hold (412 PreconditionFailed: If-Match, If-None-Match). */
export function isPreconditionFailed(e: unknown): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 412 || (e as Error).name === "PreconditionFailed";
}

/** Network error codes of Node and the SDK that mean the storage could not be reached or dropped the call. */
const NETWORK_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND", "ECONNABORTED"]);

/**
 * True when a failed S3 call is a transient fault of the storage, not of the request: HTTP 5xx, 429 or
 * an S3 throttling code, a timeout, or a network error (no HTTP answer at all). 4xx answers (missing object,
 * a failed condition, access denied) are permanent.
 */
export function isTransientStorageError(e: unknown): boolean {
  const err = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; cause?: unknown };
  const status = err?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  if (err?.name && /Timeout|Throttl|SlowDown|RequestTimeTooSkewed|NetworkingError|TimeoutError/.test(err.name)) return true;
  if (err?.code && NETWORK_ERROR_CODES.has(err.code)) return true;
  if (err?.$retryable) return true;
  return err?.cause !== undefined && err.cause !== e ? isTransientStorageError(err.cause) : false;
}

/**
 * The error to throw for a failed S3 call: the abort reason when the job was aborted, a JobError as is,
 * otherwise a JobError with `message` and the SDK error's name, HTTP status and message as description,
 * retryable when the fault is transient ({@link isTransientStorageError}).
 */
export function storageError(message: string, e: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (e instanceof JobError) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return new JobError(message, `${err.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${err.message ?? String(e)}`.slice(0, 1000), {
    retryable: isTransientStorageError(e),
  });
}

/** errorMessage of a job whose source no longer has the ETag recorded at `complete`. */
export const SOURCE_REPLACED_MESSAGE = "The video was replaced after upload completed.";

/** The error of a source whose ETag changed since `complete` (a 412 on a conditional read). */
export function sourceReplacedError(): JobError {
  return new JobError(
    SOURCE_REPLACED_MESSAGE,
    "The source object no longer has the ETag recorded when the upload was completed (If-Match answered 412 Precondition Failed): " +
      "it was overwritten through the upload URL. Nothing was made from the new bytes; upload the video again as a new video.",
  );
}

/**
 * HEAD of the source object, conditional on `ifMatch` (the ETag recorded at `complete`) when given.
 * @returns its size in bytes (null when the store does not say)
 * @throws JobError "not found" for a missing object, {@link SOURCE_REPLACED_MESSAGE} for another ETag, a
 *   storage error otherwise
 */
export async function headSource(
  storage: Storage,
  bucket: string,
  key: string,
  signal: AbortSignal,
  ifMatch?: string,
): Promise<number | null> {
  try {
    return await storage.objectSize(bucket, key, signal, ifMatch);
  } catch (e) {
    signal.throwIfAborted();
    if (isPreconditionFailed(e)) throw sourceReplacedError();
    if (isNotFound(e)) {
      throw new JobError(
        "The uploaded video was not found in storage.",
        "HeadObject on the source object returned 404 Not Found: the upload did not complete or the video was deleted.",
      );
    }
    throw storageError("The uploaded video could not be read from storage.", e, signal);
  }
}
