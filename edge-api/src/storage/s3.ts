/**
 * S3-compatible object storage (R2 in production, @20minutes/s3rver locally) through aws4fetch SigV4:
 * presigned PUT/GET URLs for clients, and signed HEAD/GET/DELETE for the Worker itself.
 *
 * URLs are path-style, `${S3_ENDPOINT}/${bucket}/${key}`. Presigned URLs put `X-Amz-Expires` in the
 * query before signing (R2/S3 accept 1 s to 7 days). Presigned PUTs sign every header (`allHeaders`),
 * so the storage refuses a body of another size or type (403). Worker-side requests time out after
 * {@link STORAGE_TIMEOUT_MS} and are retried once on 5xx/429.
 */
import { AwsClient, AwsV4Signer } from "aws4fetch";

/** Timeout of one storage request made by the Worker, milliseconds. */
export const STORAGE_TIMEOUT_MS = 10_000;

export interface S3Config {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface PresignedUrl {
  url: string;
  /** ISO 8601 time after which the storage refuses the URL. */
  expiresAt: string;
}

export interface ObjectHead {
  sizeBytes: number;
  contentType: string | null;
  etag: string | null;
}

/** A storage answer the Worker did not expect (not 2xx, not 404). */
export class StorageError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

/** Client of one S3 endpoint. Create one per request (cheap); it holds no connection. */
export class S3Storage {
  private readonly client: AwsClient;

  constructor(private readonly cfg: S3Config) {
    this.client = new AwsClient({
      accessKeyId: cfg.accessKeyId,
      secretAccessKey: cfg.secretAccessKey,
      region: cfg.region,
      service: "s3",
      retries: 1,
    });
  }

  /** Path-style URL of an object; each key segment is percent-encoded. */
  objectUrl(bucket: string, key: string): string {
    return `${this.cfg.endpoint}/${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;
  }

  /**
   * Presigned PUT bound to one content type and length.
   * @param opts.contentLength exact body size, bytes
   * @param opts.ttlSeconds lifetime, 1..604800 s
   * @returns the URL, the headers the client must send verbatim, and the expiry time
   */
  async presignPut(opts: {
    bucket: string;
    key: string;
    contentType: string;
    contentLength: number;
    ttlSeconds: number;
  }): Promise<PresignedUrl & { headers: { "content-type": string; "content-length": string } }> {
    const headers = { "content-type": opts.contentType, "content-length": String(opts.contentLength) };
    const signed = await this.presign("PUT", opts.bucket, opts.key, opts.ttlSeconds, {}, headers);
    return { ...signed, headers };
  }

  /**
   * Presigned GET, optionally overriding the response's Content-Disposition
   * (`response-content-disposition`, signed into the URL).
   * @param opts.ttlSeconds lifetime, 1..604800 s
   */
  presignGet(opts: {
    bucket: string;
    key: string;
    ttlSeconds: number;
    contentDisposition?: string;
  }): Promise<PresignedUrl> {
    const query: Record<string, string> = {};
    if (opts.contentDisposition) query["response-content-disposition"] = opts.contentDisposition;
    return this.presign("GET", opts.bucket, opts.key, opts.ttlSeconds, query, {});
  }

  /**
   * HEAD of an object.
   * @returns size and type, or null when the object does not exist (404)
   * @throws StorageError on any other answer; the timeout's DOMException when it takes too long
   */
  async headObject(bucket: string, key: string): Promise<ObjectHead | null> {
    const res = await this.client.fetch(this.objectUrl(bucket, key), {
      method: "HEAD",
      signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS),
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new StorageError(`HEAD ${bucket}/${key} answered ${res.status}`, res.status);
    const length = Number.parseInt(res.headers.get("content-length") ?? "", 10);
    if (!Number.isFinite(length)) throw new StorageError(`HEAD ${bucket}/${key} has no content-length`);
    return { sizeBytes: length, contentType: res.headers.get("content-type"), etag: res.headers.get("etag") };
  }

  /**
   * DELETE an object. Idempotent: S3 answers 204 for a key that does not exist, and a 404 (some
   * S3-compatible servers) counts as deleted too.
   * @throws StorageError on any other non-2xx answer; the timeout's DOMException when it takes too long
   */
  async deleteObject(bucket: string, key: string): Promise<void> {
    const res = await this.client.fetch(this.objectUrl(bucket, key), {
      method: "DELETE",
      signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.ok || res.status === 404) return;
    throw new StorageError(`DELETE ${bucket}/${key} answered ${res.status}`, res.status);
  }

  /**
   * GET an object and parse it as JSON.
   * @returns the parsed value (validate it!), or null when the object does not exist
   * @throws StorageError on other statuses or a body that is not JSON
   */
  async getObjectJson(bucket: string, key: string): Promise<unknown> {
    const res = await this.client.fetch(this.objectUrl(bucket, key), {
      method: "GET",
      signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS),
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new StorageError(`GET ${bucket}/${key} answered ${res.status}`, res.status);
    }
    try {
      return await res.json();
    } catch {
      throw new StorageError(`GET ${bucket}/${key} is not JSON`);
    }
  }

  private async presign(
    method: "GET" | "PUT",
    bucket: string,
    key: string,
    ttlSeconds: number,
    query: Record<string, string>,
    headers: Record<string, string>,
  ): Promise<PresignedUrl> {
    const url = new URL(this.objectUrl(bucket, key));
    url.searchParams.set("X-Amz-Expires", String(ttlSeconds));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const now = new Date();
    // The signer is used directly (not AwsClient.sign) so no Request is built: a Request would drop
    // or refuse `content-length` without a body in some runtimes, and only the URL is needed.
    const signer = new AwsV4Signer({
      method,
      url: url.toString(),
      headers,
      accessKeyId: this.cfg.accessKeyId,
      secretAccessKey: this.cfg.secretAccessKey,
      region: this.cfg.region,
      service: "s3",
      datetime: now.toISOString().replace(/[:-]|\.\d{3}/g, ""),
      signQuery: true,
      allHeaders: true,
    });
    const signed = await signer.sign();
    return {
      url: signed.url.toString(),
      expiresAt: new Date(Math.floor(now.getTime() / 1000) * 1000 + ttlSeconds * 1000).toISOString(),
    };
  }
}

/**
 * Content-Disposition of an archive download: `attachment; filename="<name without extension>-images.zip"`.
 * Characters outside `[A-Za-z0-9._ -]` become `_` so the header needs no escaping.
 */
export function zipContentDisposition(filename: string): string {
  const dot = filename.lastIndexOf(".");
  const base = (dot > 0 ? filename.slice(0, dot) : filename).replace(/[^A-Za-z0-9._ -]/g, "_").slice(0, 200) || "video";
  return `attachment; filename="${base}-images.zip"`;
}
