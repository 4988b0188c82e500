/**
 * Rate limits (edge-api/src/rate-limit.ts) with the real Workers Rate Limiting binding as miniflare
 * simulates it. The suite's wrangler.toml limits are high (other suites sign up many users), so these tests
 * run the Worker with AUTH_RATE_LIMITER / VIDEO_RATE_LIMITER swapped for TEST_TIGHT_RATE_LIMITER
 * (3 per 10 s window, tests/workers/vitest.config.mts). Each test uses fresh keys (its own client IP or
 * user) and starts early in a window, so a window boundary cannot fall inside it.
 */
import { createExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { authScope, RETRY_AFTER_SECONDS } from "../../edge-api/src/rate-limit.ts";
import type { Env } from "../../edge-api/src/env.ts";
import worker from "../../edge-api/src/index.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { BASE, insertVideo, signUp, testEnv } from "./support/env.ts";

const TIGHT = (testEnv as unknown as { TEST_TIGHT_RATE_LIMITER: RateLimit }).TEST_TIGHT_RATE_LIMITER;
const TIGHT_LIMIT = 3;
const TIGHT_PERIOD_MS = 10_000;

/** One env object for the file (config and better-auth are cached per env object). */
const tightEnv: Env = { ...testEnv, AUTH_RATE_LIMITER: TIGHT, VIDEO_RATE_LIMITER: TIGHT };
/** The per-account budget made tight, the per-IP one left high: only the account limit can refuse. */
const accountEnv: Env = { ...testEnv, ACCOUNT_RATE_LIMITER: TIGHT };

function call(path: string, init: RequestInit & { json?: unknown; ip?: string; token?: string } = {}, env: Env = tightEnv) {
  const headers = new Headers(init.headers);
  if (init.ip) headers.set("cf-connecting-ip", init.ip);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const body = init.json === undefined ? init.body : JSON.stringify(init.json);
  const request = new Request(BASE + path, { ...init, headers, body }) as Parameters<typeof worker.fetch>[0];
  return worker.fetch(request, env, createExecutionContext());
}

/** Waits, if needed, until at least 6 s remain in the limiter's current 10 s window. */
async function startOfWindow() {
  const into = Date.now() % TIGHT_PERIOD_MS;
  if (TIGHT_PERIOD_MS - into < 6_000) await new Promise((r) => setTimeout(r, TIGHT_PERIOD_MS - into + 50));
}

let ipCounter = 0;
const freshIp = () => `198.51.100.${++ipCounter}-${crypto.randomUUID().slice(0, 6)}`;

async function expectRateLimited(res: Response) {
  expect(res.status).toBe(429);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: "https://vidsnap.dev/problems/rate-limited", status: 429, title: "Too many requests" });
  expect(Object.keys(body).sort()).toEqual(["detail", "requestId", "status", "title", "type"]);
}

describe("sign-in: per account, whatever the client IP (issue 18 item 9)", () => {
  const attempt = (email: string, password: string) =>
    call("/api/auth/sign-in/email", { method: "POST", ip: freshIp(), json: { email, password } }, accountEnv);

  it(`${TIGHT_LIMIT} guesses at one account from ${TIGHT_LIMIT} IPs pass, the next gets 429 even with the right password`, async () => {
    await startOfWindow();
    const victim = await signUp("budget");
    const statuses: number[] = [];
    for (let i = 0; i < TIGHT_LIMIT; i++) {
      const res = await attempt(victim.email, `wrong-guess-${i}-long`);
      statuses.push(res.status);
      await res.body?.cancel();
    }
    expect(statuses).toEqual(Array(TIGHT_LIMIT).fill(401));
    const refused = await attempt(victim.email, "correct-horse-battery");
    recordAudit({ case: `sign-in #${TIGHT_LIMIT + 1} for one address from a new IP`, expected: "429 rate-limited problem+json", got: `${refused.status} ${refused.headers.get("content-type")}`, ok: refused.status === 429 && refused.headers.get("content-type") === "application/problem+json" });
    expect(refused.headers.get("set-auth-token")).toBeNull();
    await expectRateLimited(refused);
    // The address is normalized: case and spaces do not open a fresh budget.
    await expectRateLimited(await attempt(`  ${victim.email.toUpperCase()} `, "correct-horse-battery"));
    // Another account is unaffected.
    const other = await signUp("budget-other");
    const fine = await attempt(other.email, "correct-horse-battery");
    recordAudit({ case: "sign-in to another account meanwhile", expected: "200", got: String(fine.status), ok: fine.status === 200 });
    expect(fine.status).toBe(200);
    await fine.body?.cancel();
  });

  it("verification-email requests have a per-address budget too", async () => {
    await startOfWindow();
    const victim = await signUp("inbox", { verified: false });
    const ask = () => call("/api/auth/send-verification-email", { method: "POST", ip: freshIp(), json: { email: victim.email } }, accountEnv);
    for (let i = 0; i < TIGHT_LIMIT; i++) {
      const res = await ask();
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const refused = await ask();
    recordAudit({ case: `verification email #${TIGHT_LIMIT + 1} for one address`, expected: "429", got: String(refused.status), ok: refused.status === 429 });
    await expectRateLimited(refused);
  });
});

describe("auth routes: per route and client IP", () => {
  const signIn = (ip: string, path = "/api/auth/sign-in/email") =>
    call(path, { method: "POST", ip, json: { email: "nobody@example.com", password: "wrong-password-123" } });

  it(`sign-in: ${TIGHT_LIMIT} attempts pass to better-auth, the next gets 429 with Retry-After`, async () => {
    await startOfWindow();
    const ip = freshIp();
    for (let i = 0; i < TIGHT_LIMIT; i++) {
      const res = await signIn(ip);
      expect(res.status).toBe(401); // better-auth's answer to a wrong password
      await res.body?.cancel();
    }
    await expectRateLimited(await signIn(ip));
    // The same path spelled differently shares the budget.
    await expectRateLimited(await signIn(ip, "/api/auth/Sign-In/email/"));
    // Another client IP has its own budget.
    const other = await signIn(freshIp());
    expect(other.status).toBe(401);
    await other.body?.cancel();
  });

  it("sign-up has a budget of its own, and a refused sign-up creates no account", async () => {
    await startOfWindow();
    const ip = freshIp();
    const attempt = (n: number) =>
      call("/api/auth/sign-up/email", {
        method: "POST",
        ip,
        json: { email: `burst-${n}-${crypto.randomUUID().slice(0, 8)}@example.com`, password: "a-long-password", name: "Burst" },
      });
    // Exhaust sign-in first: sign-up still works.
    for (let i = 0; i <= TIGHT_LIMIT; i++) await (await signIn(ip)).body?.cancel();
    for (let i = 0; i < TIGHT_LIMIT; i++) {
      const res = await attempt(i);
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const refused = await attempt(99);
    expect(refused.headers.get("set-auth-token")).toBeNull();
    await expectRateLimited(refused);
  });

  it("GET /api/auth/* (get-session) is not counted", async () => {
    await startOfWindow();
    const ip = freshIp();
    for (let i = 0; i < TIGHT_LIMIT + 2; i++) {
      const res = await call("/api/auth/get-session", { ip });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
  });

  it("maps auth paths to budgets without letting a spelling open a new one", () => {
    expect(authScope("/api/auth/sign-in/email")).toBe("sign-in/email");
    expect(authScope("/api/auth//SIGN-UP/email/")).toBe("sign-up/email");
    expect(authScope("/api/auth/change-password")).toBe("change-password");
    expect(authScope("/api/auth/anything-else")).toBe("auth");
    expect(authScope(`/api/auth/${crypto.randomUUID()}`)).toBe("auth");
  });
});

describe("video creation: per user", () => {
  let ann: Awaited<ReturnType<typeof signUp>>;
  let ben: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    [ann, ben] = await Promise.all([signUp("ann"), signUp("ben")]);
  });
  const create = (auth: { token?: string; headers?: Record<string, string> }) =>
    call("/v1/videos", {
      method: "POST",
      token: auth.token,
      headers: auth.headers,
      ip: freshIp(), // a new IP per request: the budget is the user's, not the address's
      json: { filename: "clip.mp4", contentType: "video/mp4", sizeBytes: 100 },
    });

  it(`${TIGHT_LIMIT} creations per window per user, shared by the user's session and API keys; others unaffected`, async () => {
    // ann's API key, made with the suite's normal (high) limits.
    const keyRes = await call("/v1/api-keys", { method: "POST", token: ann.token, json: { name: "burst" } }, testEnv);
    expect(keyRes.status).toBe(201);
    const { key } = (await keyRes.json()) as { key: string };

    await startOfWindow();
    for (let i = 0; i < TIGHT_LIMIT - 1; i++) expect((await create({ token: ann.token })).status).toBe(201);
    expect((await create({ headers: { "x-api-key": key } })).status).toBe(201);
    await expectRateLimited(await create({ token: ann.token }));
    await expectRateLimited(await create({ headers: { "x-api-key": key } }));

    // Reading is not limited, nor is another user.
    expect((await call("/v1/videos", { token: ann.token })).status).toBe(200);
    expect((await create({ token: ben.token })).status).toBe(201);
  });

  it("a refused creation stores no video", async () => {
    const before = await call("/v1/videos?limit=100", { token: ann.token }, testEnv);
    const count = ((await before.json()) as { data: unknown[] }).data.length;
    await startOfWindow();
    let refused = 0;
    for (let i = 0; i < TIGHT_LIMIT + 2; i++) {
      const res = await create({ token: ann.token });
      if (res.status === 429) refused++;
      await res.body?.cancel();
    }
    expect(refused).toBeGreaterThanOrEqual(2);
    const after = await call("/v1/videos?limit=100", { token: ann.token }, testEnv);
    expect(((await after.json()) as { data: unknown[] }).data.length).toBe(count + TIGHT_LIMIT + 2 - refused);
  });
});

describe("images on demand: uncached renders per user", () => {
  it(`${TIGHT_LIMIT} renders per window, then 429 with Retry-After; a cached image stays free`, async () => {
    const cat = await signUp("cat");
    const id = await insertVideo(cat.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", attempt: 1 });
    // Its source is a real video; the stand-in forwards renders to a real processor (tests/workers/routes/images.test.ts).
    const put = await fetch(`${inject("processorUrl")}/__source/${cat.userId}/${id}`, { method: "PUT", body: JSON.stringify({ file: "franck.mp4" }) });
    expect(put.status).toBe(204);
    const imageEnv: Env = { ...testEnv, IMAGE_RATE_LIMITER: TIGHT };
    const thumbnail = (t: number) => call(`/v1/videos/${id}/thumbnail.jpg?time=${t}&width=64`, { token: cat.token }, imageEnv);
    await startOfWindow();
    for (let t = 1; t <= TIGHT_LIMIT; t++) {
      const res = await thumbnail(t);
      expect(res.status, await res.clone().text()).toBe(200);
      await res.body?.cancel();
    }
    await expectRateLimited(await thumbnail(TIGHT_LIMIT + 1));
    // Already rendered and stored: served without a render, so without counting.
    const cached = await thumbnail(1);
    expect(cached.status).toBe(200);
    expect(cached.headers.get("content-type")).toBe("image/jpeg");
  }, 60_000);
});

describe("fail closed and configured", () => {
  it("a missing binding answers 500 server-misconfigured, never an unlimited pass", async () => {
    const { AUTH_RATE_LIMITER: _a, VIDEO_RATE_LIMITER: _v, ...rest } = testEnv;
    const bare: Env = rest;
    const res = await call("/api/auth/sign-in/email", { method: "POST", ip: freshIp(), json: { email: "x@example.com", password: "wrong-password-123" } }, bare);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { type: string }).type).toBe("https://vidsnap.dev/problems/server-misconfigured");
  });

  it("the suite's wrangler.toml provides both bindings (the same binding kind as production)", async () => {
    for (const binding of [testEnv.AUTH_RATE_LIMITER, testEnv.VIDEO_RATE_LIMITER]) {
      expect(binding).toBeDefined();
      expect(await binding!.limit({ key: `probe:${crypto.randomUUID()}` })).toEqual({ success: true });
    }
  });
});
