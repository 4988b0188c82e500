/**
 * The app around the routes: better-auth sign-up/sign-in, request ids, CORS, the OpenAPI document,
 * unknown routes, env validation (fail closed), and the small pure modules (cursors,
 * allow-list, content disposition).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../edge-api/src/env.ts";
import worker from "../../edge-api/src/index.ts";
import { checkVideoType } from "../../edge-api/src/services/videos/check-video-type.ts";
import { decodeCursor, encodeCursor } from "../../edge-api/src/services/videos/list-videos.ts";
import { zipContentDisposition } from "../../edge-api/src/storage/s3.ts";
import { DEFAULT_VIDEO_TYPES } from "../../schema/video-types.ts";
import { api, BASE, checkConfig, remoteSecrets, testEnv } from "./support/env.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("better-auth at /api/auth", () => {
  it("sign-up answers no session (the same answer for a taken address); sign-in answers a bearer token in set-auth-token that opens /v1", async () => {
    const email = `dora-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const up = await api("/api/auth/sign-up/email", { method: "POST", json: { email, password: "a-long-password", name: "Dora" } });
    expect(up.status).toBe(200);
    expect(up.headers.get("set-auth-token")).toBeNull();

    const wrong = await api("/api/auth/sign-in/email", { method: "POST", json: { email, password: "not-the-password" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-auth-token")).toBeNull();

    const signIn = await api("/api/auth/sign-in/email", { method: "POST", json: { email, password: "a-long-password" } });
    expect(signIn.status).toBe(200);
    const token = signIn.headers.get("set-auth-token")!;
    expect(token).toBeTruthy();
    const list = await api("/v1/videos", { token });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ data: [], nextCursor: null });

    const session = await api("/api/auth/get-session", { token });
    expect(((await session.json()) as { user: { email: string } }).user.email).toBe(email);

    const signOut = await api("/api/auth/sign-out", { method: "POST", token });
    expect(signOut.status).toBe(200);
    expect((await api("/v1/videos", { token })).status).toBe(401);
  });

  it("accepts API clients that send Fetch Metadata without Origin (Node fetch) and still refuses foreign origins", async () => {
    const email = `node-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const body = { email, password: "a-long-password", name: "Node client" };
    // undici (Node's fetch) adds `sec-fetch-mode: cors` to every request and sends no Origin.
    const nodeClient = await api("/api/auth/sign-up/email", { method: "POST", json: body, headers: { "sec-fetch-mode": "cors" } });
    expect(nodeClient.status).toBe(200);
    const nodeSignIn = await api("/api/auth/sign-in/email", {
      method: "POST",
      json: { email, password: body.password },
      headers: { "sec-fetch-mode": "cors" },
    });
    expect(nodeSignIn.status).toBe(200);
    expect(nodeSignIn.headers.get("set-auth-token")).toBeTruthy();

    const foreign = await api("/api/auth/sign-in/email", {
      method: "POST",
      json: { email, password: body.password },
      headers: { "sec-fetch-mode": "cors", "sec-fetch-site": "cross-site", origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("set-auth-token")).toBeNull();
  });

  it("refuses passwords shorter than 10 characters", async () => {
    const res = await api("/api/auth/sign-up/email", {
      method: "POST",
      json: { email: `short-${crypto.randomUUID().slice(0, 8)}@example.com`, password: "123456789", name: "S" },
    });
    expect(res.status).toBe(400);
  });
});

describe("request ids, CORS, documents", () => {
  it("echoes a valid x-request-id and generates one otherwise", async () => {
    const given = await api("/healthz", { headers: { "x-request-id": "client-req-42" } });
    expect(given.headers.get("x-request-id")).toBe("client-req-42");
    const generated = await api("/healthz", { headers: { "x-request-id": "bad id with spaces" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await api("/v1/videos", { headers: { "x-request-id": "trace-7" } });
    expect(((await problem.json()) as { requestId: string }).requestId).toBe("trace-7");
  });

  it("allows CORS only for PUBLIC_BASE_URL and TRUSTED_ORIGINS", async () => {
    const preflight = (origin: string) =>
      api("/v1/videos", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
      });
    const ok = await preflight(BASE);
    expect(ok.headers.get("access-control-allow-origin")).toBe(BASE);
    expect(ok.headers.get("access-control-allow-headers")).toContain("authorization");
    const evil = await preflight("https://evil.example");
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();

    const ctx = createExecutionContext();
    const trusted = await worker.fetch(
      new Request(`${BASE}/healthz`, { headers: { origin: "https://app.example" } }),
      { ...testEnv, TRUSTED_ORIGINS: "https://app.example, https://other.example/" },
      ctx,
    );
    expect(trusted.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(trusted.headers.get("access-control-expose-headers")).toContain("set-auth-token");
  });

  it("serves the OpenAPI 3.1 document with the API schemas", async () => {
    const res = await api("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/healthz",
      "/v1/api-keys",
      "/v1/api-keys/{id}",
      "/v1/generations",
      "/v1/generations/{id}/callback",
      "/v1/generators",
      "/v1/generators/{id}",
      "/v1/generators/{id}/rotate-secret",
      "/v1/stats",
      "/v1/videos",
      "/v1/videos/{id}",
      "/v1/videos/{id}/animated.gif",
      "/v1/videos/{id}/animated.webp",
      "/v1/videos/{id}/complete",
      "/v1/videos/{id}/events",
      "/v1/videos/{id}/image-urls",
      "/v1/videos/{id}/images",
      "/v1/videos/{id}/images.zip",
      "/v1/videos/{id}/retry",
      "/v1/videos/{id}/storyboard.jpg",
      "/v1/videos/{id}/storyboard.json",
      "/v1/videos/{id}/storyboard.vtt",
      "/v1/videos/{id}/storyboard.webp",
      "/v1/videos/{id}/thumbnail.jpg",
      "/v1/videos/{id}/thumbnail.png",
      "/v1/videos/{id}/thumbnail.webp",
      "/v1/videos/{id}/transcodes",
      "/v1/videos/{id}/transcodes/{tid}",
      "/v1/videos/{id}/transcodes/{tid}/hls/{height}/index.m3u8",
      "/v1/videos/{id}/transcodes/{tid}/master.m3u8",
      "/v1/videos/{id}/transcodes/{tid}/retry",
      "/v1/videos/{id}/upload-parts",
      "/v1/webhooks",
      "/v1/webhooks/{id}",
      "/v1/webhooks/{id}/deliveries",
      "/v1/webhooks/{id}/rotate-secret",
      "/v1/webhooks/{id}/test",
    ]);
    expect(Object.keys(doc.paths["/v1/videos"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/videos/{id}"]!).sort()).toEqual(["delete", "get"]);
    for (const name of ["Video", "VideoList", "UploadInstructions", "ImageList", "Problem", "CreateVideoRequest", "ExtractionOptions", "Transcode", "TranscodeRequest", "TranscodeList", "VideoEvent", "VideoEventList"]) {
      expect(doc.components.schemas).toHaveProperty(name);
    }
    expect(doc.components.securitySchemes).toHaveProperty("bearerAuth");
  });

  it("answers unknown routes with a 404 problem", async () => {
    const res = await api("/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ type: "https://vidsnap.dev/problems/not-found", status: 404 });
  });
});

describe("env validation (fail closed)", () => {
  const call = async (env: Env) => worker.fetch(new Request(`${BASE}/healthz`), env, createExecutionContext());

  it("outside local, missing secrets make every request a 500 problem and are logged by name only", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await call({ ...testEnv, ENVIRONMENT: "production", S3_SECRET_ACCESS_KEY: "super-secret-value" });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ type: "https://vidsnap.dev/problems/server-misconfigured", status: 500 });
    const line = logged.mock.calls.map((c) => String(c[0])).join("\n");
    expect(line).toContain("BETTER_AUTH_SECRET: required when ENVIRONMENT=production");
    expect(line).toContain("S3_ACCESS_KEY_ID");
    expect(line).toContain("R2_PARENT_API_TOKEN: required when ENVIRONMENT=production");
    expect(line).not.toContain("S3_SECRET_ACCESS_KEY");
    expect(line).not.toContain("super-secret-value");
  });

  it("refuses the local S3 account and a short auth secret outside local", () => {
    const result = checkConfig({
      ...testEnv,
      ENVIRONMENT: "staging",
      BETTER_AUTH_SECRET: "short",
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      R2_ACCOUNT_ID: "local-account",
      R2_PARENT_API_TOKEN: "local-r2-api-token",
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toEqual(
        expect.arrayContaining([
          "BETTER_AUTH_SECRET: must be at least 32 characters",
          "S3_ACCESS_KEY_ID: local development value refused outside ENVIRONMENT=local",
          "S3_SECRET_ACCESS_KEY: local development value refused outside ENVIRONMENT=local",
          "R2_ACCOUNT_ID: local development value refused outside ENVIRONMENT=local",
          "R2_PARENT_API_TOKEN: local development value refused outside ENVIRONMENT=local",
        ]),
      );
    }
  });

  it("accepts a complete production env", async () => {
    const env = {
      ...testEnv,
      ...remoteSecrets,
      ENVIRONMENT: "production",
    };
    const res = await call(env);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, environment: "production" });
  });

  it("validates numbers, TTL caps, the allow-list override and trusted origins", () => {
    const defaults = checkConfig(testEnv);
    expect(defaults.ok && defaults.config).toMatchObject({
      maxUploadBytes: 104_857_600,
      uploadUrlTtlSeconds: 900,
      downloadUrlTtlSeconds: 3600,
      emailLinkTtlSeconds: 604_800,
      trustedOrigins: [],
      s3: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    const unset = checkConfig({ ...testEnv, MAX_UPLOAD_BYTES: undefined, UPLOAD_URL_TTL_SECONDS: "", LOG_LEVEL: undefined });
    expect(unset.ok && [unset.config.maxUploadBytes, unset.config.uploadUrlTtlSeconds, unset.config.logLevel]).toEqual([104_857_600, 900, "info"]);
    expect(checkConfig({ ...testEnv, MAX_UPLOAD_BYTES: "ten" }).ok).toBe(false);
    expect(checkConfig({ ...testEnv, ENVIRONMENT: "dev" }).ok).toBe(false);
    const tooLong = checkConfig({ ...testEnv, EMAIL_LINK_TTL_SECONDS: "604801" });
    expect(tooLong.ok).toBe(false);
    const custom = checkConfig({ ...testEnv, ALLOWED_VIDEO_TYPES: "mp4=video/mp4", TRUSTED_ORIGINS: "https://a.example/, https://b.example" });
    expect(custom.ok && custom.config.videoTypes).toEqual({ mp4: ["video/mp4"] });
    expect(custom.ok && custom.config.trustedOrigins).toEqual(["https://a.example", "https://b.example"]);
    const badTypes = checkConfig({ ...testEnv, ALLOWED_VIDEO_TYPES: "mp4=" });
    expect(badTypes.ok).toBe(false);
    const noProcessor = checkConfig({ ...testEnv, PROCESSOR: undefined });
    expect(noProcessor.ok || noProcessor.problems).toEqual([
      "PROCESSOR: the Durable Object binding of ProcessorContainer is required (wrangler.toml)",
    ]);
  });

  it("requires PROCESSOR_SHARED_SECRET (≥ 32 characters) in every environment", () => {
    for (const ENVIRONMENT of ["local", "production"]) {
      const missing = checkConfig({ ...testEnv, ENVIRONMENT, PROCESSOR_SHARED_SECRET: "" });
      expect(missing.ok || missing.problems.some((p) => p.startsWith("PROCESSOR_SHARED_SECRET"))).toBe(true);
      expect(missing.ok).toBe(false);
    }
    const short = checkConfig({ ...testEnv, PROCESSOR_SHARED_SECRET: "short" });
    expect(short.ok).toBe(false);
    const ok = checkConfig(testEnv);
    expect(ok.ok && ok.config.processorSharedSecret).toBe(testEnv.PROCESSOR_SHARED_SECRET);
  });

  it("the queue handler retries the whole batch while misconfigured", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const batch = createMessageBatch("vidsnap-events", [{ id: "m1", timestamp: new Date(), attempts: 1, body: {} }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...testEnv, ENVIRONMENT: "production" }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
  });
});

describe("pure rules", () => {
  it("cursors round-trip and refuse tampering", () => {
    const cursor = encodeCursor({ c: 1_700_000_000_123, i: "abc" });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ c: 1_700_000_000_123, i: "abc" });
    expect(() => decodeCursor("%%%")).toThrow();
    expect(() => decodeCursor(encodeCursor({ c: 1, i: "x" }).slice(0, -3))).toThrow();
  });

  it("allow-list and download names", () => {
    expect(checkVideoType("a.OGG", "application/ogg", DEFAULT_VIDEO_TYPES)).toBe("application/ogg");
    expect(checkVideoType("a.m4v", "video/mp4", DEFAULT_VIDEO_TYPES)).toBe("video/mp4");
    expect(() => checkVideoType("a.gif", "image/gif", DEFAULT_VIDEO_TYPES)).toThrow(/not accepted/);
    expect(zipContentDisposition("My \"clip\".final.mp4")).toBe('attachment; filename="My _clip_.final-images.zip"');
    expect(zipContentDisposition("Ünïcode.webm")).toBe('attachment; filename="_n_code-images.zip"');
    expect(zipContentDisposition(".mp4")).toBe('attachment; filename=".mp4-images.zip"');
  });
});
