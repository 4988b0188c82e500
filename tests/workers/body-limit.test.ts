/**
 * The request body limit (edge-api/src/body-limit.ts): bodies above 64 KiB on `/v1/*` and `/api/auth/*`
 * get 413 `payload-too-large` problem+json before anything parses them, whether the size is declared
 * (`content-length`) or only found by reading (a streamed body). Each case is a row of
 * `npm run audit:security` (suite `body-limit`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_REQUEST_BODY_BYTES } from "../../edge-api/src/body-limit.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { api, signUp } from "./support/env.ts";

/** A JSON object of exactly `bytes` bytes once serialised. */
function jsonOfSize(bytes: number, fields: Record<string, unknown> = {}): string {
  const base = JSON.stringify({ ...fields, pad: "" });
  return JSON.stringify({ ...fields, pad: "x".repeat(bytes - base.length) });
}

/** The same text as a stream of 16 KiB chunks, so no `content-length` is sent. */
function streamed(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + 16 * 1024));
      offset += 16 * 1024;
    },
  });
}

const SIGN_UP = "/api/auth/sign-up/email";
const signUpFields = () => ({ email: `big-${crypto.randomUUID().slice(0, 8)}@example.com`, password: "correct-horse-battery", name: "big" });

describe("request body limit", () => {
  let token: string;
  beforeAll(async () => {
    token = (await signUp("body-limit")).token;
  });

  const cases: [name: string, path: string, size: number, stream: boolean][] = [
    ["20 MB JSON", "/v1/videos", 20_000_000, false],
    ["65 KiB JSON", "/v1/videos", 65 * 1024, false],
    ["65 KiB JSON, streamed (no content-length)", "/v1/videos", 65 * 1024, true],
    ["20 MB JSON", "/v1/webhooks", 20_000_000, false],
    ["20 MB JSON", SIGN_UP, 20_000_000, false],
    ["65 KiB JSON", SIGN_UP, 65 * 1024, false],
    ["65 KiB JSON, streamed (no content-length)", SIGN_UP, 65 * 1024, true],
  ];

  it.each(cases)("%s to POST %s → 413 payload-too-large", async (name, path, size, stream) => {
    const text = jsonOfSize(size, path === SIGN_UP ? signUpFields() : { filename: "a.mp4", sizeBytes: 1000, contentType: "video/mp4" });
    const res = await api(path, {
      method: "POST",
      token: path === SIGN_UP ? undefined : token,
      headers: { "content-type": "application/json" },
      body: stream ? streamed(text) : text,
      ...(stream ? { duplex: "half" } : {}),
    } as RequestInit);
    const body = (await res.json()) as { type?: string; status?: number };
    const got = `${res.status} ${body.type?.split("/").pop()}`;
    recordAudit({ case: `POST ${path} with ${name}`, expected: "413 payload-too-large", got, ok: got === "413 payload-too-large" });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(body).toMatchObject({ type: "https://vidsnap.dev/problems/payload-too-large", status: 413, title: "Request body too large" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("an oversized body is refused before authentication (no token → still 413)", async () => {
    const res = await api("/v1/videos", { method: "POST", headers: { "content-type": "application/json" }, body: jsonOfSize(65 * 1024) });
    recordAudit({ case: "POST /v1/videos with 65 KiB JSON, no token", expected: "413", got: String(res.status), ok: res.status === 413 });
    expect(res.status).toBe(413);
  });

  it("bodies up to the limit pass through to the route", async () => {
    const video = await api("/v1/videos", { method: "POST", token, json: { filename: "a.mp4", sizeBytes: 1000, contentType: "video/mp4" } });
    const atLimit = await api("/v1/webhooks", {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: jsonOfSize(MAX_REQUEST_BODY_BYTES, { url: "https://hooks.example.com/x" }),
    });
    const signUpRes = await api(SIGN_UP, { method: "POST", json: signUpFields() });
    const streamedSignUp = await api(SIGN_UP, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: streamed(JSON.stringify(signUpFields())),
      duplex: "half",
    } as RequestInit);
    const statuses = [video.status, atLimit.status, signUpRes.status, streamedSignUp.status];
    const ok = video.status === 201 && atLimit.status !== 413 && signUpRes.status === 200 && streamedSignUp.status === 200;
    recordAudit({
      case: "normal bodies (POST /v1/videos; 64 KiB exactly on /v1/webhooks; sign-up plain and streamed)",
      expected: "201, not 413, 200, 200",
      got: statuses.join(", "),
      ok,
    });
    expect(video.status, await video.clone().text()).toBe(201);
    // Exactly 64 KiB reaches validation: the route refuses the unknown `pad` field or the URL, not the size.
    expect(atLimit.status).not.toBe(413);
    expect(signUpRes.status, await signUpRes.clone().text()).toBe(200);
    expect(streamedSignUp.status, await streamedSignUp.clone().text()).toBe(200);
  });
});
