/**
 * The local stand-in of R2's temporary credentials, served by the local S3 server (./s3-server.ts):
 * - the Temporary Credentials API, `POST {base}/accounts/{account_id}/r2/temp-access-credentials` with
 *   `Authorization: Bearer <API token>` and `{bucket, parentAccessKeyId, permission, ttlSeconds, prefixes?,
 *   objects?}`, answering Cloudflare's envelope `{success, errors, messages, result: {accessKeyId,
 *   secretAccessKey, sessionToken}}` (https://developers.cloudflare.com/r2/api/s3/temporary-credentials/);
 * - S3 requests signed with such credentials (SigV4 with the session token in `X-Amz-Security-Token`, header
 *   or presigned query): the signature is verified with the temporary secret (by s3rver, which learns the
 *   key pair here), an expired token is refused (400 `ExpiredToken`, as S3 answers), a forged one too (400
 *   `InvalidToken`), and any request outside the credential's bucket, permission, prefixes or objects gets
 *   403 `AccessDenied`.
 *
 * Stateless: the session token carries the scope and expiry, MACed with the parent secret, and the temporary
 * secret is an HMAC of the access key id under the parent secret. Credentials therefore survive a restart of
 * the server (the chaos harness stops and starts it mid-job), like R2's do.
 *
 * Permissions, as R2 documents them: `object-read-only` reads and lists objects, `object-read-write` also
 * writes and deletes them; `admin-*` (bucket administration) is not served locally (400). What counts:
 * GetObject/HeadObject read; PutObject, UploadPart, CopyObject (whose source must be readable too),
 * Create/Complete/AbortMultipartUpload, ListParts and DeleteObject write; ListObjects(V2) reads and, for a
 * credential scoped to prefixes, only under one of them (`prefix=` query). Every other request (ListBuckets,
 * DeleteObjects, bucket configuration) is refused to temporary credentials.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createRequire } from "node:module";
import {
  extractStorageScopes,
  importStorageScopes,
  renderStorageScopes,
  scopeCovers,
  transcodeStorageScopes,
  type JobCredentials,
  type StoragePermission,
  type StorageScope,
} from "../../schema/storage-credentials.ts";
import { LOCAL } from "./local-config.ts";

const require = createRequire(import.meta.url);

/** Longest TTL R2 accepts, seconds (7 days). */
export const MAX_TTL_SECONDS = 604_800;

/** Path of the API below the base URL's host (`{base}` = `http://host:port/client/v4`). */
const API_PATH = /^\/client\/v4\/accounts\/([^/]+)\/r2\/temp-access-credentials$/;

export type TempPermission = StoragePermission;

/** What a session token grants (its payload). */
export interface TempScope {
  /** Temporary access key id. */
  k: string;
  bucket: string;
  permission: TempPermission;
  prefixes?: string[] | undefined;
  objects?: string[] | undefined;
  /** Expiry, unix seconds. */
  exp: number;
}

/* Minimal shapes of the Koa context and s3rver internals used here (s3rver ships no types). */
interface Ctx {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  req: NodeJS.ReadableStream;
  get(header: string): string;
  status: number;
  body: unknown;
  type: string;
}
type Middleware = (ctx: Ctx, next: () => Promise<void>) => Promise<void>;
type S3ErrorCtor = new (code: string, message: string, detail?: Record<string, unknown>) => Error;
interface AwsAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");
const mac = (secret: string, what: string) => createHmac("sha256", secret).update(what).digest();

/** Temporary secret of `accessKeyId` under the parent secret (hex). */
function tempSecret(parentSecret: string, accessKeyId: string): string {
  return mac(parentSecret, `secret:${accessKeyId}`).toString("hex");
}

/**
 * Mints one temporary credential (what the API answers).
 * @param parentSecret secret of the parent access key (the local server's own key)
 * @param scope bucket, permission, optional prefixes/objects; `ttlSeconds` from now
 */
export function mintTempCredentials(
  parentSecret: string,
  scope: { bucket: string; permission: TempPermission; prefixes?: string[] | undefined; objects?: string[] | undefined; ttlSeconds: number },
  nowSeconds = Math.floor(Date.now() / 1000),
): { accessKeyId: string; secretAccessKey: string; sessionToken: string } {
  const accessKeyId = `TMP${randomBytes(16).toString("hex").toUpperCase()}`;
  const payload: TempScope = {
    k: accessKeyId,
    bucket: scope.bucket,
    permission: scope.permission,
    ...(scope.prefixes?.length ? { prefixes: scope.prefixes } : {}),
    ...(scope.objects?.length ? { objects: scope.objects } : {}),
    exp: nowSeconds + Math.ceil(scope.ttlSeconds),
  };
  const body = b64url(JSON.stringify(payload));
  return { accessKeyId, secretAccessKey: tempSecret(parentSecret, accessKeyId), sessionToken: `${body}.${b64url(mac(parentSecret, body))}` };
}

/** The scope a session token carries, or null when its MAC does not hold or it does not parse. */
export function readSessionToken(parentSecret: string, token: string): TempScope | null {
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined) return null;
  const want = mac(parentSecret, body);
  const got = Buffer.from(sig, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  try {
    return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TempScope;
  } catch {
    return null;
  }
}

/** True when `scope` lets `op` touch `key` of its bucket (no prefixes and no objects: the whole bucket). */
export function scopeAllows(scope: TempScope, op: "read" | "write", key: string): boolean {
  if (op === "write" && scope.permission !== "object-read-write") return false;
  return scopeCovers(scope, scope.bucket, key);
}

/**
 * Installs both halves on an s3rver instance (before `run()`): the API route and the session-token guard.
 * Call it before the signature guard is installed, so that guard runs first for S3 requests (the API
 * route is answered before it: its requests carry a Bearer token, not a SigV4 signature).
 * @param opts.parentAccessKeyId / parentSecret the server's long-lived key pair (temporary ones derive from it)
 * @param opts.apiToken the Bearer token the API accepts
 * @param opts.accountId the account id in the API path
 * @param opts.buckets buckets a credential may name
 * @param opts.installApi installs the API route (called last by the caller, so it runs first)
 */
export function installTempCredentials(
  server: { middleware: unknown[] },
  opts: { parentAccessKeyId: string; parentSecret: string; apiToken: string; accountId: string; buckets: readonly string[] },
): { installApi(): void } {
  const S3Error = require("@20minutes/s3rver/lib/models/error") as S3ErrorCtor;
  const account = (require("@20minutes/s3rver/lib/models/account") as { DUMMY_ACCOUNT: AwsAccount }).DUMMY_ACCOUNT;
  const denied = () => new S3Error("AccessDenied", "Access Denied");

  const guard: Middleware = async (ctx, next) => {
    if (ctx.method === "OPTIONS") return next();
    const credential = /Credential=([^/,\s]+)\//.exec(ctx.get("authorization"))?.[1] ?? String(ctx.query["X-Amz-Credential"] ?? "").split("/")[0];
    const token = ctx.get("x-amz-security-token") || (typeof ctx.query["X-Amz-Security-Token"] === "string" ? ctx.query["X-Amz-Security-Token"] : "");
    if (!token) {
      // Long-lived keys (and unsigned requests, which the signature guard refuses) go on; a temporary key
      // without its token is unknown, as on S3.
      if (!credential || credential === opts.parentAccessKeyId) return next();
      throw new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    }
    const scope = readSessionToken(opts.parentSecret, token);
    if (!scope || scope.k !== credential) throw new S3Error("InvalidToken", "The provided token is malformed or otherwise invalid.");
    if (Math.floor(Date.now() / 1000) >= scope.exp) throw new S3Error("ExpiredToken", "The provided token has expired.");
    // s3rver verifies the SigV4 signature with the key pairs it knows: teach it the temporary one.
    account.createKeyPair(scope.k, tempSecret(opts.parentSecret, scope.k));

    const m = /^\/([^/]+)(?:\/(.*))?$/.exec(ctx.path);
    const bucket = m?.[1] ? decodeURIComponent(m[1]) : undefined;
    const key = m?.[2] ? decodeURIComponent(m[2]) : undefined;
    if (!bucket || bucket !== scope.bucket) throw denied();
    if (key === undefined) {
      // Bucket level: only listing, and under one of the prefixes when the credential has some.
      const listing = ctx.method === "GET" && Object.keys(ctx.query).every((q) => ["list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "marker", "encoding-type", "fetch-owner", "x-id", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"].includes(q));
      const prefix = typeof ctx.query.prefix === "string" ? ctx.query.prefix : "";
      if (!listing || scope.objects || (scope.prefixes && !scope.prefixes.some((p) => prefix.startsWith(p)))) throw denied();
      return next();
    }
    const op = (ctx.method === "GET" || ctx.method === "HEAD") && ctx.query.uploadId === undefined ? "read" : "write";
    if (!scopeAllows(scope, op, key)) throw denied();
    const copySource = ctx.get("x-amz-copy-source");
    if (copySource) {
      const src = /^\/?([^/]+)\/([^?]+)/.exec(decodeURIComponent(copySource));
      if (!src || src[1] !== scope.bucket || !scopeAllows(scope, "read", src[2]!)) throw denied();
    }
    return next();
  };
  server.middleware.splice(1, 0, guard);

  const api: Middleware = async (ctx, next) => {
    const route = API_PATH.exec(ctx.path);
    if (!route) return next();
    const answer = (status: number, errors: { code: number; message: string }[], result?: unknown) => {
      ctx.status = status;
      ctx.type = "application/json";
      ctx.body = JSON.stringify({ success: errors.length === 0, errors, messages: [], result: result ?? null });
    };
    if (ctx.method !== "POST") return answer(405, [{ code: 10405, message: "Method not allowed" }]);
    const bearer = /^Bearer (.+)$/.exec(ctx.get("authorization"))?.[1];
    if (!bearer || !safeEqual(bearer, opts.apiToken) || decodeURIComponent(route[1]!) !== opts.accountId) {
      return answer(403, [{ code: 10000, message: "Authentication error" }]);
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(ctx.req)) as Record<string, unknown>;
    } catch {
      return answer(400, [{ code: 10001, message: "request body is not JSON" }]);
    }
    const strings = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((s) => typeof s === "string" && s.length > 0));
    const problem =
      typeof body.bucket !== "string" || !opts.buckets.includes(body.bucket) ? "bucket: no such bucket"
      : body.parentAccessKeyId !== opts.parentAccessKeyId ? "parentAccessKeyId: unknown access key"
      : body.permission !== "object-read-only" && body.permission !== "object-read-write" ? "permission: object-read-only or object-read-write (admin-* is not served locally)"
      : typeof body.ttlSeconds !== "number" || !(body.ttlSeconds > 0 && body.ttlSeconds <= MAX_TTL_SECONDS) ? `ttlSeconds: a number in (0, ${MAX_TTL_SECONDS}]`
      : !strings(body.prefixes) || !strings(body.objects) ? "prefixes/objects: arrays of non-empty strings"
      : null;
    if (problem) return answer(400, [{ code: 10002, message: problem }]);
    answer(200, [], mintTempCredentials(opts.parentSecret, {
      bucket: body.bucket as string,
      permission: body.permission as TempPermission,
      prefixes: body.prefixes as string[] | undefined,
      objects: body.objects as string[] | undefined,
      ttlSeconds: body.ttlSeconds as number,
    }));
  };
  return { installApi: () => void server.middleware.splice(1, 0, api) };
}

/** The stand-in's defaults: the local server's own key pair, and the local account and token (not secrets). */
export const LOCAL_TEMP_CREDENTIALS = {
  parentAccessKeyId: LOCAL.s3AccessKeyId,
  parentSecret: LOCAL.s3SecretAccessKey,
  apiToken: LOCAL.r2ApiToken,
  accountId: LOCAL.cloudflareAccountId,
} as const;

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    req.on("data", (c: Buffer) => {
      s += c.toString("utf8");
      if (s.length > 64 * 1024) reject(new Error("body too large"));
    });
    req.on("end", () => resolve(s));
    req.on("error", reject);
  });
}

/**
 * The credentials the Worker sends with a job or render `body` on the local stack, for tools and tests that
 * play the Worker and post to a processor directly (the processor tests, the bench): the scopes of its kind
 * (schema/storage-credentials.ts: extraction, transcode, import, or a render when it has a `spec`) in the
 * local buckets, minted with this stand-in's own function (no HTTP call, so it works while the server is
 * stopped).
 * @param ttlSeconds lifetime (default one hour)
 * @returns undefined for a body that is no job or render
 */
export function localJobCredentials(body: unknown, ttlSeconds = 3600): JobCredentials | undefined {
  const b = body as { type?: unknown; payload?: unknown; spec?: unknown; userId?: unknown; videoId?: unknown } | null;
  const p = (b?.payload ?? {}) as { userId: string; videoId: string; attempt: number; transcodeId: string };
  const buckets = { videosBucket: LOCAL.videosBucket, imagesBucket: LOCAL.imagesBucket };
  const scopes =
    b?.type === "MSG_EXTRACT_SNAPSHOT" ? extractStorageScopes(p, buckets)
    : b?.type === "MSG_TRANSCODE" ? transcodeStorageScopes(p, buckets)
    : b?.type === "MSG_IMPORT_VIDEO" ? importStorageScopes(p, buckets)
    : b && typeof b === "object" && b.spec !== undefined && typeof b.userId === "string" && typeof b.videoId === "string"
      ? renderStorageScopes({ userId: b.userId, videoId: b.videoId }, buckets)
      : undefined;
  if (!scopes) return undefined;
  const mint = (scope: StorageScope | undefined) =>
    scope && { ...scope, ...mintTempCredentials(LOCAL_TEMP_CREDENTIALS.parentSecret, { ...scope, ttlSeconds }), expiresAt: Math.floor(Date.now() / 1000) + ttlSeconds };
  const read = mint(scopes.read);
  const write = mint(scopes.write);
  return { ...(read ? { read } : {}), ...(write ? { write } : {}) };
}
