/**
 * S3-compatible object storage (R2 in production, @20minutes/s3rver locally) through aws4fetch SigV4:
 * presigned PUT/GET URLs for clients (whole objects and multipart parts), and signed HEAD/GET/DELETE,
 * ListObjectsV2 and multipart calls (Create/Complete/Abort/ListParts) for the Worker itself. S3's small XML answers are read
 * with anchored regular expressions (workerd has no DOMParser; the fields read are plain text).
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
    /** S3 error `<Code>` of the answer, e.g. `InvalidPart`, `NoSuchUpload`, when it had one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

/** One part of a multipart upload as given to CompleteMultipartUpload. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** One part the storage holds (ListParts). */
export interface ListedPart extends UploadedPart {
  sizeBytes: number;
}

/** Most parts ListParts answers per page (S3's maximum). */
const LIST_PARTS_PAGE = 1000;

/** Text of the first `<tag>` element of an S3 XML answer, XML entities decoded; null when absent. */
function xmlText(xml: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? decodeXml(m[1]!) : null;
}

function decodeXml(s: string): string {
  return s.replace(/&(quot|amp|lt|gt|apos|#x?[0-9a-fA-F]+);/g, (all, e: string) => {
    switch (e) {
      case "quot":
        return '"';
      case "amp":
        return "&";
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "apos":
        return "'";
      default:
        return e[1] === "x" ? String.fromCodePoint(Number.parseInt(e.slice(2), 16)) : String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    }
  });
}

function encodeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Reads a non-2xx S3 answer and builds its StorageError (with the S3 error code when the body has one). */
async function storageError(what: string, res: Response): Promise<StorageError> {
  const body = await res.text().catch(() => "");
  const code = xmlText(body, "Code") ?? undefined;
  return new StorageError(`${what} answered ${res.status}${code ? ` ${code}` : ""}`, res.status, code);
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

  /**
   * GET a small text object (an HLS playlist), at most `maxBytes`.
   * @param maxBytes largest accepted object, bytes
   * @returns the text, or null when the object does not exist
   * @throws StorageError on other statuses or an object above `maxBytes`; the timeout's DOMException
   */
  async getObjectText(bucket: string, key: string, maxBytes: number): Promise<string | null> {
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
    const declared = Number.parseInt(res.headers.get("content-length") ?? "", 10);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel();
      throw new StorageError(`GET ${bucket}/${key} is ${declared} bytes, above ${maxBytes}`);
    }
    const text = await res.text();
    if (text.length > maxBytes) throw new StorageError(`GET ${bucket}/${key} is above ${maxBytes} bytes`);
    return text;
  }

  /**
   * GET an object as bytes (an image on demand), at most `maxBytes`.
   * @returns its bytes, content type and ETag, or null when it does not exist
   * @throws StorageError on other statuses or an object above `maxBytes`; the timeout's DOMException
   */
  async getObjectBytes(bucket: string, key: string, maxBytes: number): Promise<{ bytes: Uint8Array<ArrayBuffer>; contentType: string | null; etag: string | null } | null> {
    const res = await this.client.fetch(this.objectUrl(bucket, key), { method: "GET", signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS) });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new StorageError(`GET ${bucket}/${key} answered ${res.status}`, res.status);
    }
    const declared = Number.parseInt(res.headers.get("content-length") ?? "", 10);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel();
      throw new StorageError(`GET ${bucket}/${key} is ${declared} bytes, above ${maxBytes}`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw new StorageError(`GET ${bucket}/${key} is above ${maxBytes} bytes`);
    return { bytes, contentType: res.headers.get("content-type"), etag: res.headers.get("etag") };
  }

  /**
   * PUT an object (an image on demand) from bytes in memory.
   * @returns the ETag the storage gave it (null when it did not say)
   * @throws StorageError on a non-2xx answer; the timeout's DOMException
   */
  async putObject(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<string | null> {
    const res = await this.client.fetch(this.objectUrl(bucket, key), {
      method: "PUT",
      body,
      headers: { "content-type": contentType, "content-length": String(body.byteLength) },
      signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok) throw new StorageError(`PUT ${bucket}/${key} answered ${res.status}`, res.status);
    return res.headers.get("etag");
  }

  /**
   * Keys of every object under a prefix (S3 ListObjectsV2, every page).
   * @param prefix key prefix, e.g. `users/u/videos/v/transcodes/`
   * @param maxKeys stop after this many keys (bounded work per call); default 100,000
   * @returns the keys, in the storage's (lexicographic) order
   * @throws StorageError on a non-2xx answer; the timeout's DOMException
   */
  async listKeys(bucket: string, prefix: string, maxKeys = 100_000): Promise<string[]> {
    const keys: string[] = [];
    let token: string | null = null;
    while (keys.length < maxKeys) {
      const url = new URL(`${this.cfg.endpoint}/${encodeURIComponent(bucket)}`);
      url.searchParams.set("list-type", "2");
      url.searchParams.set("prefix", prefix);
      url.searchParams.set("max-keys", "1000");
      if (token) url.searchParams.set("continuation-token", token);
      const res = await this.client.fetch(url.toString(), { method: "GET", signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS) });
      if (!res.ok) throw await storageError(`ListObjectsV2 ${bucket}/${prefix}`, res);
      const xml = await res.text();
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = xmlText(m[1]!, "Key");
        if (key !== null) keys.push(key);
      }
      const next = xmlText(xml, "NextContinuationToken");
      if (xmlText(xml, "IsTruncated") !== "true" || !next || next === token) break;
      token = next;
    }
    return keys.slice(0, maxKeys);
  }

  /**
   * Starts a multipart upload (S3 CreateMultipartUpload) of an object with this content type.
   * @returns the UploadId
   * @throws StorageError on a non-2xx answer or one without UploadId; the timeout's DOMException
   */
  async createMultipartUpload(bucket: string, key: string, contentType: string): Promise<string> {
    const res = await this.client.fetch(`${this.objectUrl(bucket, key)}?uploads=`, {
      method: "POST",
      headers: { "content-type": contentType },
      signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS),
    });
    if (!res.ok) throw await storageError(`CreateMultipartUpload ${bucket}/${key}`, res);
    const uploadId = xmlText(await res.text(), "UploadId");
    if (!uploadId) throw new StorageError(`CreateMultipartUpload ${bucket}/${key} answered no UploadId`);
    return uploadId;
  }

  /**
   * Presigned PUT of one part (S3 UploadPart), bound to the upload, the part number and the part's size
   * (`content-length` signed: another size is refused with 403).
   * @param opts.partNumber 1..10000
   * @param opts.contentLength exact part size, bytes
   * @param opts.ttlSeconds lifetime, 1..604800 s
   */
  async presignUploadPart(opts: {
    bucket: string;
    key: string;
    uploadId: string;
    partNumber: number;
    contentLength: number;
    ttlSeconds: number;
  }): Promise<PresignedUrl & { headers: { "content-length": string } }> {
    const headers = { "content-length": String(opts.contentLength) };
    const query = { partNumber: String(opts.partNumber), uploadId: opts.uploadId };
    const signed = await this.presign("PUT", opts.bucket, opts.key, opts.ttlSeconds, query, headers);
    return { ...signed, headers };
  }

  /**
   * Assembles the object from its parts (S3 CompleteMultipartUpload). S3 may answer 200 with an
   * `<Error>` body: that counts as a failure too.
   * @param parts ascending part numbers with the ETags their PUTs answered
   * @throws StorageError with `code` `InvalidPart` (unknown part or wrong ETag), `InvalidPartOrder`,
   *   `EntityTooSmall` (a part but the last under 5 MiB), `NoSuchUpload` (completed or aborted), …
   */
  async completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
    const xml =
      "<CompleteMultipartUpload>" +
      parts
        .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${encodeXml(p.etag)}</ETag></Part>`)
        .join("") +
      "</CompleteMultipartUpload>";
    const res = await this.client.fetch(`${this.objectUrl(bucket, key)}?uploadId=${encodeURIComponent(uploadId)}`, {
      method: "POST",
      headers: { "content-type": "application/xml" },
      body: xml,
      // Assembling large objects takes the storage a while.
      signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS * 3),
    });
    if (!res.ok) throw await storageError(`CompleteMultipartUpload ${bucket}/${key}`, res);
    const body = await res.text();
    if (body.includes("<Error>")) {
      const code = xmlText(body, "Code") ?? undefined;
      throw new StorageError(`CompleteMultipartUpload ${bucket}/${key} failed${code ? ` ${code}` : ""}`, res.status, code);
    }
  }

  /**
   * Aborts a multipart upload (S3 AbortMultipartUpload), freeing its parts. Idempotent: `NoSuchUpload`
   * (already completed or aborted) counts as done.
   * @throws StorageError on any other non-2xx answer; the timeout's DOMException
   */
  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    const res = await this.client.fetch(`${this.objectUrl(bucket, key)}?uploadId=${encodeURIComponent(uploadId)}`, {
      method: "DELETE",
      signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS),
    });
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    const err = await storageError(`AbortMultipartUpload ${bucket}/${key}`, res);
    if (err.code === "NoSuchUpload" || res.status === 404) return;
    throw err;
  }

  /**
   * Parts stored so far for a multipart upload (S3 ListParts, every page).
   * @returns parts by ascending part number
   * @throws StorageError (`code` `NoSuchUpload` when completed or aborted; status 405/501 where the
   *   storage does not implement ListParts); the timeout's DOMException
   */
  async listParts(bucket: string, key: string, uploadId: string): Promise<ListedPart[]> {
    const parts: ListedPart[] = [];
    let marker = "0";
    for (let page = 0; page < 10_000 / LIST_PARTS_PAGE + 1; page++) {
      const url =
        `${this.objectUrl(bucket, key)}?max-parts=${LIST_PARTS_PAGE}&part-number-marker=${encodeURIComponent(marker)}` +
        `&uploadId=${encodeURIComponent(uploadId)}`;
      const res = await this.client.fetch(url, { method: "GET", signal: AbortSignal.timeout(STORAGE_TIMEOUT_MS) });
      if (!res.ok) throw await storageError(`ListParts ${bucket}/${key}`, res);
      const xml = await res.text();
      for (const m of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
        const part = m[1]!;
        const partNumber = Number.parseInt(xmlText(part, "PartNumber") ?? "", 10);
        const sizeBytes = Number.parseInt(xmlText(part, "Size") ?? "", 10);
        const etag = xmlText(part, "ETag");
        if (!Number.isInteger(partNumber) || !Number.isInteger(sizeBytes) || !etag) {
          throw new StorageError(`ListParts ${bucket}/${key} answered a malformed part`);
        }
        parts.push({ partNumber, sizeBytes, etag });
      }
      if (xmlText(xml, "IsTruncated") !== "true") break;
      const next = xmlText(xml, "NextPartNumberMarker");
      if (!next || next === marker) break;
      marker = next;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
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

/** `name` without its extension, limited to `[A-Za-z0-9._ -]` (others become `_`), at most 200 characters. */
function safeBaseName(filename: string): string {
  const dot = filename.lastIndexOf(".");
  return (dot > 0 ? filename.slice(0, dot) : filename).replace(/[^A-Za-z0-9._ -]/g, "_").slice(0, 200) || "video";
}

/**
 * Content-Disposition of a transcode output download: `attachment; filename="<name>-<rendition>.<ext>"`
 * (same character rules as {@link zipContentDisposition}).
 * @param extension `mp4` or `webm`
 */
export function renditionContentDisposition(filename: string, rendition: string, extension: string): string {
  return `attachment; filename="${safeBaseName(filename)}-${rendition.replace(/[^a-z0-9-]/g, "_")}.${extension}"`;
}

/**
 * Content-Disposition of an archive download: `attachment; filename="<name without extension>-images.zip"`.
 * Characters outside `[A-Za-z0-9._ -]` become `_` so the header needs no escaping.
 */
export function zipContentDisposition(filename: string): string {
  return `attachment; filename="${safeBaseName(filename)}-images.zip"`;
}
