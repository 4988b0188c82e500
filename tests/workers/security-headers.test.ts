/**
 * Security headers on every edge-api response and error bodies without internals: a forced
 * unexpected error answers only the problem fields, with no stack frame, file path or error message.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../edge-api/src/index.ts";
import { api, BASE, signUp, testEnv } from "./support/env.ts";

const EXPECTED = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-resource-policy": "same-origin",
};

function expectSecurityHeaders(res: Response) {
  for (const [name, value] of Object.entries(EXPECTED)) expect(res.headers.get(name), name).toBe(value);
  expect(res.headers.get("cache-control")).toMatch(/no-store/);
  // The local PUBLIC_BASE_URL is http: no HSTS there.
  expect(res.headers.get("strict-transport-security")).toBeNull();
}

let token: string;
beforeAll(async () => {
  ({ token } = await signUp("headers"));
});

describe("security headers", () => {
  it.each([
    ["GET", "/healthz", undefined],
    ["GET", "/openapi.json", undefined],
    ["GET", "/no/such/route", undefined],
    ["GET", "/v1/videos", undefined], // 401 problem
    ["GET", "/v1/videos", "token"], // 200
    ["GET", "/v1/videos/not-a-uuid", "token"], // 400/404 problem
    ["POST", "/v1/videos", "token"], // 400 validation (no body)
    ["GET", "/api/auth/get-session", "token"], // better-auth
  ] as const)("%s %s (%s)", async (method, path, auth) => {
    const res = await api(path, { method, token: auth ? token : undefined });
    await res.body?.cancel();
    expectSecurityHeaders(res);
  });

  it("better-auth sign-in answers carry them, with no-store", async () => {
    const res = await api("/api/auth/sign-in/email", { method: "POST", json: { email: "nobody@example.com", password: "wrong-password-123" } });
    await res.body?.cancel();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expectSecurityHeaders(res);
  });

  it("CORS preflight from a trusted origin still works", async () => {
    const res = await api("/v1/videos", {
      method: "OPTIONS",
      headers: { origin: BASE, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(BASE);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("HSTS when PUBLIC_BASE_URL is https", async () => {
    const env = { ...testEnv, PUBLIC_BASE_URL: "https://api.vidsnap.example" };
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`${BASE}/healthz`), env, ctx);
    await waitOnExecutionContext(ctx);
    await res.body?.cancel();
    expect(res.headers.get("strict-transport-security")).toBe("max-age=63072000; includeSubDomains");
  });
});

describe("no internals in error bodies", () => {
  it("an unexpected error answers 500 with the problem fields only", async () => {
    const secret = "boom in /work/main/edge-api/src/secret-internal.ts:12:34";
    // The D1 binding fails on queries of the videos table (sessions still work).
    const real = testEnv.DB;
    const DB = new Proxy(real, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            if (/videos/.test(sql)) throw new Error(secret);
            return target.prepare(sql);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const env = { ...testEnv, DB };
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`${BASE}/v1/videos`, { headers: { authorization: `Bearer ${token}` } }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expectSecurityHeaders(res);
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["detail", "requestId", "status", "title", "type"]);
    expect(body).toMatchObject({ type: "https://vidsnap.dev/problems/internal", status: 500 });
    expect(text).not.toContain("boom");
    expect(text).not.toMatch(/\bat\s/);
    expect(text).not.toMatch(/\/work\/|\.ts\b|\.js\b|:\d+:\d+/);
    expect(text).not.toMatch(/Error:/);
  });
});
