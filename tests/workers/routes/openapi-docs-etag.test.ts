/**
 * `ETag` / `If-None-Match` on the two video reads, the `/docs` page's HTML and CSP, and a
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
  it("is an HTML shell loading Scalar from this origin's assets, with a strict CSP and nothing from elsewhere", async () => {
    const res = await api("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const directives = new Map(
      res.headers
        .get("content-security-policy")!
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values] as const),
    );
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("connect-src")).toEqual(["'self'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    // <style> elements: this origin and this response's nonce; 'unsafe-inline' only for style attributes.
    const [self, nonceSource, ...more] = directives.get("style-src")!;
    expect([self, more]).toEqual(["'self'", []]);
    const nonce = nonceSource!.match(/^'nonce-([A-Za-z0-9+/]{22}==)'$/)?.[1];
    expect(nonce).toBeDefined();
    expect(directives.get("style-src-attr")).toEqual(["'unsafe-inline'"]);
    expect([...directives.keys()].filter((d) => directives.get(d)!.includes("'unsafe-inline'"))).toEqual(["style-src-attr"]);
    expect([...directives.values()].flat()).not.toContain("'unsafe-eval'");

    const html = await res.text();
    // Scripts: the two asset files in order, plus the configuration element, which is JSON (never run).
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].map(([, attrs = "", body = ""]) => ({ attrs, body }));
    expect(scripts.map((s) => s.attrs.match(/\bsrc="([^"]+)"/)?.[1] ?? null)).toEqual([
      "/docs-assets/setup.js",
      null,
      "/docs-assets/scalar-api-reference.js",
    ]);
    for (const s of scripts) expect(s.body).toBe("");
    expect(scripts[1]!.attrs).toContain('id="api-reference"');
    expect(scripts[1]!.attrs).toContain('type="application/json"');
    expect(scripts[1]!.attrs).toContain('data-url="/openapi.json"');
    const configuration = JSON.parse((scripts[1]!.attrs.match(/data-configuration="([^"]*)"/)?.[1] ?? "").replaceAll("&#34;", '"'));
    expect(configuration).toMatchObject({ withDefaultFonts: false, telemetry: false, agent: { disabled: true } });
    expect(configuration).not.toHaveProperty("proxyUrl");
    // Scalar and web/public/docs-assets/setup.js read the nonce from this meta element.
    expect(html).toContain(`<meta property="csp-nonce" content="${nonce}">`);
    // Nothing from another origin: no absolute or protocol-relative URL, no inline style or handler.
    expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+/i);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);

    // A fresh nonce per response.
    const again = await api("/docs");
    expect(again.headers.get("content-security-policy")).not.toContain(nonce);
    expect(await again.text()).not.toContain(nonce);
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
