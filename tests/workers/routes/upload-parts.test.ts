/**
 * Multipart uploads of large files, against the real SigV4-verifying S3 server of
 * ./global-setup.ts (with S3's multipart checks, tools/stack/s3-multipart-shim.ts). The test config
 * (./vitest.config.mts) sets MULTIPART_THRESHOLD_BYTES = 8 MiB and MULTIPART_PART_SIZE_BYTES = 5 MiB.
 *
 * Covers: PUT below / MULTIPART above the threshold; presigned part URLs → PUT real bytes → ListParts →
 * complete with ETags → QUEUED with the whole object stored, idempotent; missing parts (400), wrong or
 * unknown ETags (409) leave the video completable; owner scoping (404); tampered part URLs (403 from the
 * storage); the upload is aborted when the video is deleted or expired by the stale-upload cron.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type {
  CompletedPart,
  CreateVideoResponse,
  MultipartUploadInstructions,
  Problem,
  StoredParts,
  UploadPartUrls,
  Video,
} from "../../../schema/api.ts";
import { videos } from "../../../schema/db.ts";
import { loadConfig } from "../../../edge-api/src/env.ts";
import { expireStaleUploads } from "../../../edge-api/src/lifecycle/expire-stale-uploads.ts";
import { planMultipartUpload } from "../../../edge-api/src/services/videos/plan-multipart-upload.ts";
import { S3Storage, StorageError } from "../../../edge-api/src/storage/s3.ts";
import { api, db, signUp, testDeps, testEnv } from "../support/env.ts";

const config = loadConfig(testEnv);
const storage = new S3Storage(config.s3);
const MIB = 1024 * 1024;
const PROBLEM = "https://vidsnap.dev/problems/";

let alice: Awaited<ReturnType<typeof signUp>>;
let bob: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  alice = await signUp("alice");
  bob = await signUp("bob");
});

async function expectProblem(res: Response, status: number, kind: string): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Problem;
  expect(body).toMatchObject({ type: PROBLEM + kind, status });
  expect(body.detail).toBeTruthy();
  return body;
}

async function create(token: string, sizeBytes: number): Promise<CreateVideoResponse> {
  const res = await api("/v1/videos", { method: "POST", token, json: { filename: "big.mp4", contentType: "video/mp4", sizeBytes } });
  expect(res.status).toBe(201);
  return (await res.json()) as CreateVideoResponse;
}

async function createMultipart(token: string, sizeBytes: number) {
  const created = await create(token, sizeBytes);
  expect(created.upload.method).toBe("MULTIPART");
  return { video: created.video, upload: created.upload as MultipartUploadInstructions };
}

/** Bytes of part `n` (1-based) of a file of `size` split in parts of `partSize`: filled with `n`. */
function partBytes(size: number, partSize: number, n: number): Uint8Array {
  return new Uint8Array(Math.min(partSize, size - (n - 1) * partSize)).fill(n);
}

async function presign(token: string, id: string, partNumbers: number[]) {
  return api(`/v1/videos/${id}/upload-parts`, { method: "POST", token, json: { partNumbers } });
}

async function partUrls(token: string, id: string, partNumbers: number[]): Promise<UploadPartUrls["parts"]> {
  const res = await presign(token, id, partNumbers);
  expect(res.status).toBe(200);
  return ((await res.json()) as UploadPartUrls).parts;
}

/** PUTs parts and returns their ETags. */
async function putParts(token: string, id: string, size: number, partSize: number, numbers: number[]): Promise<CompletedPart[]> {
  const out: CompletedPart[] = [];
  for (const part of await partUrls(token, id, numbers)) {
    const res = await fetch(part.url, { method: "PUT", headers: part.headers, body: partBytes(size, partSize, part.partNumber) });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    out.push({ partNumber: part.partNumber, etag: etag! });
  }
  return out;
}

function complete(token: string, id: string, parts?: CompletedPart[]) {
  return api(`/v1/videos/${id}/complete`, { method: "POST", token, ...(parts ? { json: { parts } } : {}) });
}

async function rowOf(id: string) {
  const [row] = await db.select().from(videos).where(eq(videos.id, id));
  return row;
}

describe("part geometry", () => {
  it("keeps the preferred part size and raises it past 10,000 parts (whole MiB, ≤ 5 GiB)", () => {
    expect(planMultipartUpload(12 * MIB + 1, 5 * MIB)).toEqual({ partSizeBytes: 5 * MIB, partCount: 3 });
    expect(planMultipartUpload(16 * MIB, 16 * MIB)).toEqual({ partSizeBytes: 16 * MIB, partCount: 1 });
    const big = planMultipartUpload(200 * 1024 * MIB, 16 * MIB); // 200 GiB would need 12,800 parts of 16 MiB
    expect(big.partCount).toBeLessThanOrEqual(10_000);
    expect(big.partSizeBytes % MIB).toBe(0);
    expect(big.partSizeBytes).toBe(21 * MIB);
    expect(() => planMultipartUpload(5 * 1024 * MIB * 10_001, 16 * MIB)).toThrow(RangeError);
  });
});

describe("POST /v1/videos chooses the upload method", () => {
  it("answers a single PUT up to MULTIPART_THRESHOLD_BYTES and a multipart upload above it", async () => {
    const small = await create(alice.token, 8 * MIB);
    expect(small.upload).toMatchObject({ method: "PUT", headers: { "content-length": String(8 * MIB) } });
    expect((await rowOf(small.video.id))!.uploadId).toBeNull();

    const before = Date.now();
    const { video, upload } = await createMultipart(alice.token, 8 * MIB + 1);
    expect(upload).toEqual({ method: "MULTIPART", partSizeBytes: 5 * MIB, partCount: 2, expiresAt: expect.any(String) });
    const ttlMs = Date.parse(upload.expiresAt) - before;
    expect(ttlMs).toBeGreaterThan(config.uploadPendingTtlSeconds * 1000 - 5_000);
    expect(ttlMs).toBeLessThanOrEqual(config.uploadPendingTtlSeconds * 1000 + 5_000);
    expect(video.status).toBe("VIDEO_UPLOAD_PENDING");
    expect((await rowOf(video.id))!).toMatchObject({ uploadPartSizeBytes: 5 * MIB, uploadId: expect.any(String) });
  });

  it("documents both shapes as one discriminated union in the OpenAPI document", async () => {
    const doc = (await (await api("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { oneOf?: unknown[]; discriminator?: { propertyName: string } }> };
    };
    expect(doc.components.schemas.VideoUpload!.oneOf).toHaveLength(2);
    expect(doc.components.schemas.VideoUpload!.discriminator?.propertyName).toBe("method");
    expect(doc.paths["/v1/videos/{id}/upload-parts"]).toHaveProperty("post");
    expect(doc.paths["/v1/videos/{id}/upload-parts"]).toHaveProperty("get");
  });
});

describe("multipart upload end to end", () => {
  it("presign → PUT parts → list → complete with ETags → QUEUED, the whole object stored; idempotent", async () => {
    const size = 12 * MIB + 1234;
    const { video, upload } = await createMultipart(alice.token, size);
    expect(upload.partCount).toBe(3);

    const urls = await partUrls(alice.token, video.id, [3, 1, 2, 1]);
    expect(urls.map((u) => u.partNumber)).toEqual([1, 2, 3]); // ascending, duplicates once
    expect(urls.map((u) => u.headers["content-length"])).toEqual([String(5 * MIB), String(5 * MIB), String(2 * MIB + 1234)]);
    const url = new URL(urls[0]!.url);
    expect(url.searchParams.get("partNumber")).toBe("1");
    expect(url.searchParams.get("uploadId")).toBe((await rowOf(video.id))!.uploadId);
    expect(Number(url.searchParams.get("X-Amz-Expires"))).toBe(config.uploadUrlTtlSeconds);

    const parts = await putParts(alice.token, video.id, size, upload.partSizeBytes, [1, 2, 3]);

    const listed = await api(`/v1/videos/${video.id}/upload-parts`, { token: alice.token });
    expect(listed.status).toBe(200);
    expect((await listed.json()) as StoredParts).toEqual({
      partSizeBytes: 5 * MIB,
      partCount: 3,
      parts: parts.map((p, i) => ({ ...p, sizeBytes: i < 2 ? 5 * MIB : 2 * MIB + 1234 })),
    });

    const done = await complete(alice.token, video.id, parts);
    expect(done.status).toBe(202);
    expect(((await done.json()) as { video: Video }).video).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1 });
    expect(await storage.headObject(config.videosBucket, (await rowOf(video.id))!.sourceKey)).toMatchObject({ sizeBytes: size });
    expect((await rowOf(video.id))!.uploadId).toBeNull();

    // Idempotent: the same call answers the current state; part routes are closed.
    const again = await complete(alice.token, video.id, parts);
    expect(again.status).toBe(202);
    expect(((await again.json()) as { video: Video }).video.attempt).toBe(1);
    await expectProblem(await presign(alice.token, video.id, [1]), 409, "conflict");
    await expectProblem(await api(`/v1/videos/${video.id}/upload-parts`, { token: alice.token }), 409, "conflict");
  });

  it("missing parts → 400, wrong or unknown ETags → 409; nothing lost, the video stays completable", async () => {
    const size = 10 * MIB + 10;
    const { video, upload } = await createMultipart(alice.token, size);
    const parts = await putParts(alice.token, video.id, size, upload.partSizeBytes, [1, 2, 3]);

    await expectProblem(await complete(alice.token, video.id), 400, "bad-request");
    const missing = await expectProblem(await complete(alice.token, video.id, parts.slice(0, 2)), 400, "bad-request");
    expect(missing.detail).toContain("3");
    await expectProblem(await complete(alice.token, video.id, [...parts, { partNumber: 4, etag: parts[0]!.etag }]), 400, "bad-request");
    await expectProblem(
      await complete(alice.token, video.id, [parts[0]!, { partNumber: 2, etag: parts[0]!.etag }, parts[2]!]),
      409,
      "upload-parts-invalid",
    );
    const invalid = await api(`/v1/videos/${video.id}/complete`, {
      method: "POST",
      token: alice.token,
      json: { parts: [{ partNumber: 0, etag: "x" }] },
    });
    expect(invalid.status).toBe(400);

    expect((await rowOf(video.id))!).toMatchObject({ status: "VIDEO_UPLOAD_PENDING", uploadId: expect.any(String) });
    const done = await complete(alice.token, video.id, parts);
    expect(done.status).toBe(202);
  });

  it("a part never uploaded makes complete 409 until it is PUT", async () => {
    const size = 10 * MIB + 1;
    const { video, upload } = await createMultipart(alice.token, size);
    const parts = await putParts(alice.token, video.id, size, upload.partSizeBytes, [1, 3]);
    const guessed = [parts[0]!, { partNumber: 2, etag: parts[0]!.etag }, parts[1]!];
    await expectProblem(await complete(alice.token, video.id, guessed), 409, "upload-parts-invalid");
    const [second] = await putParts(alice.token, video.id, size, upload.partSizeBytes, [2]);
    expect((await complete(alice.token, video.id, [parts[0]!, second!, parts[1]!])).status).toBe(202);
  });
});

describe("scoping and refusals", () => {
  it("another user's video answers 404 on every multipart route", async () => {
    const { video } = await createMultipart(alice.token, 9 * MIB);
    await expectProblem(await presign(bob.token, video.id, [1]), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${video.id}/upload-parts`, { token: bob.token }), 404, "not-found");
    await expectProblem(await complete(bob.token, video.id, [{ partNumber: 1, etag: '"x"' }]), 404, "not-found");
    expect((await presign(alice.token, video.id, [1])).status).toBe(200);
  });

  it("refuses part numbers outside 1..partCount, over 100 per call, and single-PUT videos", async () => {
    const { video } = await createMultipart(alice.token, 9 * MIB);
    await expectProblem(await presign(alice.token, video.id, [3]), 400, "bad-request");
    expect((await presign(alice.token, video.id, [0])).status).toBe(400);
    expect((await presign(alice.token, video.id, Array.from({ length: 101 }, () => 1))).status).toBe(400);
    expect((await presign(alice.token, video.id, [])).status).toBe(400);
    const single = await create(alice.token, 1000);
    await expectProblem(await presign(alice.token, single.video.id, [1]), 409, "conflict");
    await expectProblem(await api(`/v1/videos/${single.video.id}/upload-parts`, { token: alice.token }), 409, "conflict");
  });

  it("the storage refuses a part URL for another upload, another part number or another size (403)", async () => {
    const size = 9 * MIB;
    const a = await createMultipart(alice.token, size);
    const b = await createMultipart(alice.token, size);
    const [part] = await partUrls(alice.token, a.video.id, [1]);
    const body = partBytes(size, 5 * MIB, 1);
    const put = async (url: URL | string, b2: Uint8Array = body) => {
      const res = await fetch(url, { method: "PUT", headers: { "content-length": String(b2.byteLength) }, body: b2 });
      await res.body?.cancel();
      return res.status;
    };

    const otherUpload = new URL(part!.url);
    otherUpload.searchParams.set("uploadId", (await rowOf(b.video.id))!.uploadId!);
    expect(await put(otherUpload)).toBe(403);
    const otherPart = new URL(part!.url);
    otherPart.searchParams.set("partNumber", "2");
    expect(await put(otherPart)).toBe(403);
    const tampered = new URL(part!.url);
    tampered.searchParams.set("X-Amz-Signature", "0".repeat(64));
    expect(await put(tampered)).toBe(403);
    expect(await put(part!.url, new Uint8Array(5 * MIB - 1))).toBe(403);
    expect(await put(part!.url)).toBe(200);
  });
});

describe("abandoned uploads are aborted", () => {
  it("deleting the video aborts its multipart upload (parts gone, part URLs refused)", async () => {
    const size = 9 * MIB;
    const { video, upload } = await createMultipart(alice.token, size);
    await putParts(alice.token, video.id, size, upload.partSizeBytes, [1]);
    const row = (await rowOf(video.id))!;
    expect(await storage.listParts(config.videosBucket, row.sourceKey, row.uploadId!)).toHaveLength(1);
    const [url] = await partUrls(alice.token, video.id, [2]);

    expect((await api(`/v1/videos/${video.id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    const gone = await storage.listParts(config.videosBucket, row.sourceKey, row.uploadId!).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(StorageError);
    expect((gone as StorageError).code).toBe("NoSuchUpload");
    const late = await fetch(url!.url, { method: "PUT", headers: url!.headers, body: partBytes(size, 5 * MIB, 2) });
    await late.body?.cancel();
    expect(late.status).toBe(404);
    // Aborting twice is fine (NoSuchUpload counts as done).
    await storage.abortMultipartUpload(config.videosBucket, row.sourceKey, row.uploadId!);
  });

  it("the stale-upload cron aborts the multipart upload of an expired video", async () => {
    const size = 9 * MIB;
    const { video, upload } = await createMultipart(alice.token, size);
    await putParts(alice.token, video.id, size, upload.partSizeBytes, [1, 2]);
    const row = (await rowOf(video.id))!;
    await db
      .update(videos)
      .set({ createdAt: new Date(Date.now() - (config.uploadPendingTtlSeconds + 60) * 1000) })
      .where(eq(videos.id, video.id));

    const deps = testDeps();
    const result = await expireStaleUploads(deps, { now: new Date() });
    expect(result).toEqual({ expired: 1, purgeFailed: 0 });
    expect(await rowOf(video.id)).toBeUndefined();
    const gone = await storage.listParts(config.videosBucket, row.sourceKey, row.uploadId!).catch((e: unknown) => e);
    expect((gone as StorageError).code).toBe("NoSuchUpload");
  });
});
