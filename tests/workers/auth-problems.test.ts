/**
 * `/api/auth/*` refusals as problem details (edge-api/src/auth-problems.ts): better-auth's own `{code, message}`
 * answers become `application/problem+json` with the app's shape, the status unchanged and better-auth's
 * `code` kept. Each case is a row of `npm run audit:security` (suite `auth-errors`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../tools/audit/record.ts";
import { api } from "./support/env.ts";

const PASSWORD = "correct-horse-battery";
const uniqueEmail = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}@example.com`;

interface AuthProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
  code?: string;
}

/** Checks the problem shape and records the row; @returns the body. */
async function expectProblem(res: Response, label: string, expected: { status: number; kind: string; code?: string }): Promise<AuthProblem> {
  const contentType = res.headers.get("content-type") ?? "";
  const body = (await res.clone().json()) as AuthProblem;
  const want = `${expected.status} ${expected.kind}${expected.code ? ` ${expected.code}` : ""} problem+json`;
  const got = `${res.status} ${body.type?.split("/").pop()}${body.code ? ` ${body.code}` : ""} ${contentType.split(";")[0]?.replace("application/", "")}`;
  recordAudit({ case: label, expected: want, got, ok: got === want });
  expect(contentType).toBe("application/problem+json");
  expect(res.status).toBe(expected.status);
  expect(body).toMatchObject({ type: `https://vidsnap.dev/problems/${expected.kind}`, status: expected.status, requestId: res.headers.get("x-request-id") });
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.detail.length).toBeGreaterThan(0);
  if (expected.code) expect(body.code).toBe(expected.code);
  expect(body).not.toHaveProperty("message");
  return body;
}

describe("/api/auth/* errors are problem+json with better-auth's code", () => {
  const email = uniqueEmail("auth-problem");
  beforeAll(async () => {
    const res = await api("/api/auth/sign-up/email", { method: "POST", json: { email, password: PASSWORD, name: "Problem" } });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("a wrong password on sign-in → 401 unauthorized, code INVALID_EMAIL_OR_PASSWORD", async () => {
    const res = await api("/api/auth/sign-in/email", { method: "POST", json: { email, password: "wrong-password-123" } });
    const body = await expectProblem(res, "sign-in with a wrong password", { status: 401, kind: "unauthorized", code: "INVALID_EMAIL_OR_PASSWORD" });
    expect(body.detail).toBe("Invalid email or password");
    expect(res.headers.get("set-auth-token")).toBeNull();
  });

  it("sign-up with an existing email → the same 200 as a new one, no USER_ALREADY_EXISTS (tests/workers/accounts.test.ts)", async () => {
    const res = await api("/api/auth/sign-up/email", { method: "POST", json: { email, password: PASSWORD, name: "Again" } });
    const text = await res.text();
    const ok = res.status === 200 && !text.includes("USER_ALREADY_EXISTS") && res.headers.get("set-auth-token") === null;
    recordAudit({ case: "sign-up with an existing email", expected: "200 {token: null}, no USER_ALREADY_EXISTS", got: `${res.status} ${text.slice(0, 40)}…`, ok });
    expect(res.status).toBe(200);
    expect(text).not.toContain("USER_ALREADY_EXISTS");
    expect((JSON.parse(text) as { token: unknown }).token).toBeNull();
  });

  it("a foreign Origin on sign-in (better-auth's INVALID_ORIGIN) → 403 forbidden", async () => {
    const res = await api("/api/auth/sign-in/email", {
      method: "POST",
      json: { email, password: PASSWORD },
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site", "sec-fetch-mode": "cors" },
    });
    await expectProblem(res, "sign-in from a foreign Origin", { status: 403, kind: "forbidden", code: "INVALID_ORIGIN" });
    expect(res.headers.get("set-auth-token")).toBeNull();
  });

  it("the password policy's refusal → 400 validation, code PASSWORD_TOO_COMMON", async () => {
    const res = await api("/api/auth/sign-up/email", { method: "POST", json: { email: uniqueEmail("common"), password: "password123", name: "C" } });
    await expectProblem(res, "sign-up with a common password", { status: 400, kind: "validation", code: "PASSWORD_TOO_COMMON" });
  });

  it("an invalid body → 400 validation with better-auth's code", async () => {
    const res = await api("/api/auth/sign-in/email", { method: "POST", json: { email: "not-an-email", password: 5 } });
    const body = (await res.clone().json()) as AuthProblem;
    expect(body.code).toMatch(/^[A-Z_]+$/);
    await expectProblem(res, "sign-in with an invalid body", { status: 400, kind: "validation", code: body.code });
  });

  it("a disabled path (plain-text 404 from better-auth) → 404 not-found, no code", async () => {
    const res = await api("/api/auth/api-key/list");
    const body = await expectProblem(res, "GET a disabled better-auth path", { status: 404, kind: "not-found" });
    expect(body).not.toHaveProperty("code");
  });

  it("successful answers are untouched", async () => {
    const res = await api("/api/auth/sign-in/email", { method: "POST", json: { email, password: PASSWORD } });
    const ok = res.status === 200 && res.headers.get("content-type")?.startsWith("application/json") === true && !!res.headers.get("set-auth-token");
    recordAudit({ case: "sign-in with the right password", expected: "200 application/json + set-auth-token", got: `${res.status} ${res.headers.get("content-type")}`, ok });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("set-cookie")).toContain("session_token=");
    expect(((await res.json()) as { user: { email: string } }).user.email).toBe(email);
  });
});
