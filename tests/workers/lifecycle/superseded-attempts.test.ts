/**
 * Outputs of superseded attempts (edge-api/src/lifecycle/record-event.ts): a processor killed after it
 * stored attempt 1's archive but before its SUCCESS, then a recovery as attempt 2, must not leave attempt
 * 1's archive beside attempt 2's. When attempt N ends, the archive and manifest of attempts 1..N−1 are
 * deleted, and so is the output of a late SUCCESS of an older attempt; the current attempt's is never touched.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { videos } from "../../../schema/db.ts";
import { archiveObjectKey, manifestObjectKey } from "../../../schema/object-keys.ts";
import type { ExtractSnapshotEvent } from "../../../schema/messages/index.ts";
import { loadConfig } from "../../../edge-api/src/env.ts";
import { extractJob } from "../../../edge-api/src/lifecycle/extract-job.ts";
import { recordEvent } from "../../../edge-api/src/lifecycle/record-event.ts";
import { S3Storage } from "../../../edge-api/src/storage/s3.ts";
import { db, insertVideo, processorEvent, signUp, testDeps, testEnv } from "../support/env.ts";

const config = loadConfig(testEnv);
const deps = () => testDeps();
const s3 = new S3Storage(config.s3);

/** Stores a small object in the images bucket through a presigned PUT. */
async function put(key: string): Promise<void> {
  const body = new TextEncoder().encode("zip");
  const url = await s3.presignPut({ bucket: config.imagesBucket, key, contentType: "application/zip", contentLength: body.length, ttlSeconds: 60 });
  const res = await fetch(url.url, { method: "PUT", headers: url.headers, body });
  expect(res.status).toBe(200);
}
const exists = async (key: string) => (await s3.headObject(config.imagesBucket, key)) !== null;
const outputOf = (userId: string, id: string, attempt: number) => [archiveObjectKey(userId, id, attempt), manifestObjectKey(userId, id, attempt)];

let owner: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  owner = await signUp("superseded");
});

describe("output of superseded attempts", () => {
  it("attempt 2's SUCCESS deletes attempt 1's archive and manifest and keeps its own", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 2 });
    for (const key of [...outputOf(owner.userId, id, 1), ...outputOf(owner.userId, id, 2)]) await put(key);

    const outcome = await recordEvent(
      deps(),
      extractJob,
      processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: id, userId: owner.userId, attempt: 2 }) as ExtractSnapshotEvent,
    );

    expect(outcome.result).toBe("applied");
    for (const key of outputOf(owner.userId, id, 1)) expect(await exists(key), key).toBe(false);
    for (const key of outputOf(owner.userId, id, 2)) expect(await exists(key), key).toBe(true);
  });

  it("a late SUCCESS of attempt 1 deletes attempt 1's output only; the record does not change", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 2 });
    for (const key of [...outputOf(owner.userId, id, 1), ...outputOf(owner.userId, id, 2)]) await put(key);

    const outcome = await recordEvent(
      deps(),
      extractJob,
      processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: id, userId: owner.userId, attempt: 1 }) as ExtractSnapshotEvent,
    );

    expect(outcome.result).toBe("ignored");
    const [row] = await db.select().from(videos).where(eq(videos.id, id));
    expect(row!.status).toBe("VIDEO_IMAGE_EXTRACTION_PROCESSING");
    for (const key of outputOf(owner.userId, id, 1)) expect(await exists(key), key).toBe(false);
    for (const key of outputOf(owner.userId, id, 2)) expect(await exists(key), key).toBe(true);
  });

  it("a redelivered SUCCESS of the current attempt keeps its output", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1 });
    for (const key of outputOf(owner.userId, id, 1)) await put(key);
    const event = processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: id, userId: owner.userId, attempt: 1 }) as ExtractSnapshotEvent;
    expect((await recordEvent(deps(), extractJob, event)).result).toBe("applied");
    expect((await recordEvent(deps(), extractJob, event)).result).toBe("redelivered");
    for (const key of outputOf(owner.userId, id, 1)) expect(await exists(key), key).toBe(true);
  });
});
