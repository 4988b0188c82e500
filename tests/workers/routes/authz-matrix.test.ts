/**
 * Authorisation matrix: every `/v1` route of `/openapi.json` × no token, a malformed header, an
 * expired session, a signed-out session, a revoked API key, an expired API key, another user's session and
 * API key, and the owner's session and API key; then presigned URLs against the real SigV4-verifying S3
 * server: tampered, expired, and used for another object. Every refusal is checked for its status and for a
 * body that names nothing of the owner's data.
 * The expectations live in ../support/authz-matrix.ts; each case is recorded for `npm run audit:security`
 * (tools/audit/record.ts).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eq } from "drizzle-orm";
import type { CreateVideoResponse as AnyCreateVideoResponse, UploadInstructions, Video } from "../../../schema/api.ts";
import type { CreatedApiKey } from "../../../schema/api-keys.ts";
import { apiKey, session } from "../../../schema/db.ts";
import { archiveObjectKey, manifestObjectKey } from "../../../schema/object-keys.ts";
import { loadConfig } from "../../../edge-api/src/env.ts";
import { S3Storage } from "../../../edge-api/src/storage/s3.ts";
import { recordAudit } from "../../../tools/audit/record.ts";
import {
  CREDENTIALS,
  expectedStatus,
  fixtureFor,
  TOKEN_AUTHENTICATED_ROUTES,
  matrixResults,
  OWNER_EXPECTATIONS,
  REQUEST_BODIES,
  type Credential,
  type FixtureKind,
  type RouteKey,
} from "../support/authz-matrix.ts";
import { api, db, eventually, signUp, storedSessionToken, testEnv } from "../support/env.ts";

/** Files here are below MULTIPART_THRESHOLD_BYTES: the API answers a single presigned PUT. */
type CreateVideoResponse = AnyCreateVideoResponse & { upload: UploadInstructions };
type User = Awaited<ReturnType<typeof signUp>>;

const SECRET_FILENAME = "alice-private-holiday-7f3e9.mp4";
const SECRET_HOOK_PATH = "/hooks/alice-private-hook-5c1d";
const SECRET_KEY_NAME = "alice-private-key";
const VIDEO_BYTES = 48;

let alice: User; // owner of the videos, webhooks and keys
let mallory: User; // another valid user
let expired: User; // session expired in D1
let signedOut: User; // signed out through better-auth
let aliceDone: Video; // extraction succeeded
let aliceZipUrl: string;
let aliceWebhookId: string; // one of alice's webhook endpoints (routes /v1/webhooks/{id})
let aliceGeneratorId: string; // one of alice's generators (routes /v1/generators/{id}, body of POST /v1/generations)
let aliceKey: CreatedApiKey; // alice's API key (column owner-api-key; routes /v1/api-keys/{id})
let malloryKey: CreatedApiKey; // column other-user-api-key
let revokedKey: CreatedApiKey; // alice's, revoked through DELETE /v1/api-keys/{id}
let expiredKey: CreatedApiKey; // alice's, expired in D1
/** The id the last {@link call} put in place of `{id}`. */
let lastId = "";
const receiverUrl = () => inject("webhookReceiverUrl");

/** The routes of the OpenAPI document under /v1 that need credentials, and those marked public. */
let specRoutes: RouteKey[] = [];
const publicRoutes: RouteKey[] = [];
let aliceTranscodeId: string; // a transcode of aliceDone (routes /v1/videos/{id}/transcodes/{tid})
/** The transcode id the last {@link call} put in place of `{tid}`. */
let lastTid = "";

async function createTranscode(videoId: string): Promise<string> {
  const res = await api(`/v1/videos/${videoId}/transcodes`, { method: "POST", token: alice.token, json: { renditions: [{ format: "mp4", height: 240 }] } });
  if (res.status !== 202) throw new Error(`create transcode → ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { transcode: { id: string } }).transcode.id;
}

async function createVideo(token: string, filename = SECRET_FILENAME): Promise<CreateVideoResponse> {
  const res = await api("/v1/videos", {
    method: "POST",
    token,
    json: { filename, contentType: "video/mp4", sizeBytes: VIDEO_BYTES },
  });
  if (res.status !== 201) throw new Error(`create → ${res.status}`);
  return res.json();
}

async function createWebhook(token: string): Promise<string> {
  const res = await api("/v1/webhooks", { method: "POST", token, json: { url: `${receiverUrl()}${SECRET_HOOK_PATH}` } });
  if (res.status !== 201) throw new Error(`create webhook → ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { webhook: { id: string } }).webhook.id;
}

async function createGenerator(token: string): Promise<string> {
  const res = await api("/v1/generators", { method: "POST", token, json: { name: "matrix", url: `${receiverUrl()}${SECRET_HOOK_PATH}` } });
  if (res.status !== 201) throw new Error(`create generator → ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { generator: { id: string } }).generator.id;
}

async function createKey(token: string, name = SECRET_KEY_NAME): Promise<CreatedApiKey> {
  const res = await api("/v1/api-keys", { method: "POST", token, json: { name } });
  if (res.status !== 201) throw new Error(`create api key → ${res.status}: ${await res.text()}`);
  return res.json();
}

async function uploadAndProcess(created: CreateVideoResponse, token: string): Promise<Video> {
  const put = await fetch(created.upload.url, {
    method: "PUT",
    headers: { "content-type": created.upload.headers["content-type"] },
    body: new Uint8Array(VIDEO_BYTES).fill(3),
  });
  if (put.status !== 200) throw new Error(`upload → ${put.status}`);
  const complete = await api(`/v1/videos/${created.video.id}/complete`, { method: "POST", token });
  if (complete.status !== 202) throw new Error(`complete → ${complete.status}`);
  return eventually(async () => {
    const res = await api(`/v1/videos/${created.video.id}`, { token });
    const { video } = (await res.json()) as { video: Video };
    return video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" ? video : undefined;
  });
}

/**
 * Strings of alice's data that must never appear in an answer to anyone else. Ids the caller sent are not
 * among them (404 details echo them); that a 404 says nothing more is checked by comparing it with the 404
 * of an id that does not exist. Her video's status only counts on routes of one resource (lists and
 * statistics of another user name statuses of their own).
 */
const aliceIdentity = () => [alice.userId, alice.email, SECRET_FILENAME, "alice-private", SECRET_HOOK_PATH, aliceKey.key, aliceKey.apiKey.start!];
const leaks = (text: string, withStatus: boolean) =>
  [...aliceIdentity(), ...(withStatus ? [aliceDone.status] : [])].some((s) => text.includes(s));

beforeAll(async () => {
  [alice, mallory, expired, signedOut] = await Promise.all([signUp("alice"), signUp("mallory"), signUp("expired"), signUp("signedout")]);

  // Expired session: better-auth refuses a session whose expires_at is in the past.
  // (`set-auth-token` is the signed cookie value `<token>.<signature>`; D1 stores a digest of `<token>`.)
  const expiredRows = await db
    .update(session)
    .set({ expiresAt: new Date(Date.now() - 60_000) })
    .where(eq(session.token, await storedSessionToken(expired.token)))
    .returning({ id: session.id });
  if (expiredRows.length !== 1) throw new Error("expired session not found in D1");

  // Signed-out session: better-auth deletes it.
  const out = await api("/api/auth/sign-out", { method: "POST", token: signedOut.token, json: {} });
  if (out.status !== 200) throw new Error(`sign-out → ${out.status}: ${await out.text()}`);

  // API keys: alice's and mallory's working keys, one of alice's revoked, one expired.
  [aliceKey, malloryKey, revokedKey, expiredKey] = await Promise.all([
    createKey(alice.token),
    createKey(mallory.token, "mallory-key"),
    createKey(alice.token, "to-revoke"),
    createKey(alice.token, "to-expire"),
  ]);
  const revoke = await api(`/v1/api-keys/${revokedKey.apiKey.id}`, { method: "DELETE", token: alice.token });
  if (revoke.status !== 204) throw new Error(`revoke → ${revoke.status}`);
  await db.update(apiKey).set({ expiresAt: new Date(Date.now() - 60_000) }).where(eq(apiKey.id, expiredKey.apiKey.id));

  aliceDone = await uploadAndProcess(await createVideo(alice.token), alice.token);
  const zip = await api(`/v1/videos/${aliceDone.id}/images.zip`, { token: alice.token });
  aliceZipUrl = zip.headers.get("location")!;
  if (zip.status !== 302 || !aliceZipUrl) throw new Error(`images.zip → ${zip.status}`);

  aliceWebhookId = await createWebhook(alice.token);
  aliceGeneratorId = await createGenerator(alice.token);

  const spec = (await (await api("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
  for (const [path, ops] of Object.entries(spec.paths)) {
    if (!path.startsWith("/v1")) continue;
    for (const [method, op] of Object.entries(ops)) {
      const route = `${method.toUpperCase()} ${path}` as RouteKey;
      const security = (op as { security?: unknown[] }).security;
      if (Array.isArray(security) && security.length === 0) publicRoutes.push(route);
      else specRoutes.push(route);
    }
  }
  aliceTranscodeId = await createTranscode(aliceDone.id);
}, 60_000);

afterAll(() => {
  // Kept for `audit:security`; printing is its job, not the test's.
  expect(matrixResults.every((r) => !r.leaked)).toBe(true);
});

function headersFor(credential: Credential): Record<string, string> {
  switch (credential) {
    case "none":
      return {};
    case "malformed":
      return { authorization: `Basic ${btoa("alice:pw")}` };
    case "expired-session":
      return { authorization: `Bearer ${expired.token}` };
    case "signed-out":
      return { authorization: `Bearer ${signedOut.token}` };
    case "revoked-api-key":
      return { authorization: `Bearer ${revokedKey.key}` };
    case "expired-api-key":
      return { "x-api-key": expiredKey.key };
    case "other-user":
      return { authorization: `Bearer ${mallory.token}` };
    case "other-user-api-key":
      return { "x-api-key": malloryKey.key };
    case "owner":
      return { authorization: `Bearer ${alice.token}` };
    case "owner-api-key":
      return { authorization: `Bearer ${aliceKey.key}` };
  }
}

/** A new resource of alice's, for routes that consume one (DELETE). */
async function freshFixture(kind: FixtureKind): Promise<string> {
  switch (kind) {
    case "video":
      return (await createVideo(alice.token, "to-delete.mp4")).video.id;
    case "webhook":
      return createWebhook(alice.token);
    case "api-key":
      return (await createKey(alice.token, "to-delete")).apiKey.id;
    case "transcode":
      return createTranscode(aliceDone.id);
    case "generator":
      return createGenerator(alice.token);
  }
}

/** The resource a route is tried on: alice's standing fixture, or a fresh one when the owner's DELETE will succeed. */
async function idFor(route: RouteKey, credential: Credential, kind: FixtureKind): Promise<string> {
  const consumes = route.startsWith("DELETE") && (credential === "owner" || credential === "owner-api-key") && expectedStatus(route, credential) < 300;
  if (consumes) return freshFixture(kind);
  switch (kind) {
    case "video":
      return aliceDone.id;
    case "webhook":
      return aliceWebhookId;
    case "api-key":
      return aliceKey.apiKey.id;
    case "transcode":
      return aliceTranscodeId;
    case "generator":
      return aliceGeneratorId;
  }
}

function bodyFor(route: RouteKey): unknown {
  const body = REQUEST_BODIES[route];
  return body === undefined ? undefined : JSON.parse(JSON.stringify(body).replaceAll("{webhookUrl}", `${receiverUrl()}/hooks/matrix`).replaceAll("{generatorId}", aliceGeneratorId));
}

async function call(route: RouteKey, credential: Credential): Promise<Response> {
  const [method, template] = route.split(" ") as [string, string];
  const kind = fixtureFor(route);
  // A transcode route names the video in `{id}` and the transcode in `{tid}`.
  lastTid = kind === "transcode" ? await idFor(route, credential, kind) : "";
  lastId = kind === "transcode" ? aliceDone.id : kind ? await idFor(route, credential, kind) : "";
  const path = template.replace("{id}", lastId).replace("{tid}", lastTid);
  return api(path, { method, headers: headersFor(credential), json: bodyFor(route) });
}

const OWNER_CREDENTIALS: readonly Credential[] = ["owner", "owner-api-key"];

describe("authorisation matrix over every /v1 route of the OpenAPI document", () => {
  it("the OpenAPI document lists /v1 routes, and the matrix has expectations and fixtures for each", () => {
    expect(specRoutes.length).toBeGreaterThanOrEqual(8);
    const missing = specRoutes.filter((r) => !(r in OWNER_EXPECTATIONS));
    expect(missing, "routes of /openapi.json without an expectation in OWNER_EXPECTATIONS (tests/workers/support/authz-matrix.ts)").toEqual([]);
    const stale = Object.keys(OWNER_EXPECTATIONS).filter((r) => !specRoutes.includes(r as RouteKey));
    expect(stale, "expectations for routes no longer in /openapi.json").toEqual([]);
    // Throws, naming the route, for a path parameter without a fixture.
    for (const route of specRoutes) fixtureFor(route);
    // No bearer route may slip out of the matrix by being marked public.
    expect(publicRoutes.sort()).toEqual([...TOKEN_AUTHENTICATED_ROUTES].sort());
  });

  // Cases are built from the expectation table; the test above ties that table to the live document.
  const cases = Object.keys(OWNER_EXPECTATIONS).flatMap((route) => CREDENTIALS.map((cred) => [route as RouteKey, cred] as const));
  it.each(cases)("%s × %s", async (route, credential) => {
    const expected = expectedStatus(route, credential);
    const res = await call(route, credential);
    // GET /v1/stats names every status as a key: those names say nothing about alice.
    const text = route === "GET /v1/stats" ? (await res.text()).replace(/"(VIDEO|TRANSCODE)_[A-Z_]+":/g, '"":') : await res.text();
    const isOwner = OWNER_CREDENTIALS.includes(credential);
    const leaked = !isOwner && (leaks(text, fixtureFor(route) !== null) || leaks(res.headers.get("location") ?? "", true));
    matrixResults.push({ case: `${route} × ${credential}`, expected, got: res.status, leaked });
    recordAudit({ case: `${route} × ${credential}`, expected: String(expected), got: String(res.status), ok: res.status === expected && !leaked, ...(leaked ? { note: "LEAK" } : {}) });

    expect(res.status).toBe(expected);
    // Security headers on every answer, refusals, 204 and the 302 included.
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get("cache-control")).toMatch(/no-store/);
    if (isOwner && expected < 400) {
      expect(res.status).not.toBe(401);
      expect(res.status).not.toBe(404);
      return;
    }
    if (expected === 401 || expected === 403 || expected === 404) {
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(["detail", "requestId", "status", "title", "type"]);
      expect(body.status).toBe(expected);
      if (expected === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    if (expected === 404) {
      // Indistinguishable from a resource that does not exist (no existence oracle).
      const ghost = crypto.randomUUID();
      const [method, template] = route.split(" ") as [string, string];
      const other = await api(template.replace("{id}", ghost).replace("{tid}", ghost), { method, headers: headersFor(credential), json: bodyFor(route) });
      expect(other.status).toBe(404);
      const strip = (t: string) => ({ ...(JSON.parse(t) as Record<string, unknown>), requestId: "" });
      expect(strip(text)).toEqual(strip((await other.text()).replaceAll(ghost, lastId)));
    }
    if (isOwner) return;
    // Nobody but alice learns anything about her data (not even a filename, her id or her key).
    expect(leaked, `answer of ${route} × ${credential} names alice's data`).toBe(false);
    if (fixtureFor(route)) expect(res.headers.get("location")).toBeNull();
  });

  it("malformed Authorization headers are all refused", async () => {
    const values = [
      "Bearer",
      "Bearer ",
      "Bearer a b c",
      `Bearer ${alice.token}x`,
      alice.token,
      `bearer\t${"x".repeat(5000)}`,
      `Bearer ${aliceKey.key}x`,
      `Bearer ${aliceKey.key.slice(0, -1)}`,
      aliceKey.key,
      `Basic ${aliceKey.key}`,
    ];
    for (const authorization of values) {
      const res = await api(`/v1/videos/${aliceDone.id}`, { headers: { authorization } });
      const text = await res.text();
      expect(res.status, authorization.slice(0, 20)).toBe(401);
      expect(leaks(text, true)).toBe(false);
    }
  });

  it("after all refusals alice's video, webhook and key are intact", async () => {
    const res = await api(`/v1/videos/${aliceDone.id}`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { video: Video }).video.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect((await api(`/v1/webhooks/${aliceWebhookId}`, { token: alice.token })).status).toBe(200);
    expect((await api("/v1/videos", { headers: { "x-api-key": aliceKey.key } })).status).toBe(200);
  });
});

describe("presigned URLs against the real S3 server", () => {
  const storage = () => {
    const config = loadConfig(testEnv);
    return { storage: new S3Storage(config.s3), config };
  };

  async function expectRefused(name: string, res: Response) {
    const text = await res.text();
    const leaked = leaks(text, true);
    matrixResults.push({ case: `presigned: ${name}`, expected: 403, got: res.status, leaked });
    recordAudit({ case: `presigned: ${name}`, expected: "403", got: String(res.status), ok: res.status === 403 && !leaked, ...(leaked ? { note: "LEAK" } : {}) });
    expect(res.status).toBe(403);
    // S3's error document names the signature problem, never alice's filename or the other object's data.
    expect(text).not.toContain(SECRET_FILENAME);
    expect(text).not.toContain(alice.email);
  }

  const upload = (url: string, headers: Record<string, string>, size = VIDEO_BYTES) =>
    fetch(url, { method: "PUT", headers, body: new Uint8Array(size).fill(9) });

  it("a presigned PUT with another key → 403", async () => {
    const created = await createVideo(alice.token);
    const url = new URL(created.upload.url);
    url.pathname = url.pathname.replace(created.video.id, crypto.randomUUID());
    await expectRefused("PUT with another key", await upload(url.toString(), created.upload.headers));
  });

  it("a presigned PUT with a changed query parameter → 403", async () => {
    const created = await createVideo(alice.token);
    for (const [name, value] of [["X-Amz-Expires", "604800"], ["X-Amz-Date", "20300101T000000Z"], ["X-Amz-SignedHeaders", "host"]] as const) {
      const url = new URL(created.upload.url);
      url.searchParams.set(name, value);
      await expectRefused(`PUT with ${name} changed`, await upload(url.toString(), created.upload.headers));
    }
    // An added parameter is not signed either.
    const added = new URL(created.upload.url);
    added.searchParams.set("x-id", "PutObject");
    await expectRefused("PUT with an added query parameter", await upload(added.toString(), created.upload.headers));
    // The untampered URL still works: the refusals above were the tampering.
    expect((await upload(created.upload.url, created.upload.headers)).status).toBe(200);
  });

  it("an expired presigned PUT and GET → 403", async () => {
    const { storage: s3, config } = storage();
    const key = `users/${alice.userId}/videos/${crypto.randomUUID()}/source`;
    const put = await s3.presignPut({ bucket: config.videosBucket, key, contentType: "video/mp4", contentLength: VIDEO_BYTES, ttlSeconds: 1 });
    const get = await s3.presignGet({ bucket: config.imagesBucket, key: new URL(aliceZipUrl).pathname.split("/").slice(2).join("/"), ttlSeconds: 1 });
    expect(new URL(get.url).searchParams.get("X-Amz-Expires")).toBe("1");
    await new Promise((r) => setTimeout(r, 2_200));
    await expectRefused("expired PUT (1 s TTL)", await upload(put.url, put.headers));
    await expectRefused("expired ZIP GET (1 s TTL)", await fetch(get.url));
    // The same objects with a live TTL work: the refusals were the expiry.
    const livePut = await s3.presignPut({ bucket: config.videosBucket, key, contentType: "video/mp4", contentLength: VIDEO_BYTES, ttlSeconds: 60 });
    expect((await upload(livePut.url, livePut.headers)).status).toBe(200);
    const liveGet = await s3.presignGet({ bucket: config.imagesBucket, key: new URL(aliceZipUrl).pathname.split("/").slice(2).join("/"), ttlSeconds: 60 });
    expect((await fetch(liveGet.url)).status).toBe(200);
  });

  it("alice's presigned ZIP GET used for another user's ZIP → 403", async () => {
    const malloryDone = await uploadAndProcess(await createVideo(mallory.token, "mallory.mp4"), mallory.token);
    const url = new URL(aliceZipUrl);
    const target = `/vidsnap-images/${archiveObjectKey(mallory.userId, malloryDone.id, malloryDone.attempt)}`;
    expect(url.pathname).not.toBe(target);
    url.pathname = target;
    // Mallory's ZIP exists (her own URL works), so the refusal is the signature's.
    const own = await api(`/v1/videos/${malloryDone.id}/images.zip`, { token: mallory.token });
    expect(new URL(own.headers.get("location")!).pathname).toBe(target);
    expect((await fetch(own.headers.get("location")!)).status).toBe(200);
    await expectRefused("alice's ZIP GET used for mallory's ZIP", await fetch(url.toString()));
    // And for another object of alice's own (her manifest): one URL, one object.
    const sibling = new URL(aliceZipUrl);
    sibling.pathname = `/vidsnap-images/${manifestObjectKey(alice.userId, aliceDone.id, aliceDone.attempt)}`;
    await expectRefused("alice's ZIP GET used for her manifest", await fetch(sibling.toString()));
  }, 30_000);
});
