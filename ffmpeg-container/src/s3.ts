/**
 * S3 access of the processor: an AWS SDK client for HEAD/PUT/multipart upload, and presigned GET URLs
 * (aws4fetch, query-signed SigV4) that ffmpeg reads with HTTP range requests, so the video is streamed
 * and never held whole in memory or on disk.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { AwsClient } from "aws4fetch";
import type { ProcessorConfig } from "./config.ts";

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
