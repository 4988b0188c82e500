/**
 * Session tokens at rest and signed bearer tokens (issue 18 item 1; edge-api/src/auth-session-tokens.ts,
 * `bearer({ requireSignature: true })` in edge-api/src/auth.ts), through the real better-auth on D1.
 * Each case is a row of `npm run audit:security` (suite `tokens`).
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { session } from "../../schema/db.ts";
import { SESSION_TOKEN_DIGEST_PREFIX, sessionTokenDigest } from "../../edge-api/src/auth-session-tokens.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { api, db, signUp, storedSessionToken } from "./support/env.ts";

let user: Awaited<ReturnType<typeof signUp>>;
/** The unsigned part of the bearer token: what better-auth generated, and what D1 used to hold. */
let rawToken: string;

beforeAll(async () => {
  user = await signUp("tokens");
  rawToken = decodeURIComponent(user.token).split(".")[0]!;
});

const videosWith = (token: string) => api("/v1/videos", { token });

describe("session tokens at rest", () => {
  it("D1 holds only a digest of the token, never the token", async () => {
    const rows = await db.select({ token: session.token }).from(session).where(eq(session.userId, user.userId));
    const stored = rows.map((r) => r.token);
    const ok = stored.length === 1 && stored[0] === (await storedSessionToken(user.token)) && !stored.some((t) => t.includes(rawToken));
    recordAudit({ case: "session row after sign-in", expected: `token column = ${SESSION_TOKEN_DIGEST_PREFIX}<sha-256>, no raw token`, got: stored.map((t) => `${t.slice(0, 14)}…`).join(", "), ok });
    expect(stored).toEqual([await sessionTokenDigest(rawToken)]);
    expect(stored[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("the stored value, sent as a bearer token, is refused (signed or not)", async () => {
    const [row] = await db.select({ token: session.token }).from(session).where(eq(session.userId, user.userId));
    const res = await videosWith(row!.token);
    recordAudit({ case: "Bearer <value read from the session table>", expected: "401", got: String(res.status), ok: res.status === 401 });
    expect(res.status).toBe(401);
  });

  it("the signed token works, and keeps working after a session refresh", async () => {
    const res = await videosWith(user.token);
    recordAudit({ case: "Bearer <token>.<signature> (set-auth-token)", expected: "200", got: String(res.status), ok: res.status === 200 });
    expect(res.status).toBe(200);
    // Force a refresh (updateAge passed): better-auth updates the row by token and re-sets the cookie.
    await db.update(session).set({ expiresAt: new Date(Date.now() + 60_000) }).where(eq(session.userId, user.userId));
    const refreshed = await api("/api/auth/get-session", { token: user.token });
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as { session: { token: string; expiresAt: string } };
    expect(body.session.token).toBe(rawToken); // the holder sees their own token, not the digest
    expect(new Date(body.session.expiresAt).getTime()).toBeGreaterThan(Date.now() + 86_400_000);
    const cookieToken = refreshed.headers.get("set-auth-token");
    expect(cookieToken && decodeURIComponent(cookieToken).split(".")[0]).toBe(rawToken);
    expect((await videosWith(user.token)).status).toBe(200);
  });

  it("the session listing endpoints, which would hand out digests, are disabled", async () => {
    const res = await api("/api/auth/list-sessions", { token: user.token });
    recordAudit({ case: "GET /api/auth/list-sessions", expected: "404 (disabled)", got: String(res.status), ok: res.status === 404 });
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });

  it("sign-out deletes the session found by digest", async () => {
    const other = await signUp("tokens-out");
    const out = await api("/api/auth/sign-out", { method: "POST", token: other.token, json: {} });
    expect(out.status).toBe(200);
    expect(await db.select().from(session).where(eq(session.userId, other.userId))).toEqual([]);
    expect((await videosWith(other.token)).status).toBe(401);
  });
});

describe("bearer tokens must be signed", () => {
  it("the raw token without its signature is refused", async () => {
    const res = await videosWith(rawToken);
    recordAudit({ case: "Bearer <raw token, no signature>", expected: "401", got: String(res.status), ok: res.status === 401 });
    expect(res.status).toBe(401);
  });

  it("the raw token with a forged signature is refused", async () => {
    const res = await videosWith(`${rawToken}.${"A".repeat(43)}`);
    recordAudit({ case: "Bearer <raw token>.<forged signature>", expected: "401", got: String(res.status), ok: res.status === 401 });
    expect(res.status).toBe(401);
  });
});
