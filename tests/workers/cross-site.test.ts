/**
 * Cross-site requests with the session cookie (edge-api/src/cross-site.ts, `requireUser` in edge-api/src/auth.ts):
 * a `/v1` mutation signed in with better-auth's cookie needs a trusted `Origin` or `Sec-Fetch-Site: same-origin`,
 * else 403 `cross-site-request`; bearer tokens and API keys are not checked. Each case is a row of
 * `npm run audit:security` (suite `cross-site`).
 */
import { createExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { videos, webhookDeliveries } from "../../schema/db.ts";
import worker from "../../edge-api/src/index.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { api, BASE, db, insertVideo, putSource, testEnv } from "./support/env.ts";

type IncomingRequest = Parameters<typeof worker.fetch>[0];

const EVIL = "https://evil.example";
const PASSWORD = "correct-horse-battery";

interface CookieUser {
  userId: string;
  token: string;
  /** `Cookie` request header carrying the session cookie sign-in set. */
  cookie: string;
}

/** Signs up, then signs in through better-auth (sign-up opens no session), keeping both the session cookie and the bearer token sign-in answers. */
async function signUpWithCookie(name: string): Promise<CookieUser> {
  const email = `${name}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const up = await api("/api/auth/sign-up/email", { method: "POST", json: { email, password: PASSWORD, name } });
  expect(up.status, await up.clone().text()).toBe(200);
  await up.body?.cancel();
  const res = await api("/api/auth/sign-in/email", { method: "POST", json: { email, password: PASSWORD } });
  expect(res.status, await res.clone().text()).toBe(200);
  const cookie = /(?:^|[\s,])((?:__Secure-)?better-auth\.session_token=[^;,\s]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  expect(cookie).toBeTruthy();
  const token = res.headers.get("set-auth-token");
  expect(token).toBeTruthy();
  return { userId: ((await res.json()) as { user: { id: string } }).user.id, token: token!, cookie: cookie! };
}

/** Webhook endpoints made by {@link createWebhook}, deleted after each test (a user may have 10). */
const webhooks: { user: CookieUser; id: string }[] = [];
afterEach(async () => {
  for (const { user, id } of webhooks.splice(0)) await (await api(`/v1/webhooks/${id}`, { method: "DELETE", token: user.token })).body?.cancel();
});

async function createWebhook(user: CookieUser): Promise<string> {
  const res = await api("/v1/webhooks", { method: "POST", token: user.token, json: { url: `${inject("webhookReceiverUrl")}/hooks/cross-site` } });
  expect(res.status, await res.clone().text()).toBe(201);
  const id = ((await res.json()) as { webhook: { id: string } }).webhook.id;
  webhooks.push({ user, id });
  return id;
}

async function createApiKey(user: CookieUser): Promise<string> {
  const res = await api("/v1/api-keys", { method: "POST", token: user.token, json: { name: "cross-site" } });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

/** `<status> <problem kind>` (kind only for problem answers). */
async function outcome(res: Response): Promise<string> {
  const type = res.headers.get("content-type")?.includes("problem+json") ? ((await res.json()) as { type: string }).type : undefined;
  if (!type) await res.body?.cancel();
  return type ? `${res.status} ${type.split("/").pop()}` : String(res.status);
}

type Target = "retry" | "rotate-secret" | "webhook test" | "delete video";

/** A fresh resource of `user` for `target`, and the request path. */
async function prepare(user: CookieUser, target: Target): Promise<{ method: string; path: string; videoId?: string; webhookId?: string }> {
  if (target === "retry" || target === "delete video") {
    const videoId = await insertVideo(user.userId, { status: "VIDEO_IMAGE_EXTRACTION_ERROR" });
    // A retry checks the uploaded object again (services/videos/check-source.ts).
    if (target === "retry") await putSource(user.userId, videoId);
    return target === "retry" ? { method: "POST", path: `/v1/videos/${videoId}/retry`, videoId } : { method: "DELETE", path: `/v1/videos/${videoId}`, videoId };
  }
  const webhookId = await createWebhook(user);
  return { method: "POST", path: `/v1/webhooks/${webhookId}/${target === "rotate-secret" ? "rotate-secret" : "test"}`, webhookId };
}

const ALLOWED: Record<Target, string> = { retry: "202", "rotate-secret": "200", "webhook test": "202", "delete video": "204" };
const TARGETS = Object.keys(ALLOWED) as Target[];

describe("cookie-authenticated /v1 mutations need a trusted origin", () => {
  let user: CookieUser;
  beforeAll(async () => {
    user = await signUpWithCookie("cross-site");
  });

  const refused: [label: string, headers: Record<string, string>][] = [
    ["foreign Origin", { origin: EVIL }],
    ["foreign Origin + Sec-Fetch-Site: cross-site", { origin: EVIL, "sec-fetch-site": "cross-site" }],
    ["same-site Origin of another port (http://127.0.0.1:9999)", { origin: "http://127.0.0.1:9999", "sec-fetch-site": "same-site" }],
    ["Origin: null without Sec-Fetch-Site", { origin: "null" }],
    ["no Origin, no Sec-Fetch-Site", {}],
    ["no Origin, Sec-Fetch-Site: same-site", { "sec-fetch-site": "same-site" }],
  ];

  for (const target of TARGETS) {
    it.each(refused)(`${target} with the cookie and %s → 403 cross-site-request, nothing changed`, async (label, headers) => {
      const { method, path, videoId, webhookId } = await prepare(user, target);
      const res = await api(path, { method, headers: { ...headers, cookie: user.cookie } });
      const got = await outcome(res);
      recordAudit({ case: `${method} ${target} × cookie × ${label}`, expected: "403 cross-site-request", got, ok: got === "403 cross-site-request" });
      expect(got).toBe("403 cross-site-request");
      if (videoId) {
        const [row] = await db.select().from(videos).where(eq(videos.id, videoId));
        expect(row?.status).toBe("VIDEO_IMAGE_EXTRACTION_ERROR");
        expect(row?.attempt).toBe(1);
      }
      if (webhookId) expect(await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, webhookId))).toEqual([]);
    });
  }

  const allowed: [label: string, headers: Record<string, string>][] = [
    ["the API's own Origin (PUBLIC_BASE_URL)", { origin: BASE, "sec-fetch-site": "same-origin" }],
    ["Sec-Fetch-Site: same-origin without Origin", { "sec-fetch-site": "same-origin" }],
    // A same-origin POST from a page under `Referrer-Policy: no-referrer` (the dashboard) says `Origin: null`.
    ["Origin: null + Sec-Fetch-Site: same-origin", { origin: "null", "sec-fetch-site": "same-origin" }],
  ];

  for (const target of TARGETS) {
    it.each(allowed)(`${target} with the cookie and %s works`, async (label, headers) => {
      // A fresh user per accepted request, so no per-user limit of the route decides the outcome.
      const user = await signUpWithCookie("cross-site-ok");
      const { method, path } = await prepare(user, target);
      const res = await api(path, { method, headers: { ...headers, cookie: user.cookie } });
      const got = await outcome(res);
      recordAudit({ case: `${method} ${target} × cookie × ${label}`, expected: ALLOWED[target], got, ok: got === ALLOWED[target] });
      expect(got).toBe(ALLOWED[target]);
    });
  }

  it("an origin of TRUSTED_ORIGINS works with the cookie", async () => {
    const user = await signUpWithCookie("cross-site-trusted");
    const { method, path } = await prepare(user, "rotate-secret");
    const env = { ...testEnv, TRUSTED_ORIGINS: "https://app.example, https://other.example/" };
    const request = new Request(BASE + path, { method, headers: { origin: "https://other.example", "sec-fetch-site": "cross-site", cookie: user.cookie } });
    const res = await worker.fetch(request as IncomingRequest, env, createExecutionContext());
    const got = await outcome(res);
    recordAudit({ case: `${method} rotate-secret × cookie × Origin in TRUSTED_ORIGINS`, expected: "200", got, ok: got === "200" });
    expect(got).toBe("200");
  });

  it("reads with the cookie are not checked (GET from a foreign Origin)", async () => {
    const res = await api("/v1/videos", { headers: { origin: EVIL, cookie: user.cookie } });
    const got = await outcome(res);
    recordAudit({ case: "GET /v1/videos × cookie × foreign Origin", expected: "200", got, ok: got === "200" });
    expect(got).toBe("200");
  });
});

describe("bearer tokens and API keys are not checked", () => {
  const credentials: [label: string, headers: (user: CookieUser, apiKey: string) => Record<string, string>][] = [
    ["bearer session token", (user) => ({ authorization: `Bearer ${user.token}` })],
    ["bearer session token + the cookie", (user) => ({ authorization: `Bearer ${user.token}`, cookie: user.cookie })],
    ["API key (x-api-key)", (_, apiKey) => ({ "x-api-key": apiKey })],
    ["API key (Authorization: Bearer vsk_…) + the cookie", (user, apiKey) => ({ authorization: `Bearer ${apiKey}`, cookie: user.cookie })],
  ];

  for (const target of TARGETS) {
    it.each(credentials)(`${target} with a %s from a foreign Origin works`, async (label, headers) => {
      const user = await signUpWithCookie("cross-site-bearer");
      const apiKey = await createApiKey(user);
      const { method, path } = await prepare(user, target);
      const res = await api(path, { method, headers: { ...headers(user, apiKey), origin: EVIL, "sec-fetch-site": "cross-site" } });
      const got = await outcome(res);
      recordAudit({ case: `${method} ${target} × ${label} × foreign Origin`, expected: ALLOWED[target], got, ok: got === ALLOWED[target] });
      expect(got).toBe(ALLOWED[target]);
    });
  }

  it("an invalid bearer token does not fall back to the cookie sent along", async () => {
    const user = await signUpWithCookie("cross-site-bad-bearer");
    const { method, path, videoId } = await prepare(user, "retry");
    const res = await api(path, { method, headers: { authorization: "Bearer not-a-session.token", cookie: user.cookie, origin: EVIL } });
    const got = await outcome(res);
    recordAudit({ case: `${method} retry × invalid bearer + the cookie × foreign Origin`, expected: "401 unauthorized", got, ok: got === "401 unauthorized" });
    expect(got).toBe("401 unauthorized");
    const [row] = await db.select().from(videos).where(eq(videos.id, videoId!));
    expect(row?.status).toBe("VIDEO_IMAGE_EXTRACTION_ERROR");
  });
});
