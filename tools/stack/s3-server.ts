/**
 * Starts the local S3-compatible server (@20minutes/s3rver 4.x), which verifies SigV4 signatures
 * (header and presigned query), honours presigned expiry and signed headers, and supports multipart
 * uploads (with ListParts, AbortMultipartUpload and S3's part checks added by ./s3-multipart-shim.ts).
 * s3rver serves a request without any signature as if it were allowed; like S3 with a private bucket,
 * this server answers it 403 `AccessDenied` instead ({@link installSignatureGuard}), so a web page or a
 * client that forgot to sign cannot read, write, delete or list, and tests catch a missing signature.
 * GET and HEAD honour `If-Match` as S3 does ({@link installConditionalReads}; s3rver ignores it).
 * CORS allows the stack's own origin (the dashboard, which uploads to presigned URLs), no other.
 * It also stands in for R2's temporary credentials (./r2-temp-credentials.ts): the Temporary Credentials API
 * at `{endpoint}/client/v4/accounts/{account}/r2/temp-access-credentials`, and session-token requests held
 * to their bucket, permission, prefixes, objects and expiry.
 * Buckets are created through its `configureBuckets` option because signed CreateBucket fails there (see ../shared/toolchain-notes.md).
 */
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { apiBaseUrl, LOCAL } from "./local-config.ts";
import { installMultipartShim } from "./s3-multipart-shim.ts";
import { installTempCredentials, LOCAL_TEMP_CREDENTIALS } from "./r2-temp-credentials.ts";

const require = createRequire(import.meta.url);

/**
 * CORS of both buckets: browser uploads and downloads with presigned URLs from `origins` only
 * (PUT/GET/HEAD, content-type listed explicitly).
 */
function corsXml(origins: readonly string[]): string {
  const allowed = origins.map((o) => `<AllowedOrigin>${o.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</AllowedOrigin>`).join("");
  return `<CORSConfiguration><CORSRule>${allowed}<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>content-type</AllowedHeader><AllowedHeader>content-length</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`;
}

export interface S3ServerHandle {
  /** e.g. `http://127.0.0.1:4569` */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * @param opts.directory where objects are stored on disk
 * @param opts.port TCP port on 127.0.0.1; 0 picks a free one
 * @param opts.buckets bucket names to create (default: the local videos and images buckets)
 * @param opts.silent suppress per-request logs (default true)
 * @param opts.corsOrigins origins a browser may use presigned URLs from (default: the API on its default
 *   port, `http://127.0.0.1:8787`, which serves the dashboard)
 * @throws when the port is taken
 */
export async function startS3Server(opts: {
  directory: string;
  port?: number;
  buckets?: string[];
  silent?: boolean;
  corsOrigins?: readonly string[];
}): Promise<S3ServerHandle> {
  const S3rver = require("@20minutes/s3rver");
  const buckets = opts.buckets ?? [LOCAL.videosBucket, LOCAL.imagesBucket];
  const server = new S3rver({
    address: LOCAL.host,
    port: opts.port ?? LOCAL.s3Port,
    directory: opts.directory,
    silent: opts.silent ?? true,
    // Path-style URLs (http://127.0.0.1:port/bucket/key): no wildcard DNS locally.
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name, configs: [corsXml(opts.corsOrigins ?? [apiBaseUrl()])] })),
  });
  // ListParts, AbortMultipartUpload and S3's CompleteMultipartUpload checks, which s3rver lacks.
  installMultipartShim(server);
  // Installed after the shim, so they run before it (the signature guard first).
  installConditionalReads(server);
  const temp = installTempCredentials(server, { ...LOCAL_TEMP_CREDENTIALS, buckets });
  installSignatureGuard(server);
  // The API route answers Bearer-authenticated requests before the signature guard sees them.
  temp.installApi();
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://${LOCAL.host}:${address.port}`,
    port: address.port,
    close: () => {
      // End keep-alive and in-flight connections too, so close() resolves at once (the chaos harness
      // stops the server mid-request to simulate an outage).
      (server.httpServer as import("node:http").Server | undefined)?.closeAllConnections();
      return server.close();
    },
  };
}

/* Minimal shapes of the Koa context and s3rver internals used by the guard (s3rver ships no types). */
interface GuardContext {
  method: string;
  query: Record<string, string | string[] | undefined>;
  get(header: string): string;
  response: { get(header: string): string };
  set(name: string, value: string): void;
  status: number;
  body: unknown;
}
type GuardMiddleware = (ctx: GuardContext, next: () => Promise<void>) => Promise<void>;

/**
 * Refuses every request that carries no signature at all (no `Authorization` header, no `X-Amz-Signature`
 * query parameter) with S3's 403 `AccessDenied` XML error, before s3rver or the multipart shim sees it;
 * s3rver still verifies the signatures that are present. CORS preflights (`OPTIONS`) pass: browsers never
 * sign them. A preflight s3rver allowed gets the request's origin back rather than `*`, as S3 answers
 * for a rule that names its origins.
 * @param server the `new S3rver(...)` instance, before `run()`
 */
export function installSignatureGuard(server: { middleware: unknown[] }): void {
  const S3Error = require("@20minutes/s3rver/lib/models/error") as new (code: string, message: string) => Error;
  const guard: GuardMiddleware = async (ctx, next) => {
    if (ctx.method === "OPTIONS") {
      await next();
      const origin = ctx.get("origin");
      if (origin && ctx.response.get("access-control-allow-origin") === "*") ctx.set("Access-Control-Allow-Origin", origin);
      return;
    }
    if (!ctx.get("authorization") && ctx.query["X-Amz-Signature"] === undefined) {
      throw new S3Error("AccessDenied", "Access Denied");
    }
    return next();
  };
  // Right after s3rver's request logger (index 0), so refusals are logged like any other answer.
  server.middleware.splice(1, 0, guard);
}

/**
 * True when an `If-Match` header value matches an object's ETag (RFC 9110 §13.1.1, strong comparison):
 * `*`, or one of the comma-separated entity tags equal to it. Quotes are optional on both sides, as S3
 * accepts an unquoted ETag too.
 * @param header the request's If-Match value
 * @param etag the object's ETag (usually quoted)
 */
export function ifMatchHolds(header: string, etag: string): boolean {
  const bare = (t: string) => t.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
  const want = bare(etag);
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === want);
}

/**
 * Makes object GET and HEAD honour `If-Match`, which s3rver ignores: when the stored object's ETag does
 * not match, the answer is S3's 412 `PreconditionFailed` and no byte of the object is sent. The processor
 * reads a source with the ETag recorded at `complete`, so a video replaced after that is refused
 * (issue 18 item 7); without this guard the local stack would serve the new bytes.
 * @param server the `new S3rver(...)` instance, before `run()`
 */
export function installConditionalReads(server: { middleware: unknown[] }): void {
  const S3Error = require("@20minutes/s3rver/lib/models/error") as new (code: string, message: string, detail?: Record<string, unknown>) => Error;
  const conditional: GuardMiddleware = async (ctx, next) => {
    const ifMatch = ctx.get("if-match");
    await next();
    if (!ifMatch || (ctx.method !== "GET" && ctx.method !== "HEAD") || (ctx.status !== 200 && ctx.status !== 206)) return;
    const etag = ctx.response.get("etag");
    if (!etag || ifMatchHolds(ifMatch, etag)) return;
    (ctx.body as { destroy?: () => void } | undefined)?.destroy?.();
    ctx.body = null;
    throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "If-Match" });
  };
  server.middleware.splice(1, 0, conditional);
}
