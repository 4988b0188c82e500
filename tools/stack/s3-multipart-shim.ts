/**
 * Makes the local S3 server (@20minutes/s3rver 4.0.4) handle multipart uploads the way S3 and R2 do, for
 * what vidsnap relies on. s3rver itself answers 405 to ListParts and AbortMultipartUpload, accepts parts
 * for an UploadId it never issued, and assembles CompleteMultipartUpload without checking ETags or sizes.
 * This middleware, installed in front of s3rver's router, adds (requests are SigV4-verified first by
 * s3rver's own authentication middleware, so a tampered URL still gets 403):
 * - ListParts (`GET /bucket/key?uploadId=`): parts with PartNumber, ETag and Size; `max-parts` and
 *   `part-number-marker` paging.
 * - AbortMultipartUpload (`DELETE /bucket/key?uploadId=`): deletes the parts, 204.
 * - UploadPart to an unknown upload or another key → 404 `NoSuchUpload` (then s3rver stores the part).
 * - CompleteMultipartUpload: unknown upload → 404 `NoSuchUpload`; a listed part not stored or with
 *   another ETag → 400 `InvalidPart`; part numbers not ascending → 400 `InvalidPartOrder`; a part but the
 *   last under 5 MiB → 400 `EntityTooSmall` (S3 rules); then assembled by s3rver's store.
 * It reads s3rver's filesystem store layout (`<bucket>/<…>._S3rver_uploads/<uploadId>/{key,metadata,<n>,<n>.md5}`).
 */
import { createRequire } from "node:module";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";

const require = createRequire(import.meta.url);

/** Smallest part S3 accepts, except the last one, bytes. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

/* Minimal shapes of the Koa context and s3rver internals used here (s3rver ships no types). */
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  req: NodeJS.ReadableStream;
  status: number;
  body: unknown;
  type: string;
  href: string;
  set(name: string, value: string): void;
}
type Next = () => Promise<void>;
type Middleware = (ctx: KoaContext, next: Next) => Promise<void>;
interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ md5: string; size: number }>;
}
interface S3rverLike {
  middleware: Middleware[];
  store: S3rverStore;
}
type S3ErrorCtor = new (code: string, message: string, detail?: Record<string, unknown>) => Error;

/**
 * Installs the middleware on an s3rver instance (before `run()`), right after its request logger.
 * @param server the `new S3rver(...)` instance
 */
export function installMultipartShim(server: S3rverLike): void {
  const S3Error = require("@20minutes/s3rver/lib/models/error") as S3ErrorCtor;
  const authentication = (require("@20minutes/s3rver/lib/middleware/authentication") as () => Middleware)();
  const store = server.store;

  const uploadDir = (bucket: string, uploadId: string) => {
    if (!/^[A-Za-z0-9._-]+$/.test(uploadId)) throw new S3Error("NoSuchUpload", "The specified upload does not exist.");
    return path.join(store.getResourcePath(bucket, undefined, "uploads"), uploadId);
  };

  /** The upload's folder after checking it exists and belongs to `key`. */
  const openUpload = async (bucket: string, key: string, uploadId: string) => {
    const dir = uploadDir(bucket, uploadId);
    const storedKey = await readFile(path.join(dir, "key"), "utf8").catch(() => null);
    if (storedKey !== key) throw new S3Error("NoSuchUpload", "The specified upload does not exist.", { UploadId: uploadId });
    return dir;
  };

  /**
   * Stored parts of an upload: number, ETag (quoted md5) and size, ascending. A part whose PUT was cut off
   * has no `.md5` file yet (s3rver writes it after the body): like S3, it is not listed.
   */
  const storedParts = async (dir: string) => {
    const names = (await readdir(dir)).filter((n) => /^\d+$/.test(n));
    const parts = await Promise.all(
      names.map(async (n) => {
        try {
          const [md5, s] = await Promise.all([readFile(path.join(dir, `${n}.md5`), "utf8"), stat(path.join(dir, n))]);
          return { partNumber: Number(n), etag: `"${md5.trim()}"`, size: s.size };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
          throw err;
        }
      }),
    );
    return parts.filter((p) => p !== null).sort((a, b) => a.partNumber - b.partNumber);
  };

  const shim: Middleware = async (ctx, next) => {
    const uploadId = typeof ctx.query.uploadId === "string" ? ctx.query.uploadId : undefined;
    const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    if (uploadId === undefined || !m || !["GET", "DELETE", "PUT", "POST"].includes(ctx.method)) return next();
    const bucket = decodeURIComponent(m[1]!);
    const key = decodeURIComponent(m[2]!);
    ctx.params = { bucket, key };

    if (ctx.method === "PUT") {
      // UploadPart: verify the signature, refuse unknown uploads, then let s3rver store the part.
      await authentication(ctx, async () => {
        await openUpload(bucket, key, uploadId);
      });
      return next();
    }

    await authentication(ctx, async () => {
      const dir = await openUpload(bucket, key, uploadId);
      if (ctx.method === "DELETE") {
        await rm(dir, { recursive: true, force: true });
        ctx.status = 204;
        ctx.body = null;
        return;
      }
      if (ctx.method === "GET") {
        const maxParts = Math.min(1000, Math.max(1, Number(ctx.query["max-parts"] ?? 1000) || 1000));
        const marker = Number(ctx.query["part-number-marker"] ?? 0) || 0;
        const after = (await storedParts(dir)).filter((p) => p.partNumber > marker);
        const page = after.slice(0, maxParts);
        const truncated = after.length > page.length;
        ctx.type = "application/xml";
        ctx.body =
          `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key>` +
          `<UploadId>${xml(uploadId)}</UploadId><PartNumberMarker>${marker}</PartNumberMarker>` +
          `<NextPartNumberMarker>${page.at(-1)?.partNumber ?? marker}</NextPartNumberMarker><MaxParts>${maxParts}</MaxParts>` +
          `<IsTruncated>${truncated}</IsTruncated>` +
          page.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${xml(p.etag)}</ETag><Size>${p.size}</Size></Part>`).join("") +
          `</ListPartsResult>`;
        return;
      }
      // POST: CompleteMultipartUpload with S3's checks.
      const body = await readBody(ctx.req);
      const listed = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((p) => ({
        number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(p[1]!)?.[1]),
        etag: unxml(/<ETag>([^<]*)<\/ETag>/.exec(p[1]!)?.[1] ?? "").replace(/"/g, ""),
      }));
      if (listed.length === 0) throw new S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.");
      for (let i = 1; i < listed.length; i++) {
        if (!(listed[i]!.number > listed[i - 1]!.number)) throw new S3Error("InvalidPartOrder", "The list of parts was not in ascending order.");
      }
      const stored = new Map((await storedParts(dir)).map((p) => [p.partNumber, p]));
      listed.forEach((p, i) => {
        const s = stored.get(p.number);
        if (!s || s.etag.replace(/"/g, "") !== p.etag) {
          throw new S3Error("InvalidPart", "One or more of the specified parts could not be found or the ETag did not match.", { PartNumber: p.number });
        }
        if (i < listed.length - 1 && s.size < MIN_PART_BYTES) {
          throw new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", { PartNumber: p.number });
        }
      });
      const { md5 } = await store.putObjectMultipart(bucket, uploadId, listed);
      ctx.type = "application/xml";
      ctx.body =
        `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><Location>${xml(ctx.href.split("?")[0]!)}</Location>` +
        `<Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><ETag>${xml(JSON.stringify(md5))}</ETag></CompleteMultipartUploadResult>`;
    });
  };
  server.middleware.splice(1, 0, shim);
}

function readBody(req: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    req.on("data", (c: Buffer) => (s += c.toString("utf8")));
    req.on("end", () => resolve(s));
    req.on("error", reject);
  });
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function unxml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#34;/g, '"').replace(/&amp;/g, "&");
}
