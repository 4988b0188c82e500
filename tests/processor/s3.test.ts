/**
 * The S3 module's URL helpers (ffmpeg-container/src/s3.ts). The ffmpeg binary lookup: ffmpeg/binaries.test.ts.
 */
import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { createStorage, objectUrl, OUT_OF_SCOPE_MESSAGE, presignGetUrl } from "../../ffmpeg-container/src/s3.ts";
import type { StorageCredential } from "../../schema/storage-credentials.ts";

describe("S3 URLs", () => {
  const s3 = { endpoint: "http://127.0.0.1:4569", region: "us-east-1", forcePathStyle: true };
  const key = { accessKeyId: "AK", secretAccessKey: "SK", sessionToken: "session-token" };

  it("objectUrl: path style and virtual-hosted style, key segments encoded", () => {
    expect(objectUrl(s3, "b", "users/a b/x(1)").toString()).toBe("http://127.0.0.1:4569/b/users/a%20b/x%281%29");
    expect(objectUrl({ ...s3, endpoint: "https://acc.r2.example.com", forcePathStyle: false }, "b", "k/1").toString()).toBe(
      "https://b.acc.r2.example.com/k/1",
    );
  });

  it("presignGetUrl signs in the query with the clamped expiry and the credential's session token", async () => {
    const url = new URL(await presignGetUrl(s3, key, "b", "users/u/videos/v/source", 10_000_000));
    expect(url.pathname).toBe("/b/users/u/videos/v/source");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("604800");
    expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("session-token");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^AK\//);
  });
});

describe("a job's storage", () => {
  const s3 = { endpoint: "http://127.0.0.1:9", region: "us-east-1", forcePathStyle: true };
  const cred = (scope: Omit<StorageCredential, "accessKeyId" | "secretAccessKey" | "sessionToken" | "expiresAt">, id: string): StorageCredential => ({
    ...scope,
    accessKeyId: id,
    secretAccessKey: `${id}-secret`,
    sessionToken: `${id}-token`,
    expiresAt: 2_000_000_000,
  });
  const storage = createStorage(s3, {
    read: cred({ bucket: "videos", permission: "object-read-only", objects: ["users/u/videos/v/source"] }, "READ"),
    write: cred({ bucket: "images", permission: "object-read-write", prefixes: ["users/u/videos/v/attempts/1/"] }, "WRITE"),
  });

  it("signs each call with the credential naming the object; refuses, before any request, what none names", async () => {
    const credentialOf = async (p: Promise<string>) => new URL(await p).searchParams.get("X-Amz-Credential")!.split("/")[0];
    expect(await credentialOf(storage.presignGet("videos", "users/u/videos/v/source", 60))).toBe("READ");
    expect(await credentialOf(storage.presignGet("images", "users/u/videos/v/attempts/1/images.zip", 60))).toBe("WRITE");
    const signal = new AbortController().signal;
    await expect(storage.presignGet("videos", "users/u/videos/OTHER/source", 60)).rejects.toThrow(OUT_OF_SCOPE_MESSAGE);
    await expect(storage.put("videos", "users/u/videos/v/source", "x", "text/plain", signal)).rejects.toThrow(OUT_OF_SCOPE_MESSAGE);
    await expect(storage.deleteKeys("images", ["users/u/videos/v/attempts/2/images.zip"], signal)).rejects.toThrow(OUT_OF_SCOPE_MESSAGE);
    expect(() => storage.uploadStream("images", "users/u/videos/v/attempts/2/x", Readable.from([]), "text/plain")).toThrow(OUT_OF_SCOPE_MESSAGE);
    storage.destroy();
  });
});
