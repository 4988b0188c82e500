/**
 * API keys: `POST/GET /v1/api-keys`, `DELETE /v1/api-keys/{id}`, and `/v1` requests authenticated
 * with a key (`Authorization: Bearer vsk_…` or `x-api-key`). Checks what D1 holds (the SHA-256 of the key,
 * never the key), that the key is shown once, owner scoping, revocation, expiry, that a key cannot manage
 * keys, and that the plugin's own HTTP endpoints stay closed.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiKey, ApiKeyList, CreatedApiKey } from "../../../schema/api-keys.ts";
import { apiKey } from "../../../schema/db.ts";
import type { Video } from "../../../schema/api.ts";
import { api, db, signUp } from "../support/env.ts";

type User = Awaited<ReturnType<typeof signUp>>;
let ada: User;
let bob: User;

beforeAll(async () => {
  [ada, bob] = await Promise.all([signUp("ada"), signUp("bob")]);
});

async function createKey(token: string, body: Record<string, unknown> = { name: "ci" }): Promise<CreatedApiKey> {
  const res = await api("/v1/api-keys", { method: "POST", token, json: body });
  if (res.status !== 201) throw new Error(`create key → ${res.status}: ${await res.text()}`);
  return res.json();
}

async function sha256Base64Url(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const listKeys = async (token: string): Promise<ApiKey[]> => {
  const res = await api("/v1/api-keys", { token });
  expect(res.status).toBe(200);
  return ((await res.json()) as ApiKeyList).data;
};

describe("creating a key", () => {
  it("answers the key once, with the vsk_ prefix, and stores only its SHA-256", async () => {
    const created = await createKey(ada.token, { name: "nightly-backup" });
    expect(created.key).toMatch(/^vsk_[A-Za-z]{64}$/);
    expect(created.apiKey).toEqual({
      id: expect.any(String),
      name: "nightly-backup",
      start: created.key.slice(0, 10),
      prefix: "vsk_",
      createdAt: expect.any(String),
      expiresAt: null,
      lastUsedAt: null,
    });

    const [row] = await db.select().from(apiKey).where(eq(apiKey.id, created.apiKey.id));
    expect(row?.referenceId).toBe(ada.userId);
    expect(row?.key).toBe(await sha256Base64Url(created.key));
    // The secret part of the key appears nowhere in the row.
    expect(JSON.stringify(row)).not.toContain(created.key.slice(10));

    // Listing never shows it again.
    const listed = await api("/v1/api-keys", { token: ada.token });
    const text = await listed.text();
    expect(text).not.toContain(created.key.slice(10));
    const entry = (JSON.parse(text) as ApiKeyList).data.find((k) => k.id === created.apiKey.id);
    expect(entry && Object.keys(entry).sort()).toEqual(["createdAt", "expiresAt", "id", "lastUsedAt", "name", "prefix", "start"]);
  });

  it("sets expiresAt from expiresInDays", async () => {
    const before = Date.now();
    const created = await createKey(ada.token, { name: "month", expiresInDays: 30 });
    const expiresAt = Date.parse(created.apiKey.expiresAt!);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000 + 1000);
  });

  it.each([
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "x".repeat(33) }, "name"],
    [{ name: "tab\there" }, "name"],
    [{ name: "ok", expiresInDays: 0 }, "expiresInDays"],
    [{ name: "ok", expiresInDays: 366 }, "expiresInDays"],
    [{ name: "ok", expiresInDays: 1.5 }, "expiresInDays"],
    [{ name: "ok", expiresInDays: "30" }, "expiresInDays"],
  ])("refuses %j with a validation problem on %s", async (body, field) => {
    const res = await api("/v1/api-keys", { method: "POST", token: ada.token, json: body });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { type: string; errors: { path: string }[] };
    expect(problem.type).toBe("https://vidsnap.dev/problems/validation");
    expect(problem.errors.map((e) => e.path)).toContain(field);
  });

  it("needs credentials", async () => {
    const res = await api("/v1/api-keys", { method: "POST", json: { name: "anon" } });
    expect(res.status).toBe(401);
  });
});

describe("authenticating /v1 with a key", () => {
  it("works as Authorization: Bearer and as x-api-key, as the key's owner", async () => {
    const { key } = await createKey(ada.token);
    const created = await api("/v1/videos", {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      json: { filename: "from-a-server.mp4", contentType: "video/mp4", sizeBytes: 100 },
    });
    expect(created.status).toBe(201);
    const { video } = (await created.json()) as { video: Video };

    const viaHeader = await api(`/v1/videos/${video.id}`, { headers: { "x-api-key": key } });
    expect(viaHeader.status).toBe(200);
    // The video is ada's: her session sees it, bob's does not.
    expect((await api(`/v1/videos/${video.id}`, { token: ada.token })).status).toBe(200);
    expect((await api(`/v1/videos/${video.id}`, { token: bob.token })).status).toBe(404);
  });

  it("records the last use", async () => {
    const { key, apiKey: created } = await createKey(ada.token);
    const before = Date.now();
    expect((await api("/v1/videos", { headers: { "x-api-key": key } })).status).toBe(200);
    const listed = (await listKeys(ada.token)).find((k) => k.id === created.id);
    expect(Date.parse(listed!.lastUsedAt!)).toBeGreaterThanOrEqual(before - 1000);
  });

  it.each([
    ["a key of the right shape that was never issued", `vsk_${"A".repeat(64)}`],
    ["a truncated key", "vsk_abc"],
    ["a key with a wrong character", `vsk_${"a".repeat(63)}1`],
    ["a very long value", `vsk_${"a".repeat(10_000)}`],
  ])("refuses %s with 401", async (_name, key) => {
    for (const headers of [{ authorization: `Bearer ${key}` }, { "x-api-key": key }] as Record<string, string>[]) {
      const res = await api("/v1/videos", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await res.json()) as { type: string }).type).toBe("https://vidsnap.dev/problems/unauthorized");
    }
  });

  it("refuses a request carrying both x-api-key and Authorization", async () => {
    const { key } = await createKey(ada.token);
    const res = await api("/v1/videos", { headers: { "x-api-key": key, authorization: `Bearer ${ada.token}` } });
    expect(res.status).toBe(401);
    // Each alone works.
    expect((await api("/v1/videos", { headers: { "x-api-key": key } })).status).toBe(200);
    expect((await api("/v1/videos", { token: ada.token })).status).toBe(200);
  });

  it("refuses an expired key (and the plugin removes it)", async () => {
    const { key, apiKey: created } = await createKey(ada.token, { name: "short", expiresInDays: 1 });
    expect((await api("/v1/videos", { headers: { "x-api-key": key } })).status).toBe(200);
    await db.update(apiKey).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiKey.id, created.id));
    const res = await api("/v1/videos", { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(401);
    expect(await db.select().from(apiKey).where(eq(apiKey.id, created.id))).toEqual([]);
  });
});

describe("revoking a key", () => {
  it("DELETE → 204, the key then gets 401, and a second DELETE 404", async () => {
    const { key, apiKey: created } = await createKey(ada.token);
    expect((await api("/v1/videos", { headers: { "x-api-key": key } })).status).toBe(200);
    const del = await api(`/v1/api-keys/${created.id}`, { method: "DELETE", token: ada.token });
    expect(del.status).toBe(204);
    expect((await api("/v1/videos", { headers: { "x-api-key": key } })).status).toBe(401);
    expect((await api("/v1/videos", { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    expect((await listKeys(ada.token)).some((k) => k.id === created.id)).toBe(false);
    expect((await api(`/v1/api-keys/${created.id}`, { method: "DELETE", token: ada.token })).status).toBe(404);
  });

  it("another user's key id answers 404, like a missing one, and the key keeps working", async () => {
    const { key, apiKey: created } = await createKey(ada.token);
    const other = await api(`/v1/api-keys/${created.id}`, { method: "DELETE", token: bob.token });
    expect(other.status).toBe(404);
    const ghost = await api(`/v1/api-keys/no-such-key`, { method: "DELETE", token: bob.token });
    const strip = (t: string) => ({ ...(JSON.parse(t) as Record<string, unknown>), requestId: "" });
    expect(strip((await other.text()).replaceAll(created.id, "ID"))).toEqual(strip((await ghost.text()).replaceAll("no-such-key", "ID")));
    expect((await api("/v1/videos", { headers: { "x-api-key": key } })).status).toBe(200);
  });

  it("lists only the caller's keys", async () => {
    const mine = await createKey(bob.token, { name: "bob-only" });
    const adaKeys = await listKeys(ada.token);
    const bobKeys = await listKeys(bob.token);
    expect(adaKeys.some((k) => k.id === mine.apiKey.id)).toBe(false);
    expect(bobKeys.map((k) => k.id)).toContain(mine.apiKey.id);
    expect(bobKeys.every((k) => !adaKeys.some((a) => a.id === k.id))).toBe(true);
  });
});

describe("key management needs a session", () => {
  it("an API key cannot create, list or revoke keys (403)", async () => {
    const { key, apiKey: created } = await createKey(ada.token);
    const attempts = [
      api("/v1/api-keys", { method: "POST", headers: { "x-api-key": key }, json: { name: "minted" } }),
      api("/v1/api-keys", { headers: { authorization: `Bearer ${key}` } }),
      api(`/v1/api-keys/${created.id}`, { method: "DELETE", headers: { "x-api-key": key } }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      const body = (await res.json()) as { type: string; detail: string };
      expect(body.type).toBe("https://vidsnap.dev/problems/forbidden");
      expect(JSON.stringify(body)).not.toContain(key);
    }
    // Nothing was minted or revoked.
    const keys = await listKeys(ada.token);
    expect(keys.some((k) => k.name === "minted")).toBe(false);
    expect(keys.some((k) => k.id === created.id)).toBe(true);
  });

  it("the api-key plugin's own HTTP endpoints are closed", async () => {
    const { key } = await createKey(ada.token);
    const calls = [
      api("/api/auth/api-key/create", { method: "POST", token: ada.token, json: { name: "side-door" } }),
      api("/api/auth/api-key/list", { token: ada.token }),
      api("/api/auth/api-key/verify", { method: "POST", json: { key } }),
      api("/api/auth/api-key/update", { method: "POST", token: ada.token, json: { keyId: "x", name: "y" } }),
      api("/api/auth/api-key/delete", { method: "POST", token: ada.token, json: { keyId: "x" } }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(404);
      await res.body?.cancel();
    }
    expect((await listKeys(ada.token)).some((k) => k.name === "side-door")).toBe(false);
  });
});
