/**
 * Unreadable sources end in one ERROR event with a clear sentence, no secret in the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFinalExtractEvent } from "../../../schema/messages/extract-snapshot.ts";
import { archiveObjectKey, manifestObjectKey } from "../../../schema/object-keys.ts";
import { type Harness, jobMessage, leftoverTempFiles, mintedCredentialSecrets, objectExists, postJob, startHarness, testVideo, uploadSource, USER_ID } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Posts a job for `videoId` and returns its single ERROR payload after checking the event sequence. */
async function expectJobError(baseUrl: string, videoId: string, attempt = 1) {
  const res = await postJob(baseUrl, jobMessage(videoId, { mode: "keyframes" }, attempt));
  expect(res.status).toBe(200);
  const terminal = res.events.filter((e) => isFinalExtractEvent(e.type));
  expect(terminal).toHaveLength(1);
  expect(res.events[0]!.type).toBe("MSG_EXTRACT_SNAPSHOT_PROCESSING");
  const last = res.events.at(-1)!;
  expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
  if (last.type !== "MSG_EXTRACT_SNAPSHOT_ERROR") throw new Error("unreachable");
  expect(last.payload).toMatchObject({ videoId, userId: USER_ID, attempt });
  // No presigned URL, credential or local path leaks into what clients see.
  const text = JSON.stringify(last.payload);
  for (const secret of ["X-Amz-", "http://", ...mintedCredentialSecrets(), h.tmpDir, h.dataDir]) {
    expect(text).not.toContain(secret);
  }
  expect(await leftoverTempFiles(h)).toEqual([]);
  expect(await objectExists(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, attempt))).toBe(false);
  expect(await objectExists(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, attempt))).toBe(false);
  return last.payload;
}

async function healthz(baseUrl = h.url) {
  const res = await fetch(`${baseUrl}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; runningJobs: number } };
}

describe("unreadable sources end in one ERROR event", () => {
  it("a truncated MP4 (no moov atom): clear message, ffmpeg detail, server still healthy", async () => {
    await uploadSource(h, "truncated", testVideo("DERIVED_franck.truncated-50pct.mp4"));
    const error = await expectJobError(h.url, "truncated");
    expect(error.errorMessage).toBe("The file is not a readable video: moov atom not found");
    expect(error.errorDescription).toContain("moov atom not found");
    expect(error.errorDescription).toContain("<source>: Invalid data found when processing input");
    expect(await healthz()).toEqual({ status: 200, body: { ok: true, runningJobs: 0, waitingJobs: 0 } });
  });

  it("an audio-only Ogg: contains no video stream", async () => {
    await uploadSource(h, "audio-only", testVideo("sunflower-slow-drag.ogg"));
    const error = await expectJobError(h.url, "audio-only");
    expect(error.errorMessage).toMatch(/contains no video stream/);
    expect(error.errorDescription).toContain("audio:vorbis");
  });

  it("a missing source object", async () => {
    const error = await expectJobError(h.url, "never-uploaded");
    expect(error.errorMessage).toMatch(/not found/i);
  });

  it("a partly readable AVI (index missing) still yields the images it can decode", async () => {
    await uploadSource(h, "half-avi", testVideo("DERIVED_vtest.truncated-50pct.avi"));
    const res = await postJob(h.url, jobMessage("half-avi", { mode: "interval", intervalSeconds: 10 }));
    const last = res.events.at(-1)!;
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS") expect(last.payload.imageCount).toBe(4); // 0, 10, 20, 30 of ~39.8 s
    expect(await leftoverTempFiles(h)).toEqual([]);
  });

  it("no secret or presigned URL in the logs", () => {
    const text = JSON.stringify(h.logs);
    expect(text).not.toContain("X-Amz-Signature");
    for (const secret of mintedCredentialSecrets()) expect(text).not.toContain(secret);
    for (const l of h.logs.filter((l) => l.msg.startsWith("job "))) expect(l.fields.jobId).toMatch(/#\d+$/);
  });
});
