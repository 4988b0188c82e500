/**
 * The local S3 server (tools/stack/s3-server.ts): requests without any signature are refused with S3's
 * 403 `AccessDenied` (s3rver alone would serve them), signed and presigned requests still work, and CORS
 * answers the stack's origin only; it stands in for R2's temporary credentials (API, scope, expiry). Each case is a row of `npm run audit:security` (suite `local-s3`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../tools/audit/record.ts";
import { LOCAL } from "../../tools/stack/local-config.ts";
import { mintTempCredentials, readSessionToken } from "../../tools/stack/r2-temp-credentials.ts";
import { startS3Server, type S3ServerHandle } from "../../tools/stack/s3-server.ts";

const STACK_ORIGIN = "http://127.0.0.1:18787";
const FOREIGN_ORIGIN = "https://evil.example";
const BUCKET = LOCAL.videosBucket;
const KEY = "users/u1/videos/v1/source";
const CONTENT = "original bytes";

let s3: S3ServerHandle;
let dir: string;
const aws = new AwsClient({ accessKeyId: LOCAL.s3AccessKeyId, secretAccessKey: LOCAL.s3SecretAccessKey, region: LOCAL.s3Region, service: "s3", retries: 0 });
const objectUrl = () => `${s3.endpoint}/${BUCKET}/${KEY}`;

/** A presigned URL (signature in the query) for `method` on `url`. */
async function presign(url: string, method = "GET"): Promise<string> {
  const u = new URL(url);
  u.searchParams.set("X-Amz-Expires", "300");
  return (await aws.sign(u.toString(), { method, aws: { signQuery: true } })).url;
}

/** The object's current content, read with a signed request. */
async function signedRead(): Promise<{ status: number; text: string }> {
  const res = await aws.fetch(objectUrl());
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-s3-test-"));
  s3 = await startS3Server({ directory: dir, port: 0, corsOrigins: [STACK_ORIGIN] });
  const put = await aws.fetch(objectUrl(), { method: "PUT", body: CONTENT });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("local S3 server: unsigned requests", () => {
  const unsigned: [name: string, method: string, target: () => string, body?: string][] = [
    ["GetObject", "GET", objectUrl],
    ["HeadObject", "HEAD", objectUrl],
    ["PutObject", "PUT", objectUrl, "overwritten"],
    ["DeleteObject", "DELETE", objectUrl],
    ["ListObjects", "GET", () => `${s3.endpoint}/${BUCKET}`],
    ["ListObjectsV2", "GET", () => `${s3.endpoint}/${BUCKET}?list-type=2`],
    ["ListBuckets", "GET", () => `${s3.endpoint}/`],
    ["CreateMultipartUpload", "POST", () => `${objectUrl()}?uploads`],
    ["ListParts", "GET", () => `${objectUrl()}?uploadId=abc`],
    ["UploadPart", "PUT", () => `${objectUrl()}?uploadId=abc&partNumber=1`, "part"],
    ["DeleteBucket", "DELETE", () => `${s3.endpoint}/${BUCKET}`],
  ];

  it.each(unsigned)("unsigned %s (%s) → 403 AccessDenied, nothing changed", async (name, method, target, body) => {
    const res = await fetch(target(), { method, body, headers: { origin: FOREIGN_ORIGIN } });
    const text = await res.text();
    recordAudit({ case: `local S3: unsigned ${name}`, expected: "403 AccessDenied", got: `${res.status}${text.includes("<Code>AccessDenied</Code>") ? " AccessDenied" : ""}`, ok: res.status === 403 && (method === "HEAD" || text.includes("<Code>AccessDenied</Code>")) });
    expect(res.status).toBe(403);
    if (method !== "HEAD") {
      expect(res.headers.get("content-type")).toMatch(/xml/);
      expect(text).toContain("<Code>AccessDenied</Code>");
      expect(text).not.toContain(CONTENT);
      expect(text).not.toContain(KEY);
    }
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(await signedRead()).toEqual({ status: 200, text: CONTENT });
  });

  it("signed and presigned requests still work; a tampered signature is still refused", async () => {
    const presigned = await fetch(await presign(objectUrl()));
    const presignedText = await presigned.text();
    const signed = await signedRead();
    const tamperedUrl = new URL(await presign(objectUrl()));
    tamperedUrl.searchParams.set("X-Amz-Signature", "0".repeat(64));
    const tampered = await fetch(tamperedUrl);
    const got = `presigned ${presigned.status}, signed ${signed.status}, tampered ${tampered.status}`;
    recordAudit({ case: "local S3: presigned GET, signed GET, tampered presigned GET", expected: "presigned 200, signed 200, tampered 403", got, ok: got === "presigned 200, signed 200, tampered 403" });
    expect(presigned.status).toBe(200);
    expect(presignedText).toBe(CONTENT);
    expect(signed).toEqual({ status: 200, text: CONTENT });
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain("SignatureDoesNotMatch");
  });
});

describe("local S3 server: CORS", () => {
  const preflight = (origin: string, method = "PUT") =>
    fetch(objectUrl(), { method: "OPTIONS", headers: { origin, "access-control-request-method": method, "access-control-request-headers": "content-type" } });

  it.each([
    [FOREIGN_ORIGIN, null],
    ["http://127.0.0.1:9999", null],
    [STACK_ORIGIN, STACK_ORIGIN],
  ])("preflight PUT from %s → allow-origin %s", async (origin, expected) => {
    const res = await preflight(origin);
    const got = res.headers.get("access-control-allow-origin");
    recordAudit({ case: `local S3: CORS preflight PUT from ${origin}`, expected: `allow-origin ${expected ?? "none"}`, got: `${res.status} allow-origin ${got ?? "none"}`, ok: got === expected });
    expect(got).toBe(expected);
    if (expected) {
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-methods")).toContain("PUT");
    } else {
      expect(res.status).toBe(403);
    }
  });

  it("a presigned GET answers allow-origin to the stack's origin only", async () => {
    const url = await presign(objectUrl());
    const fromStack = await fetch(url, { headers: { origin: STACK_ORIGIN } });
    const fromForeign = await fetch(url, { headers: { origin: FOREIGN_ORIGIN } });
    const got = `${fromStack.headers.get("access-control-allow-origin") ?? "none"} / ${fromForeign.headers.get("access-control-allow-origin") ?? "none"}`;
    recordAudit({ case: "local S3: presigned GET allow-origin (stack / foreign origin)", expected: `${STACK_ORIGIN} / none`, got, ok: got === `${STACK_ORIGIN} / none` });
    expect(fromStack.status).toBe(200);
    expect(fromStack.headers.get("access-control-allow-origin")).toBe(STACK_ORIGIN);
    expect(fromForeign.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("local S3 server: If-Match on reads", () => {
  it("GET and HEAD with the object's ETag answer 200/206; with another ETag 412 PreconditionFailed and no byte of the object", async () => {
    const head = await aws.fetch(objectUrl(), { method: "HEAD" });
    const etag = head.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const matching = await aws.fetch(objectUrl(), { headers: { "if-match": etag, range: "bytes=0-3" } });
    const matchingText = await matching.text();
    const unquoted = await aws.fetch(objectUrl(), { method: "HEAD", headers: { "if-match": etag.replace(/"/g, "") } });
    const other = await aws.fetch(objectUrl(), { headers: { "if-match": '"0123456789abcdef0123456789abcdef"', range: "bytes=0-3" } });
    const otherText = await other.text();
    const otherHead = await aws.fetch(objectUrl(), { method: "HEAD", headers: { "if-match": '"0123456789abcdef0123456789abcdef"' } });
    const presignedOther = await fetch(await presign(objectUrl()), { headers: { "if-match": '"0123456789abcdef0123456789abcdef"' } });
    await presignedOther.body?.cancel();
    const got = `match ${matching.status}, unquoted ${unquoted.status}, other GET ${other.status}, other HEAD ${otherHead.status}, presigned other ${presignedOther.status}`;
    const want = "match 206, unquoted 200, other GET 412, other HEAD 412, presigned other 412";
    recordAudit({ case: "local S3: GET/HEAD with If-Match (object swapped after complete)", expected: want, got, ok: got === want });
    expect(got).toBe(want);
    expect(matchingText).toBe(CONTENT.slice(0, 4));
    expect(otherText).toContain("<Code>PreconditionFailed</Code>");
    expect(otherText).not.toContain(CONTENT.slice(0, 4));
  });
});

describe("local S3 server: R2 temporary credentials (stand-in)", () => {
  const apiUrl = () => `${s3.endpoint}/client/v4/accounts/${LOCAL.cloudflareAccountId}/r2/temp-access-credentials`;
  const OTHER_KEY = "users/u2/videos/v2/source";
  const PREFIX = "users/u1/videos/v1/attempts/1/";

  /** Mints through the API, as the Worker does. */
  async function mint(body: Record<string, unknown>, token: string = LOCAL.r2ApiToken): Promise<Response> {
    return fetch(apiUrl(), { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  }
  async function client(body: Record<string, unknown>): Promise<AwsClient> {
    const res = await mint({ parentAccessKeyId: LOCAL.s3AccessKeyId, ttlSeconds: 300, ...body });
    expect(res.status).toBe(200);
    const { result } = (await res.json()) as { result: { accessKeyId: string; secretAccessKey: string; sessionToken: string } };
    return new AwsClient({ ...result, region: LOCAL.s3Region, service: "s3", retries: 0 });
  }
  /** `status Code` of an S3 answer (Code from its XML error body, none for a success). */
  const outcome = async (res: Response) => {
    const text = await res.text();
    const c = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    return c ? `${res.status} ${c}` : String(res.status);
  };

  beforeAll(async () => {
    expect((await aws.fetch(`${s3.endpoint}/${BUCKET}/${OTHER_KEY}`, { method: "PUT", body: "other user's bytes" })).status).toBe(200);
  });

  it("the API checks the Bearer token, the account and the body, and answers Cloudflare's envelope", async () => {
    const good = { bucket: BUCKET, parentAccessKeyId: LOCAL.s3AccessKeyId, permission: "object-read-only", ttlSeconds: 60, objects: [KEY] };
    const wrongToken = await mint(good, "not-the-token");
    const wrongAccount = await fetch(apiUrl().replace(LOCAL.cloudflareAccountId, "other-account"), { method: "POST", headers: { authorization: `Bearer ${LOCAL.r2ApiToken}` }, body: JSON.stringify(good) });
    const badBucket = await mint({ ...good, bucket: "nope" });
    const badPermission = await mint({ ...good, permission: "admin-read-write" });
    const badTtl = await mint({ ...good, ttlSeconds: 604_801 });
    const ok = await mint(good);
    const body = (await ok.json()) as { success: boolean; result: Record<string, string> };
    const got = `token ${wrongToken.status}, account ${wrongAccount.status}, bucket ${badBucket.status}, permission ${badPermission.status}, ttl ${badTtl.status}, good ${ok.status}`;
    const want = "token 403, account 403, bucket 400, permission 400, ttl 400, good 200";
    recordAudit({ case: "local S3: Temporary Credentials API (Bearer, account, body checks)", expected: want, got, ok: got === want });
    expect(got).toBe(want);
    expect(((await wrongToken.json()) as { success: boolean }).success).toBe(false);
    expect(body.success).toBe(true);
    expect(Object.keys(body.result).sort()).toEqual(["accessKeyId", "secretAccessKey", "sessionToken"]);
    expect(body.result.accessKeyId).not.toBe(LOCAL.s3AccessKeyId);
  });

  it("read-only credentials for one object read it (signed and presigned), nothing else", async () => {
    const ro = await client({ bucket: BUCKET, permission: "object-read-only", objects: [KEY] });
    const presigned = new URL(objectUrl());
    presigned.searchParams.set("X-Amz-Expires", "60");
    const cases: [string, Promise<Response>][] = [
      ["GET own object", ro.fetch(objectUrl())],
      ["presigned GET own object", ro.sign(presigned.toString(), { aws: { signQuery: true } }).then((r) => fetch(r.url))],
      ["GET another video's source", ro.fetch(`${s3.endpoint}/${BUCKET}/${OTHER_KEY}`)],
      ["PUT own object", ro.fetch(objectUrl(), { method: "PUT", body: "overwritten" })],
      ["DELETE own object", ro.fetch(objectUrl(), { method: "DELETE" })],
      ["list the bucket", ro.fetch(`${s3.endpoint}/${BUCKET}?list-type=2`)],
      ["GET in the other bucket", ro.fetch(`${s3.endpoint}/${LOCAL.imagesBucket}/${KEY}`)],
      ["ListBuckets", ro.fetch(`${s3.endpoint}/`)],
    ];
    const got = (await Promise.all(cases.map(async ([name, res]) => `${name}: ${await outcome(await res)}`))).join("; ");
    const want = [
      "GET own object: 200",
      "presigned GET own object: 200",
      "GET another video's source: 403 AccessDenied",
      "PUT own object: 403 AccessDenied",
      "DELETE own object: 403 AccessDenied",
      "list the bucket: 403 AccessDenied",
      "GET in the other bucket: 403 AccessDenied",
      "ListBuckets: 403 AccessDenied",
    ].join("; ");
    recordAudit({ case: "local S3: object-read-only credential scoped to one object", expected: want, got, ok: got === want });
    expect(got).toBe(want);
    expect(await signedRead()).toEqual({ status: 200, text: CONTENT });
  });

  it("read-write credentials for a prefix write, list and delete under it only (multipart included)", async () => {
    const rw = await client({ bucket: BUCKET, permission: "object-read-write", prefixes: [PREFIX] });
    const inside = `${s3.endpoint}/${BUCKET}/${PREFIX}images.zip`;
    const put = await outcome(await rw.fetch(inside, { method: "PUT", body: "zip" }));
    const read = await outcome(await rw.fetch(inside));
    const create = await rw.fetch(`${inside}.mp?uploads`, { method: "POST" });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await create.text())?.[1];
    const part = await outcome(await rw.fetch(`${inside}.mp?partNumber=1&uploadId=${uploadId}`, { method: "PUT", body: "part" }));
    const abort = await outcome(await rw.fetch(`${inside}.mp?uploadId=${uploadId}`, { method: "DELETE" }));
    const listInside = await outcome(await rw.fetch(`${s3.endpoint}/${BUCKET}?list-type=2&prefix=${encodeURIComponent(PREFIX)}`));
    const listAll = await outcome(await rw.fetch(`${s3.endpoint}/${BUCKET}?list-type=2`));
    const putOutside = await outcome(await rw.fetch(`${s3.endpoint}/${BUCKET}/users/u1/videos/v1/attempts/2/images.zip`, { method: "PUT", body: "x" }));
    const overwriteSource = await outcome(await rw.fetch(objectUrl(), { method: "PUT", body: "overwritten" }));
    const deleteOther = await outcome(await rw.fetch(`${s3.endpoint}/${BUCKET}/${OTHER_KEY}`, { method: "DELETE" }));
    const copyOther = await outcome(await rw.fetch(`${s3.endpoint}/${BUCKET}/${PREFIX}copy`, { method: "PUT", headers: { "x-amz-copy-source": `/${BUCKET}/${OTHER_KEY}` } }));
    const deleteInside = await outcome(await rw.fetch(inside, { method: "DELETE" }));
    const got = `put ${put}, read ${read}, multipart create ${create.status}, part ${part}, abort ${abort}, list prefix ${listInside}, list all ${listAll}, put outside ${putOutside}, overwrite source ${overwriteSource}, delete other ${deleteOther}, copy other ${copyOther}, delete inside ${deleteInside}`;
    const want = "put 200, read 200, multipart create 200, part 200, abort 204, list prefix 200, list all 403 AccessDenied, put outside 403 AccessDenied, overwrite source 403 AccessDenied, delete other 403 AccessDenied, copy other 403 AccessDenied, delete inside 204";
    recordAudit({ case: "local S3: object-read-write credential scoped to an attempt's prefix", expected: want, got, ok: got === want });
    expect(got).toBe(want);
    expect(await signedRead()).toEqual({ status: 200, text: CONTENT });
    expect((await aws.fetch(`${s3.endpoint}/${BUCKET}/${OTHER_KEY}`)).status).toBe(200);
  });

  it("expired, forged, wrongly signed or token-less temporary credentials are refused", async () => {
    const secret = LOCAL.s3SecretAccessKey;
    const scope = { bucket: BUCKET, permission: "object-read-write" as const, ttlSeconds: 60 };
    const expired = mintTempCredentials(secret, scope, Math.floor(Date.now() / 1000) - 120);
    const live = mintTempCredentials(secret, { ...scope, objects: [KEY], permission: "object-read-only" });
    const forgedScope = mintTempCredentials("another parent secret", scope);
    const widened = { ...live, sessionToken: `${Buffer.from(JSON.stringify({ ...readSessionToken(secret, live.sessionToken)!, objects: undefined, permission: "object-read-write" })).toString("base64url")}.${live.sessionToken.split(".")[1]}` };
    const use = (c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, init?: RequestInit) =>
      new AwsClient({ ...c, region: LOCAL.s3Region, service: "s3", retries: 0 }).fetch(objectUrl(), init);
    const got = [
      `expired ${await outcome(await use(expired))}`,
      `forged ${await outcome(await use(forgedScope))}`,
      `widened token ${await outcome(await use(widened, { method: "PUT", body: "overwritten" }))}`,
      `wrong secret ${await outcome(await use({ ...live, secretAccessKey: "0".repeat(64) }))}`,
      `no token ${await outcome(await use({ accessKeyId: live.accessKeyId, secretAccessKey: live.secretAccessKey }))}`,
      `live ${await outcome(await use(live))}`,
    ].join(", ");
    const want = "expired 400 ExpiredToken, forged 400 InvalidToken, widened token 400 InvalidToken, wrong secret 403 SignatureDoesNotMatch, no token 403 InvalidAccessKeyId, live 200";
    recordAudit({ case: "local S3: expired / forged / widened / wrongly signed / token-less temporary credentials", expected: want, got, ok: got === want });
    expect(got).toBe(want);
    expect(await signedRead()).toEqual({ status: 200, text: CONTENT });
  });
});
