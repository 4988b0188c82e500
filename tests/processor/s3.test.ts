/**
 * The S3 module's URL helpers (ffmpeg-container/src/s3.ts). The ffmpeg binary lookup: ffmpeg/binaries.test.ts.
 */
import { describe, expect, it } from "vitest";
import { objectUrl, presignGetUrl } from "../../ffmpeg-container/src/s3.ts";

describe("S3 URLs", () => {
  const s3 = { endpoint: "http://127.0.0.1:4569", region: "us-east-1", accessKeyId: "AK", secretAccessKey: "SK", forcePathStyle: true };

  it("objectUrl: path style and virtual-hosted style, key segments encoded", () => {
    expect(objectUrl(s3, "b", "users/a b/x(1)").toString()).toBe("http://127.0.0.1:4569/b/users/a%20b/x%281%29");
    expect(objectUrl({ ...s3, endpoint: "https://acc.r2.example.com", forcePathStyle: false }, "b", "k/1").toString()).toBe(
      "https://b.acc.r2.example.com/k/1",
    );
  });

  it("presignGetUrl signs in the query with the clamped expiry", async () => {
    const url = new URL(await presignGetUrl(s3, "b", "users/u/videos/v/source", 10_000_000));
    expect(url.pathname).toBe("/b/users/u/videos/v/source");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("604800");
    expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });
});
