/**
 * The processor's one S3 module: an AWS SDK client for HEAD, ranged GET, PUT and streaming multipart
 * uploads, and presigned GET URLs (aws4fetch, query-signed SigV4) that ffmpeg reads with HTTP range
 * requests, so a video is streamed and never held whole in memory or on disk.
 */
import type { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { AwsClient } from "aws4fetch";
import type { ProcessorConfig } from "./config.ts";
import { JobError } from "./runner/errors.ts";

/** Connection timeout of one S3 request of the processor, ms. */
export const S3_CONNECT_TIMEOUT_MS = 5_000;
/** Longest silence of an S3 socket (no byte sent or received) before the request fails, ms. */
export const S3_SOCKET_TIMEOUT_MS = 30_000;
/** Attempts per S3 call (first try + retries with the SDK's exponential backoff). */
export const S3_MAX_ATTEMPTS = 4;

/**
 * @param s3 connection settings
 * @returns a client with path-style URLs (per config) and checksums only when an operation requires them:
 *   the local S3 server and R2 reject or mishandle the SDK's default CRC32 checksums (../shared/toolchain-notes.md).
 */
export function createS3Client(s3: ProcessorConfig["s3"]): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    forcePathStyle: s3.forcePathStyle,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Bounded: a dead or stalled endpoint fails the call (then the job, with a storage ERROR) instead of
    // hanging until the job timeout. Connect within 5 s; a socket silent for 30 s is dropped; 4 attempts
    // with the SDK's exponential backoff (throttling and 5xx/network errors only).
    requestHandler: { connectionTimeout: S3_CONNECT_TIMEOUT_MS, requestTimeout: S3_SOCKET_TIMEOUT_MS },
    maxAttempts: S3_MAX_ATTEMPTS,
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
 * own Range/User-Agent headers).
 * @param expiresSeconds validity, seconds, clamped to 1 … 604800 (7 days, the SigV4 and R2 maximum)
 * @returns the URL; it is a credential: never log it
 */
export async function presignGetUrl(
  s3: ProcessorConfig["s3"],
  bucket: string,
  key: string,
  expiresSeconds: number,
): Promise<string> {
  const aws = new AwsClient({
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
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
  client: S3Client;
  /**
   * Presigned GET URL (see {@link presignGetUrl}).
   * @returns the URL; it is a credential: never log it
   */
  presignGet(bucket: string, key: string, expiresSeconds: number): Promise<string>;
  /**
   * HEAD of an object.
   * @returns its size in bytes (null when the store does not say)
   * @throws the SDK's error ({@link isNotFound} tells a missing object)
   */
  objectSize(bucket: string, key: string, signal: AbortSignal): Promise<number | null>;
  /** @returns the object's first `bytes` bytes (ranged GET), or null when they cannot be read */
  readHead(bucket: string, key: string, bytes: number, signal: AbortSignal): Promise<Uint8Array | null>;
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
}

/** DeleteObject calls of {@link Storage.deleteKeys} sent at once. */
export const DELETE_CONCURRENCY = 8;

/**
 * @param settings connection settings
 * @param client a client to use instead of a new one (tests pass a slowed-down client)
 */
export function createStorage(settings: ProcessorConfig["s3"], client: S3Client = createS3Client(settings)): Storage {
  return {
    client,
    presignGet: (bucket, key, expiresSeconds) => presignGetUrl(settings, bucket, key, expiresSeconds),
    async objectSize(bucket, key, signal) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return head.ContentLength ?? null;
    },
    async readHead(bucket, key, bytes, signal) {
      try {
        const range = `bytes=0-${bytes - 1}`;
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }), { abortSignal: signal });
        const body = await out.Body?.transformToByteArray();
        return body ? body.subarray(0, bytes) : null;
      } catch {
        return null;
      }
    },
    async put(bucket, key, body, contentType, signal) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: "*" }), { abortSignal: signal });
    },
    uploadStream(bucket, key, body, contentType) {
      const upload = new Upload({
        client,
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
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
        }
      };
      await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, worker));
    },
  };
}

/** True when an SDK error says the object does not exist (404, NotFound, NoSuchKey). */
export function isNotFound(e: unknown): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 404 || (e as Error).name === "NotFound" || (e as Error).name === "NoSuchKey";
}

/**
 * The error to throw for a failed S3 call: the abort reason when the job was aborted, a JobError as is,
 * otherwise a JobError with `message` and the SDK error's name, HTTP status and message as description.
 */
export function storageError(message: string, e: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (e instanceof JobError) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return new JobError(message, `${err.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${err.message ?? String(e)}`.slice(0, 1000));
}

/**
 * HEAD of the source object.
 * @returns its size in bytes (null when the store does not say)
 * @throws JobError "not found" for a missing object, a storage error otherwise
 */
export async function headSource(storage: Storage, bucket: string, key: string, signal: AbortSignal): Promise<number | null> {
  try {
    return await storage.objectSize(bucket, key, signal);
  } catch (e) {
    signal.throwIfAborted();
    if (isNotFound(e)) {
      throw new JobError(
        "The uploaded video was not found in storage.",
        "HeadObject on the source object returned 404 Not Found: the upload did not complete or the video was deleted.",
      );
    }
    throw storageError("The uploaded video could not be read from storage.", e, signal);
  }
}
