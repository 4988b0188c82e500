/**
 * The local S3 server (tools/stack/s3-server.ts): requests without any signature are refused with S3's
 * 403 `AccessDenied` (s3rver alone would serve them), signed and presigned requests still work, and CORS
 * answers the stack's origin only. Each case is a row of `npm run audit:security` (suite `local-s3`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../tools/audit/record.ts";
import { LOCAL } from "../../tools/stack/local-config.ts";
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
