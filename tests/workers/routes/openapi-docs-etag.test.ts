/**
 * `ETag` / `If-None-Match` on the two video reads, the script-free `/docs` page, and a
 * guard that every `/v1` route registered in the app is in `/openapi.json`.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../edge-api/src/app.ts";
import { videos } from "../../../schema/db.ts";
import { api, db, insertVideo, signUp } from "../support/env.ts";

type OpenApiDoc = { paths: Record<string, Record<string, unknown>> };
const openapi = async () => (await (await api("/openapi.json")).json()) as OpenApiDoc;

describe("ETag / If-None-Match on video reads", () => {
  let alice: { token: string; userId: string };
  let bob: { token: string; userId: string };
  beforeAll(async () => {
    alice = await signUp("alice-etag");
    bob = await signUp("bob-etag");
  });

  for (const kind of ["one video", "the list"] as const) {
    it(`${kind}: 200 with an ETag, 304 on If-None-Match, a new ETag after a state change`, async () => {
      const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED" });
      const path = kind === "one video" ? `/v1/videos/${id}` : "/v1/videos";

      const first = await api(path, { token: alice.token });
      expect(first.status).toBe(200);
      const tag = first.headers.get("etag");
      expect(tag).toMatch(/^(W\/)?"[0-9a-f]{64}"$/);
      await first.arrayBuffer();

      const again = await api(path, { token: alice.token, headers: { "if-none-match": tag! } });
      expect(again.status).toBe(304);
      expect(again.headers.get("etag")).toBe(tag);
      expect(await again.text()).toBe("");

      await db
        .update(videos)
        .set({ status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", updatedAt: new Date(Date.now() + 1000) })
        .where(eq(videos.id, id));
      const changed = await api(path, { token: alice.token, headers: { "if-none-match": tag! } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get("etag")).toBeTruthy();
      expect(changed.headers.get("etag")).not.toBe(tag);
      await changed.arrayBuffer();
    });
  }

  it("another user's id stays 404 even with the owner's ETag", async () => {
    const id = await insertVideo(alice.userId);
    const owner = await api(`/v1/videos/${id}`, { token: alice.token });
    const tag = owner.headers.get("etag")!;
    await owner.arrayBuffer();
    const res = await api(`/v1/videos/${id}`, { token: bob.token, headers: { "if-none-match": tag } });
    expect(res.status).toBe(404);
    expect(res.headers.get("etag")).toBeNull();
    await res.arrayBuffer();
    const star = await api(`/v1/videos/${id}`, { token: bob.token, headers: { "if-none-match": "*" } });
    expect(star.status).toBe(404);
    await star.arrayBuffer();
  });
});

describe("GET /docs", () => {
  it("is a script-free HTML page listing every operation of /openapi.json, with an inline-styles-only CSP", async () => {
    const res = await api("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'unsafe-inline'");
    expect(csp).not.toContain("script-src");
    const html = await res.text();
    expect(html.toLowerCase()).not.toContain("<script");
    const doc = await openapi();
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(html).toContain(`<code>${path}</code>`);
      for (const method of Object.keys(item)) {
        expect(html).toContain(`<span class="m">${method.toUpperCase()}</span> <code>${path}</code>`);
      }
    }
    expect(html).toContain("CreateVideoRequest");
  });

  it("other responses keep the API's default CSP", async () => {
    const res = await api("/openapi.json");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    await res.arrayBuffer();
  });
});

describe("the OpenAPI document covers the app", () => {
  it("every /v1 route registered in the app is in /openapi.json with its method", async () => {
    const doc = await openapi();
    const registered = createApp()
      .routes.filter((r) => r.path.startsWith("/v1/") && r.method !== "ALL")
      .map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}") }));
    expect(registered.length).toBeGreaterThanOrEqual(8);
    const missing = registered.filter((r) => !doc.paths[r.path]?.[r.method]).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });
});
