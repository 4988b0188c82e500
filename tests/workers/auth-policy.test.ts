/**
 * Password rules, session policy and CORS (edge-api/src/auth.ts, edge-api/src/password-policy.ts,
 * the CORS middleware of edge-api/src/app.ts), through the real better-auth on D1.
 */
import { createExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { session } from "../../schema/db.ts";
import { SESSION_EXPIRES_IN_SECONDS, SESSION_UPDATE_AGE_SECONDS } from "../../edge-api/src/auth.ts";
import type { Env } from "../../edge-api/src/env.ts";
import worker from "../../edge-api/src/index.ts";
import { COMMON_PASSWORDS, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../../edge-api/src/password-policy.ts";
import { api, BASE, db, signUp, storedSessionToken, testEnv } from "./support/env.ts";

type IncomingRequest = Parameters<typeof worker.fetch>[0];

const uniqueEmail = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}@example.com`;

const signUpWith = (email: string, password: string) =>
  api("/api/auth/sign-up/email", { method: "POST", json: { email, password, name: "Policy" } });

/** A refusal of better-auth: 400 problem+json keeping its `code` (edge-api/src/auth-problems.ts). */
async function expectRefusal(res: Response, code: string) {
  expect(res.status).toBe(400);
  expect(res.headers.get("set-auth-token")).toBeNull();
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as { type: string; code: string; detail: string };
  expect(body.type).toBe("https://vidsnap.dev/problems/validation");
  expect(body.code).toBe(code);
  expect(body.detail.length).toBeGreaterThan(10);
}

const sessionRow = async (token: string) => {
  const [row] = await db.select().from(session).where(eq(session.token, await storedSessionToken(token)));
  if (!row) throw new Error("session not in D1");
  return row;
};

describe("password rules", () => {
  it(`length ${MIN_PASSWORD_LENGTH}..${MAX_PASSWORD_LENGTH}`, async () => {
    await expectRefusal(await signUpWith(uniqueEmail("short"), "k7#Qm2!xz"), "PASSWORD_TOO_SHORT");
    await expectRefusal(await signUpWith(uniqueEmail("long"), "k7#Qm2!xz".repeat(15).slice(0, MAX_PASSWORD_LENGTH + 1)), "PASSWORD_TOO_LONG");
    const longest = await signUpWith(uniqueEmail("longest"), "k7#Qm2!xz".repeat(15).slice(0, MAX_PASSWORD_LENGTH));
    expect(longest.status).toBe(200);
    const shortest = await signUpWith(uniqueEmail("shortest"), "k7#Qm2!xzP");
    expect(shortest.status).toBe(200);
  });

  it.each(["password123", "Password123", "1234567890", "QWERTYUIOP", " iloveyou123 "])("refuses the common password %j", async (password) => {
    await expectRefusal(await signUpWith(uniqueEmail("common"), password), "PASSWORD_TOO_COMMON");
  });

  it("every listed common password is long enough to need the list, and lower case", () => {
    for (const p of COMMON_PASSWORDS) {
      expect(p.length, p).toBeGreaterThanOrEqual(MIN_PASSWORD_LENGTH);
      expect(p).toBe(p.toLowerCase());
    }
  });

  it("refuses the email address, or its local part, as password", async () => {
    const email = uniqueEmail("christopher");
    await expectRefusal(await signUpWith(email, email), "PASSWORD_EQUALS_EMAIL");
    await expectRefusal(await signUpWith(email, email.toUpperCase()), "PASSWORD_EQUALS_EMAIL");
    await expectRefusal(await signUpWith(email, email.split("@")[0]!), "PASSWORD_EQUALS_EMAIL");
    // Nothing was created by the refusals: the address is still free.
    expect((await signUpWith(email, "a-fine-passphrase")).status).toBe(200);
  });

  it("applies the same rules to a password change, and accepts a good new password", async () => {
    const { token, email } = await signUp("changer");
    const change = (newPassword: string) =>
      api("/api/auth/change-password", { method: "POST", token, json: { currentPassword: "correct-horse-battery", newPassword } });
    await expectRefusal(await change("password1234"), "PASSWORD_TOO_COMMON");
    await expectRefusal(await change(email), "PASSWORD_EQUALS_EMAIL");
    const tooLong = await change("x".repeat(MAX_PASSWORD_LENGTH + 1));
    expect(tooLong.status).toBe(400);
    await tooLong.body?.cancel();

    const ok = await change("another-fine-passphrase");
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    const signIn = await api("/api/auth/sign-in/email", { method: "POST", json: { email, password: "another-fine-passphrase" } });
    expect(signIn.status).toBe(200);
    await signIn.body?.cancel();
  });
});

describe("session policy", () => {
  it(`a new session lives ${SESSION_EXPIRES_IN_SECONDS / 86_400} days`, async () => {
    const before = Date.now();
    const { token } = await signUp("lifetime");
    const row = await sessionRow(token);
    expect(row.expiresAt.getTime()).toBeGreaterThanOrEqual(before + SESSION_EXPIRES_IN_SECONDS * 1000 - 5000);
    expect(row.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + SESSION_EXPIRES_IN_SECONDS * 1000 + 5000);
  });

  it(`a session used more than ${SESSION_UPDATE_AGE_SECONDS / 86_400} day after its last extension is extended`, async () => {
    const { token } = await signUp("extended");
    const twoDaysOld = new Date(Date.now() + (SESSION_EXPIRES_IN_SECONDS - 2 * 86_400) * 1000);
    await db.update(session).set({ expiresAt: twoDaysOld }).where(eq(session.token, await storedSessionToken(token)));
    expect((await api("/v1/videos", { token })).status).toBe(200);
    const row = await sessionRow(token);
    expect(row.expiresAt.getTime()).toBeGreaterThan(twoDaysOld.getTime() + 86_400_000);
  });

  it("a session used within a day of its last extension is left alone", async () => {
    const { token } = await signUp("fresh");
    const { expiresAt } = await sessionRow(token);
    expect((await api("/v1/videos", { token })).status).toBe(200);
    expect((await sessionRow(token)).expiresAt.getTime()).toBe(expiresAt.getTime());
  });

  it("an expired session is refused on /v1 and by better-auth", async () => {
    const { token } = await signUp("expired");
    await db.update(session).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(session.token, await storedSessionToken(token)));
    const res = await api("/v1/videos", { token });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { type: string }).type).toBe("https://vidsnap.dev/problems/unauthorized");
    const get = await api("/api/auth/get-session", { token });
    expect(await get.json()).toBeNull();
  });
});

describe("CORS: PUBLIC_BASE_URL and TRUSTED_ORIGINS only", () => {
  const TRUSTED = "https://app.example";
  let env: Env;
  let token: string;
  beforeAll(async () => {
    ({ token } = await signUp("cors"));
    env = { ...testEnv, TRUSTED_ORIGINS: `${TRUSTED}, https://other.example/` };
  });
  const send = (path: string, init: RequestInit) => worker.fetch(new Request(BASE + path, init) as IncomingRequest, env, createExecutionContext());
  const preflight = (origin: string, path = "/v1/videos") =>
    send(path, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,x-api-key" },
    });

  it.each([BASE, TRUSTED, "https://other.example"])("a preflight from %s is allowed, with credentials and the API-key header", async (origin) => {
    const res = await preflight(origin);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-headers")).toContain("x-api-key");
    expect(res.headers.get("vary")).toMatch(/origin/i);
  });

  it.each([
    "https://evil.example",
    "https://app.example.evil.example",
    "http://app.example", // scheme differs
    "https://app.example:8443", // port differs
    "null",
    `${BASE}.evil.example`,
  ])("a preflight from %s gets no Access-Control-Allow-Origin", async (origin) => {
    for (const path of ["/v1/videos", "/api/auth/sign-in/email", "/v1/api-keys"]) {
      const res = await preflight(origin, path);
      expect(res.headers.get("access-control-allow-origin"), path).toBeNull();
    }
  });

  it("never answers a wildcard origin, on any kind of answer", async () => {
    const answers = [
      await send("/v1/videos", { headers: { origin: "https://evil.example", authorization: `Bearer ${token}` } }),
      await send("/v1/videos", { headers: { origin: TRUSTED, authorization: `Bearer ${token}` } }),
      await send("/v1/videos", { headers: { origin: TRUSTED } }), // 401
      await send("/healthz", { headers: { origin: "https://evil.example" } }),
      await send("/healthz", {}),
    ];
    for (const res of answers) {
      expect(res.headers.get("access-control-allow-origin")).not.toBe("*");
      await res.body?.cancel();
    }
    expect(answers[0]!.headers.get("access-control-allow-origin")).toBeNull();
    expect(answers[1]!.headers.get("access-control-allow-origin")).toBe(TRUSTED);
    expect(answers[4]!.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("better-auth refuses a sign-in POST from a foreign origin even though CORS would hide the answer", async () => {
    const res = await send("/api/auth/sign-in/email", {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ email: "nobody@example.com", password: "wrong-password-123" }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    await res.body?.cancel();
  });
});
